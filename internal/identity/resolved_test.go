package identity_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"testing"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// next records what identity hands on, and has room only when told.
type next struct {
	full  bool
	reads store.Bodies
	got   []identity.Resolved
}

func (n *next) Reads() store.Bodies          { return n.reads }
func (n *next) Resolved(r identity.Resolved) { n.got = append(n.got, r) }
func (n *next) Room() bool                   { return !n.full }
func (n *next) events() (names, users []string) {
	for _, r := range n.got {
		for i, e := range r.Events {
			names, users = append(names, e.Type+":"+e.Name+":"+string(e.Properties)), append(users, r.Users[i])
		}
	}
	return names, users
}

// Each commit hands on its events, with their users, the properties the
// next stage reads, and the visitors it tied to a user; a next stage
// without room holds identity back, and nothing is lost.
func TestIdentityHandsOnWhatItResolved(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			n := &next{full: true, reads: store.Bodies{Names: []string{"Report Viewed"}}}
			w := newWorld(t, e.Open(t))
			w.svc = identity.New(w.db, slog.New(slog.NewTextHandler(io.Discard, nil)), n)
			var evs []event.Event
			for _, m := range []map[string]any{
				map[string]any{"type": "page", "anonymousId": "anon-1", "name": "Pricing", "properties": map[string]any{"path": "/pricing"}},
				map[string]any{"type": "identify", "userId": "u1", "anonymousId": "anon-1", "traits": map[string]any{"email": "ana@acme.example"}},
				map[string]any{"type": "track", "anonymousId": "anon-1", "event": "Report Viewed", "properties": map[string]any{"plan": "team"}},
				map[string]any{"type": "track", "userId": "u1", "event": "Signed In", "properties": map[string]any{"via": "sso"}},
				map[string]any{"type": "page", "anonymousId": "anon-2", "name": "Home"}} {
				w.n++
				evs = append(evs, msg(t, w.n, m))
			}
			if _, err := w.db.AppendEvents(context.Background(), evs); err != nil {
				t.Fatal(err)
			}
			w.visible()
			if got, err := w.svc.Sync(context.Background()); err != nil || got != 0 || len(n.got) != 0 {
				t.Fatalf("with no room downstream identity took %d events (%v), handed on %d commits", got, err, len(n.got))
			}
			n.full = false
			w.sync()
			names, users := n.events()
			wantNames := []string{"page:Pricing:", "identify::", "track:Report Viewed:{\"plan\":\"team\"}", "track:Signed In:", "page:Home:"}
			wantUsers := []string{"", "u1", "u1", "u1", ""}
			if !slices.Equal(names, wantNames) || !slices.Equal(users, wantUsers) {
				t.Fatalf("handed on %q with users %q\nwant %q with %q", names, users, wantNames, wantUsers)
			}
			tied := map[string]string{}
			for _, r := range n.got {
				maps.Copy(tied, r.Aliased)
			}
			if !maps.Equal(tied, map[string]string{"anon-1": "u1"}) || n.got[0].From != (store.Cursor{}) ||
				n.got[len(n.got)-1].To != w.cursor() {
				t.Fatalf("tied %v; handed from %v to %v, identity at %v", tied, n.got[0].From, n.got[len(n.got)-1].To, w.cursor())
			}
		})
	}
}

// A bulk load takes more than a live pass does in one commit: 25,000
// events are one commit in bulk, two otherwise.
func TestBulkTakesLongerPasses(t *testing.T) {
	for _, c := range []struct {
		bulk    bool
		commits int
	}{{false, 2}, {true, 1}} {
		db := storetest.SQLite(t)
		evs := make([]event.Event, 25_000)
		for i := range evs {
			evs[i] = msg(t, i+1, map[string]any{"type": "track", "userId": fmt.Sprintf("u%d", i%20), "event": "Report Viewed"})
		}
		if _, err := db.AppendEvents(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
		n := &next{}
		svc := identity.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), n)
		if c.bulk {
			svc.Bulk()
		}
		if got, err := svc.Sync(context.Background()); err != nil || got != len(evs) || len(n.got) != c.commits {
			t.Fatalf("bulk %v: took %d of %d events in %d commits (%v), want %d commits", c.bulk, got, len(evs), len(n.got), err, c.commits)
		}
	}
}
