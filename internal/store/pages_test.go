package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/beaconplg/beacon/internal/store"
)

// New files take the store's page size in WAL mode; a file made with
// another keeps it, and its events stay readable.
func TestSQLitePages(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		made int // page size the file was made with; 0: made by Open
		want int
	}{
		{"new file", 0, 16384},
		{"file of 4 KiB pages", 4096, 4096},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "beacon.db")
			if tc.made != 0 {
				for _, p := range []string{path, path + "-events"} {
					pre := raw(t, p)
					if _, err := pre.Exec(`PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE made_before (x)`); err != nil {
						t.Fatal(err)
					}
					pre.Close()
				}
			}
			db, err := store.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := db.AppendEvents(ctx, mixed("page", 3)); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-events"} {
				c := raw(t, p)
				var size int
				var mode string
				if err := c.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil {
					t.Fatal(err)
				}
				if err := c.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
					t.Fatal(err)
				}
				if size != tc.want || mode != "wal" {
					t.Errorf("%s: page size %d in mode %s, want %d in wal", filepath.Base(p), size, mode, tc.want)
				}
			}
			again, err := store.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if st, err := again.Stats(ctx); err != nil || st.Events != 3 {
				t.Errorf("reopened: %d events, %v; want 3", st.Events, err)
			}
		})
	}
}
