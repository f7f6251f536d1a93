package cli

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/importer"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// resolved tells when identity hands on a commit.
type resolved chan identity.Resolved

func (r resolved) Reads() store.Bodies { return store.Bodies{} }
func (r resolved) Resolved(c identity.Resolved) {
	select {
	case r <- c:
	default: // identity never waits for the test
	}
}
func (r resolved) Room() bool { return true }

// An import resolves what it has stored while it goes on loading: the
// load here stores an event and waits for identity to hand on its commit,
// which it would wait for in vain if identity ran only after it.
func TestImportResolvesAsItLoads(t *testing.T) {
	db := storetest.SQLite(t)
	commits := make(resolved, 16)
	ids := identity.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), commits).Bulk()
	ctx := context.Background()
	_, err := resolving(ctx, ids, func() (importer.Summary, error) {
		e := event.Event{MessageID: "m-1", Type: event.Identify, UserID: "u-1", Timestamp: time.Now().UTC(), ReceivedAt: time.Now().UTC(),
			Traits: []byte(`{"email":"ana@acme.example"}`)}
		if _, err := db.AppendEvents(ctx, []event.Event{e}); err != nil {
			return importer.Summary{}, err
		}
		for {
			select {
			case c := <-commits:
				if len(c.Users) == 1 && c.Users[0] == "u-1" {
					return importer.Summary{}, nil
				}
			case <-time.After(storetest.HangGuard):
				t.Fatal("identity resolved nothing while the load went on")
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.User(ctx, "u-1"); err != nil {
		t.Fatalf("the user identity resolved: %v", err)
	}
}
