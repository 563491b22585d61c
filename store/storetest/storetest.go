// Package storetest gives tests a private, migrated PostgreSQL schema.
package storetest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the database/sql driver

	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/schema"
)

// MigratedURL creates a throwaway schema in the PostgreSQL at DATABASE_URL,
// migrates it, and returns a URL whose search_path points at it. The schema
// is dropped when the test ends; the test is skipped when PostgreSQL cannot
// be reached (`make test` starts it).
func MigratedURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		dsn = config.Default("DATABASE_URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	if err := admin.PingContext(ctx); err != nil {
		t.Skipf("PostgreSQL unavailable at DATABASE_URL: %v", err)
	}
	name := fmt.Sprintf("test_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + name + ` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	db, err := sqlx.Open("postgres", u.String())
	if err != nil {
		t.Fatalf("open schema: %v", err)
	}
	defer db.Close()
	if _, err := schema.Migrate(ctx, db.DB); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return u.String()
}
