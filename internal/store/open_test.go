package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/beaconplg/beacon/internal/store"
)

// OpenExisting refuses a SQLite file that is not there, and leaves nothing
// behind; one that is there opens with what it holds.
func TestOpenExisting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo.db")
	if db, err := store.OpenExisting(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		if db != nil {
			db.Close()
		}
		t.Fatalf("open %s: %v, want not found", missing, err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("refused open left %d files behind", len(left))
	}

	path := filepath.Join(dir, "beacon.db")
	made, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := made.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	key := store.Key{Kind: "write", Name: "seen", Hash: []byte("hash of wk_seen"), Prefix: "wk_seen"}
	if _, err := made.CreateKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	made.Close()
	db, err := store.OpenExisting(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if k, err := db.KeyByHash(ctx, key.Hash); err != nil || k.Name != "seen" {
		t.Fatalf("key made before: %+v, %v", k, err)
	}
}
