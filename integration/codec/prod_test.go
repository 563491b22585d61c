package codec

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/deploy"
	"github.com/payflow/payflow/stack/scratchdb"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// buildShape builds the production shape's binaries (payflow from this tree,
// the Temporal server and schema tool go.mod pins) into a temporary
// directory, and finds the server's PostgreSQL schema.
func buildShape(t *testing.T) (binDir, schemaDir string) {
	t.Helper()
	binDir = t.TempDir()
	for name, pkg := range map[string]string{
		"payflow":           "github.com/payflow/payflow/cmd/payflow",
		"temporal-server":   "go.temporal.io/server/cmd/server",
		"temporal-sql-tool": "go.temporal.io/server/cmd/tools/sql",
	} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, name), pkg).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, out)
		}
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/server").Output()
	if err != nil {
		t.Fatal(err)
	}
	return binDir, filepath.Join(strings.TrimSpace(string(out)), "schema", "postgresql", "v12")
}

// rowsHolding counts the rows of every table of the database at dbURL whose
// text form holds s, as text or as bytes (bytea renders as hex).
func rowsHolding(t *testing.T, dbURL, s string) int {
	t.Helper()
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables, err := db.Query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		if err := tables.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	tables.Close()
	if len(names) == 0 {
		t.Fatalf("no tables in %s", dbURL)
	}
	total := 0
	for _, table := range names {
		var n int
		q := fmt.Sprintf(`SELECT count(*) FROM %q r WHERE strpos(r::text, $1) > 0 OR strpos(r::text, $2) > 0`, table)
		if err := db.QueryRow(q, s, hex.EncodeToString([]byte(s))).Scan(&n); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		total += n
	}
	return total
}

// The production shape: a real Temporal server on PostgreSQL, with payflow's
// api and worker processes encrypting payloads. Temporal's two databases
// hold none of the customer's data, though they hold the order (its
// workflow id, in text and in the history's bytes): the search does see
// what is there.
func TestTemporalPostgresHoldsNoCustomerDataInTheProductionShape(t *testing.T) {
	binDir, schemaDir := buildShape(t)
	dbURL, name, err := scratchdb.Create()
	if err != nil {
		t.Fatal(err)
	}
	temporalDB, visibilityDB := name+"_temporal", name+"_visibility"
	defer func() {
		for _, db := range []string{temporalDB, visibilityDB, name} {
			_ = scratchdb.Drop(db)
		}
	}()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	api, sandbox := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	shape, err := deploy.Start(ctx, deploy.Options{
		BinDir: binDir, SchemaDir: schemaDir, DataDir: t.TempDir(),
		DatabaseURL: dbURL, TemporalDB: temporalDB, VisibilityDB: visibilityDB,
		TemporalAddr: freeAddr(t), SandboxAddr: sandbox, APIAddrs: []string{api}, Workers: 1,
		Env: map[string]string{"PAYFLOW_ENV": "dev", "PAYFLOW_CODEC_KEYS": "prod-test:" + base64.StdEncoding.EncodeToString(key)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer shape.Stop()

	secrets, order := checkout(t, "http://"+api, "http://"+sandbox)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{temporalDB, visibilityDB} {
		u.Path = "/" + db
		for _, s := range secrets {
			if n := rowsHolding(t, u.String(), s); n > 0 {
				t.Errorf("%s: %d rows hold %q in the clear", db, n, s)
			}
		}
	}
	u.Path = "/" + temporalDB
	if rowsHolding(t, u.String(), order) == 0 {
		t.Fatalf("%s holds no row naming order %s: the search is blind", temporalDB, order)
	}
}
