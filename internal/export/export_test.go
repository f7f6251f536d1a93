package export_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/export"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

func read(t *testing.T, dir, name string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// An export holds every event with the user identity resolved it to (a
// visitor's events before sign-up included), the users with whether their
// domain is a business's, the accounts and the links, on both engines.
func TestWrite(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	lines := []string{
		`{"type":"page","anonymousId":"a1","name":"Pricing","properties":{"path":"/pricing"}}`,
		`{"type":"identify","userId":"u1","anonymousId":"a1","traits":{"email":"ana@acme.example"}}`,
		`{"type":"group","userId":"u1","groupId":"acme","traits":{"name":"Acme","plan":"free"}}`,
		`{"type":"identify","userId":"u2","traits":{"email":"bo@gmail.com"}}`,
		`{"type":"page","anonymousId":"a9","name":"Home"}`,
	}
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := e.Open(t)
			var evs []event.Event
			for i, l := range lines {
				m := strings.Replace(l, "{", fmt.Sprintf(`{"messageId":"m%d","timestamp":%q,`, i, at.Add(time.Duration(i)*time.Minute).Format(time.RFC3339)), 1)
				ev, _, err := event.Decode([]byte(m), "", event.Envelope{ReceivedAt: at})
				if err != nil {
					t.Fatal(err)
				}
				evs = append(evs, ev)
			}
			if _, err := db.AppendEvents(ctx, evs); err != nil {
				t.Fatal(err)
			}
			ids := identity.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			deadline := time.Now().Add(storetest.HangGuard)
			for taken := 0; taken < len(evs); {
				n, err := ids.Sync(ctx)
				if err != nil || time.Now().After(deadline) {
					t.Fatalf("identity took %d of %d (%v)", taken, len(evs), err)
				}
				taken += n
			}
			dir := t.TempDir()
			sum, err := export.Write(ctx, db, dir)
			if err != nil || sum != (export.Summary{Events: 5, Users: 2, Accounts: sum.Accounts, Memberships: sum.Memberships}) {
				t.Fatalf("%+v, %v", sum, err)
			}
			got := read(t, dir, export.EventsFile)
			var users []string
			for _, r := range got[1:] {
				users = append(users, r[2]+":"+r[3]+"→"+r[4])
			}
			want := []string{"page:Pricing→u1", "identify:→u1", "group:→u1", "identify:→u2", "page:Home→"}
			if !slices.Equal(users, want) || got[1][7] != `{"path":"/pricing"}` || got[1][1] != fmt.Sprint(at.UnixMilli()) {
				t.Fatalf("events %q (first %q), want users %q", users, got[1], want)
			}
			if u := read(t, dir, export.UsersFile); !slices.Equal(u[1], []string{"u1", "acme.example", "true"}) ||
				!slices.Equal(u[2], []string{"u2", "gmail.com", "false"}) {
				t.Fatalf("users %q", u)
			}
			links := read(t, dir, export.MembershipsFile)
			var acme bool
			for _, l := range links[1:] {
				acme = acme || (l[0] == "u1" && l[1] == "acme" && l[2] == store.MethodGroup)
			}
			accounts := read(t, dir, export.AccountsFile)
			var traits string
			for _, a := range accounts[1:] {
				if a[0] == "acme" {
					traits = a[6]
				}
			}
			if !acme || !strings.Contains(traits, `"plan":"free"`) {
				t.Fatalf("links %q; accounts %q", links, accounts)
			}
			if s := read(t, dir, export.ScoresFile); len(s) != 1 || s[0][0] != "scorecard" {
				t.Fatalf("scores before any scoring: %q", s)
			}
		})
	}
}
