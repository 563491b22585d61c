// Package scratchdb creates and drops throwaway PostgreSQL databases next to
// DATABASE_URL's: the one way the in-process stack, the soak and the tests
// get a database of their own. It imports nothing of payflow but config, so
// the store's own tests can use it too.
package scratchdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/lib/pq" // the database/sql driver for the admin connection, and its error codes

	"github.com/payflow/payflow/config"
)

// AdminURL is the database the throwaway ones are created from:
// DATABASE_URL, or config's default.
func AdminURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return config.Default("DATABASE_URL")
}

// Create makes a fresh, empty database and returns its URL and name; Drop
// removes it. The error says so when PostgreSQL cannot be reached.
func Create() (dbURL, name string, err error) {
	admin := AdminURL()
	u, err := url.Parse(admin)
	if err != nil {
		return "", "", fmt.Errorf("DATABASE_URL: %w", err)
	}
	db, err := sql.Open("postgres", admin)
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	name = "payflow_test_" + randomHex(6)
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return "", "", fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	return u.String(), name, nil
}

// ErrUnavailable wraps the error of a PostgreSQL that does not answer.
var ErrUnavailable = errors.New("PostgreSQL unavailable at DATABASE_URL (is it running? `make test` and scripts/postgres.sh start it)")

// Drop removes a database made by Create, closing its connections first.
func Drop(name string) error {
	db, err := sql.Open("postgres", AdminURL())
	if err != nil {
		return err
	}
	defer db.Close()
	// FORCE ends the database's sessions, but not an autovacuum worker's,
	// which payflow's role may not signal (42501): it is gone in a moment.
	for attempt := 0; ; attempt++ {
		_, err = db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
		var pqErr *pq.Error
		if err == nil || attempt == 20 || !errors.As(err, &pqErr) || pqErr.Code != "42501" {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
