// Package storetest gives tests a throwaway PostgreSQL database (made by
// stack/scratchdb, as the in-process stack makes its own).
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/payflow/payflow/schema"
	"github.com/payflow/payflow/stack/scratchdb"
)

// Database creates a fresh, empty database in the PostgreSQL at
// DATABASE_URL and returns its URL. The database is dropped when the test
// ends; the test is skipped when PostgreSQL cannot be reached (`make test`
// starts it).
func Database(t testing.TB) string {
	t.Helper()
	dbURL, name, err := scratchdb.Create()
	if errors.Is(err, scratchdb.ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := scratchdb.Drop(name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return dbURL
}

// MigratedURL is Database with payflow's migrations applied.
func MigratedURL(t testing.TB) string {
	t.Helper()
	dbURL := Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	if _, err := schema.Migrate(ctx, db.DB); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return dbURL
}
