package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// The database file catches up with the write-ahead log without the writer
// checkpointing: the writer's own checkpoint waits for 80 MB of log, far more
// than this test writes.
func TestSQLiteCheckpointsInBackground(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "beacon.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for b := range 10 {
		evs := make([]event.Event, 100)
		for i := range evs {
			evs[i] = track(fmt.Sprintf("m-%d-%d", b, i), fmt.Sprintf("user-%d", i), now)
		}
		if _, err := db.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	path += "-events" // where the events went
	peek, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer peek.Close()
	var pages, size int64
	if err := peek.QueryRow(`SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(storetest.HangGuard); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if size = fi.Size(); size >= pages {
			return
		}
	}
	t.Fatalf("database file holds %d of %d bytes: the log was not checkpointed", size, pages)
}
