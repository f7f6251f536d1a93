// Package storetest gives tests a real, freshly migrated store on each engine:
// a SQLite file in a temporary directory, and a new PostgreSQL database on the
// server named by BEACON_TEST_POSTGRES. With BEACON_REQUIRE_POSTGRES=1 a
// missing server fails the test instead of skipping the PostgreSQL half.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

// Engine is one storage engine under test.
type Engine struct {
	Name string
	// Open returns a new, empty, migrated store that is closed (and dropped)
	// when the test ends.
	Open func(t testing.TB) *store.DB
	// DSN returns the DSN of a new, empty database without opening it.
	DSN func(t testing.TB) string
}

// Engines returns SQLite always and PostgreSQL when it is configured.
func Engines(t testing.TB) []Engine {
	es := []Engine{{Name: "sqlite", DSN: sqliteDSN}}
	if PostgresDSN(t) != "" {
		es = append(es, Engine{Name: "postgres", DSN: postgresDSN})
	}
	for i := range es {
		dsn := es[i].DSN
		es[i].Open = func(t testing.TB) *store.DB { return OpenDSN(t, dsn(t)) }
	}
	return es
}

// SQLite returns a new migrated SQLite store.
func SQLite(t testing.TB) *store.DB { return OpenDSN(t, sqliteDSN(t)) }

// PostgresDSN returns the configured server, skipping (or failing, when it is
// required) if there is none.
func PostgresDSN(t testing.TB) string {
	dsn := os.Getenv("BEACON_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("BEACON_REQUIRE_POSTGRES") == "1" {
			t.Fatal("BEACON_REQUIRE_POSTGRES=1 but BEACON_TEST_POSTGRES is empty")
		}
		return ""
	}
	return dsn
}

func sqliteDSN(t testing.TB) string { return filepath.Join(t.TempDir(), "beacon.db") }

// postgresDSN creates a database of its own for the test, so tests can run in
// parallel and always start from empty.
func postgresDSN(t testing.TB) string {
	base := PostgresDSN(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "beacon_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("postgres at BEACON_TEST_POSTGRES: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// OpenDSN opens and migrates the store a DSN names, closed when the test ends.
func OpenDSN(t testing.TB, dsn string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// HangGuard bounds how long a test waits for something to happen: it
// catches a hang, it does not measure speed, so it is long enough for any
// machine however busy (the race detector on two shared cores included).
// Tests wait for what they need and go on as soon as it holds.
const HangGuard = 2 * time.Minute
