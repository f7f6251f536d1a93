package cli

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/importer"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// An import resolves what it has stored while it goes on loading: the
// load here stores an event and waits for identity to make its user,
// which it would wait for in vain if identity ran only after it.
func TestImportResolvesAsItLoads(t *testing.T) {
	db := storetest.SQLite(t)
	ids := newTestApp().identity(db, nil).Bulk()
	ctx := context.Background()
	_, err := resolving(ctx, ids, func() (importer.Summary, error) {
		e := event.Event{MessageID: "m-1", Type: event.Identify, UserID: "u-1", Timestamp: time.Now().UTC(), ReceivedAt: time.Now().UTC(),
			Traits: []byte(`{"email":"ana@acme.example"}`)}
		if _, err := db.AppendEvents(ctx, []event.Event{e}); err != nil {
			return importer.Summary{}, err
		}
		deadline := time.Now().Add(storetest.HangGuard)
		for {
			if _, err := db.User(ctx, "u-1"); err == nil {
				return importer.Summary{}, nil
			} else if !errors.Is(err, store.ErrNotFound) {
				return importer.Summary{}, err
			}
			if time.Now().After(deadline) {
				t.Fatal("identity made no user while the load went on")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}
