package identity_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// An event the store refuses is set aside and the projection goes on: the
// events around it, in the same batch and after it, are projected; the
// quarantine names it, its user and the engine's error; a retry before the
// fix fails again and counts the attempt, and a retry after it projects the
// event.
func TestQuarantineMovesOn(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			dsn := e.DSN(t)
			w := newWorld(t, storetest.OpenDSN(t, dsn))
			lift := storetest.Refuse(t, dsn, "users", "id", "poison")
			batch := []map[string]any{}
			for i := range 9 {
				uid := fmt.Sprintf("u%d", i)
				if i == 5 {
					uid = "poison"
				}
				batch = append(batch, identify(uid, uid+"@acme.example"))
			}
			w.send(batch...) // one append, one pass that fails, then halves
			w.send(identify("canary", "canary@canary.example"))
			for _, uid := range []string{"u0", "u4", "u6", "u8", "canary"} {
				wantUser(t, w, uid, func(store.User) bool { return true })
			}
			if _, err := w.db.User(context.Background(), "poison"); err == nil {
				t.Fatal("the refused user was stored")
			}
			q := openQuarantine(t, w, 1)[0]
			if q.Stage != store.StageIdentity || q.UserID != "poison" || q.MessageID != "m-6" ||
				q.Attempts != 1 || !strings.Contains(q.Error, "refused by the test") {
				t.Fatalf("quarantined: %+v", q)
			}
			if got := w.svc.Quarantined(); got != 1 {
				t.Fatalf("Quarantined() = %d, want 1", got)
			}

			r, err := w.svc.Retry(context.Background())
			if err != nil || r != (identity.Retried{Failed: 1}) {
				t.Fatalf("retry before the fix: %+v, %v", r, err)
			}
			if q := openQuarantine(t, w, 1)[0]; q.Attempts != 2 {
				t.Fatalf("attempts after a failed retry: %d, want 2", q.Attempts)
			}

			lift()
			r, err = w.svc.Retry(context.Background())
			if err != nil || r != (identity.Retried{Applied: 1}) {
				t.Fatalf("retry after the fix: %+v, %v", r, err)
			}
			wantUser(t, w, "poison", func(u store.User) bool { return u.Email == "poison@acme.example" })
			openQuarantine(t, w, 0)
			w.send(identify("after", "after@acme.example")) // the projection's cache knows of the retry
			wantUser(t, w, "after", func(store.User) bool { return true })
		})
	}
}

// When the quarantine itself cannot be written, the store is what fails,
// not the event: nothing is set aside or skipped, the pass fails, and once
// the store works the event is quarantined and the rest projected.
func TestQuarantineNeedsAWorkingStore(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			dsn := e.DSN(t)
			w := newWorld(t, storetest.OpenDSN(t, dsn))
			storetest.Refuse(t, dsn, "users", "id", "poison")
			liftQuarantine := storetest.Refuse(t, dsn, "quarantine", "stage", store.StageIdentity)
			evs := []map[string]any{identify("u1", "u1@acme.example"), identify("poison", "p@acme.example"),
				identify("u2", "u2@acme.example")}
			for i, m := range evs {
				if _, err := w.db.AppendEvents(context.Background(), []event.Event{msg(t, 100+i, m)}); err != nil {
					t.Fatal(err)
				}
			}
			w.n = 3
			w.visible()
			if _, err := w.svc.Sync(context.Background()); err == nil {
				t.Fatal("a pass that could not set the event aside succeeded")
			}
			if _, err := w.db.User(context.Background(), "u2"); err == nil {
				t.Fatal("the event after one neither projected nor quarantined was projected")
			}
			openQuarantine(t, w, 0)
			liftQuarantine()
			w.sync()
			wantUser(t, w, "u2", func(store.User) bool { return true })
			openQuarantine(t, w, 1)
		})
	}
}

func openQuarantine(t *testing.T, w *world, want int) []store.Quarantined {
	t.Helper()
	qs, err := w.db.QuarantinedList(context.Background(), store.QuarantineQuery{Open: true})
	if err != nil || len(qs) != want {
		t.Fatalf("open quarantine: %+v (%v), want %d rows", qs, err, want)
	}
	return qs
}
