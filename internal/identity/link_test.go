package identity_test

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// The CRM records of a world where names nearly collide: the measured cases
// of two companies whose names are 0.94–0.96 alike and whose domains differ.
var nearMisses = []identity.CRMAccount{
	{ID: "0010000015", Name: "AperturePied GmbH", Domains: []string{"aperturepied.example"}, Owner: "ines.okafor@seller.example"},
	{ID: "0010000016", Name: "Prestige Piper, Ltd", Domains: []string{"prestigepiper.example"}, Owner: "omar@seller.example"},
	{ID: "0010000017", Name: "Umbra Labs", Owner: "ana@seller.example"}, // no domains known
	{ID: "0010000018", Name: "Hooli", Domains: []string{"hooli.example"}, Owner: "gavin@seller.example",
		OpenOpportunity: true, Named: true, Employees: 2400, Industry: "Software"},
}

// A company name alike enough links a workspace or a user to a CRM record,
// but not against the evidence of domains: when both sides have business
// domains and share none, they are two companies.
func TestNameMatchYieldsToDomains(t *testing.T) {
	tests := []struct {
		name     string
		messages []map[string]any
		account  string
		wantCRM  string // the workspace's link, "" for none
		user     string
		wantUser []string
	}{
		{name: "workspace declaring another domain", messages: []map[string]any{
			{"type": "group", "userId": "u1", "groupId": "ws-1",
				"traits": map[string]any{"name": "Aperture Piper BV", "website": "aperturepiper.example"}},
		}, account: "ws-1"},
		{name: "workspace whose users write from another domain", messages: []map[string]any{
			identify("u2", "kay@prestigepied.example"),
			{"type": "group", "userId": "u2", "groupId": "ws-2", "traits": map[string]any{"name": "Prestige Pied Inc."}},
		}, account: "ws-2"},
		{name: "workspace with only personal addresses links by name", messages: []map[string]any{
			identify("u3", "lou@gmail.com"),
			{"type": "group", "userId": "u3", "groupId": "ws-3", "traits": map[string]any{"name": "Aperture Pied"}},
		}, account: "ws-3", wantCRM: "crm:0010000015"},
		{name: "record without domains links by name", messages: []map[string]any{
			identify("u4", "max@umbra.example"),
			{"type": "group", "userId": "u4", "groupId": "ws-4", "traits": map[string]any{"name": "Umbra Labs Inc."}},
		}, account: "ws-4", wantCRM: "crm:0010000017"},
		{name: "a subdomain is the same company", messages: []map[string]any{
			{"type": "group", "userId": "u5", "groupId": "ws-5",
				"traits": map[string]any{"name": "Prestige Pipers", "domain": "eu.prestigepiper.example"}},
		}, account: "ws-5", wantCRM: "crm:0010000016"},
		{name: "user at another business domain", messages: []map[string]any{
			identify("u6", "ned@aperturepiper.example", "company", "Aperture Piper BV"),
		}, user: "u6", wantUser: []string{"domain:aperturepiper.example/domain/0.80"}},
		{name: "user with a personal address", messages: []map[string]any{
			identify("u7", "ola@gmail.com", "company", "Aperture Pied"),
		}, user: "u7", wantUser: []string{"crm:0010000015/name/0.98"}},
	}
	names := make([]string, len(tests))
	for i, tc := range tests {
		names[i] = tc.name
	}
	inWorlds(t, names, func(t *testing.T, i int, w *world) {
		tc := tests[i]
		if err := w.svc.ImportCRM(context.Background(), nearMisses); err != nil {
			t.Fatal(err)
		}
		w.send(tc.messages...)
		if tc.account != "" {
			a, err := w.db.Account(context.Background(), tc.account)
			if err != nil {
				t.Fatal(err)
			}
			if a.CRMID != tc.wantCRM {
				t.Fatalf("%s is linked to %q (%s %.2f), want %q", a.Name, a.CRMID, a.CRMMethod, a.CRMConfidence, tc.wantCRM)
			}
		}
		if tc.user != "" {
			if got := w.links(tc.user); !reflect.DeepEqual(got, tc.wantUser) {
				t.Fatalf("links of %s = %v, want %v", tc.user, got, tc.wantUser)
			}
		}
	})
}

// A workspace linked to a CRM record is the record's for sales: its owner,
// open opportunity and place on the named list come from the CRM, and move
// when the CRM does; its own size and industry win where it sends them.
func TestLinkedWorkspaceInheritsCRM(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t, e.Open(t))
			if err := w.svc.ImportCRM(ctx, nearMisses); err != nil {
				t.Fatal(err)
			}
			account := func(id string) store.Account {
				t.Helper()
				a, err := w.db.Account(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
			w.send(map[string]any{"type": "group", "userId": "u1", "groupId": "ws-h",
				"traits": map[string]any{"name": "Hooli", "domain": "hooli.example", "industry": "Search"}})
			a := account("ws-h")
			if a.CRMID != "crm:0010000018" || a.Owner != "gavin@seller.example" || !a.OpenOpportunity || !a.Named ||
				a.Employees != 2400 || a.Industry != "Search" {
				t.Fatalf("linked workspace: %+v", a)
			}
			if got := identity.RecordID(a); got != "0010000018" {
				t.Fatalf("RecordID = %q, want the CRM's own id", got)
			}
			// The CRM moves the account to another owner and closes the deal.
			moved := nearMisses[3]
			moved.Owner, moved.OpenOpportunity = "monica@seller.example", false
			if err := w.svc.ImportCRM(ctx, []identity.CRMAccount{moved}); err != nil {
				t.Fatal(err)
			}
			if a := account("ws-h"); a.Owner != "monica@seller.example" || a.OpenOpportunity || !a.Named {
				t.Fatalf("after the CRM changed: %+v", a)
			}
			// Its own size, once sent, wins over the CRM's.
			w.send(map[string]any{"type": "group", "userId": "u1", "groupId": "ws-h", "traits": map[string]any{"employees": 150}})
			if a := account("ws-h"); a.Employees != 150 || a.Owner != "monica@seller.example" {
				t.Fatalf("after its own size: %+v", a)
			}
			// A workspace that loses its link loses what it inherited.
			w.send(map[string]any{"type": "group", "userId": "u2", "groupId": "ws-x",
				"traits": map[string]any{"name": "Hooli Inc"}})
			if a := account("ws-x"); a.CRMID != "crm:0010000018" || a.Owner == "" {
				t.Fatalf("ws-x before its rename: %+v", a)
			}
			w.send(map[string]any{"type": "group", "userId": "u2", "groupId": "ws-x",
				"traits": map[string]any{"name": "Pied Piper"}})
			if a := account("ws-x"); a.CRMID != "" || a.Owner != "" || a.Named || a.Employees != 0 {
				t.Fatalf("ws-x after its rename: %+v", a)
			}
		})
	}
}

// A store linked by older rules is relinked once when identity first runs:
// its workspaces take their records' owners.
func TestOldLinksAreRelinked(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := e.Open(t)
			w := newWorld(t, db)
			if err := w.svc.ImportCRM(ctx, nearMisses); err != nil {
				t.Fatal(err)
			}
			w.send(map[string]any{"type": "group", "userId": "u1", "groupId": "ws-1",
				"traits": map[string]any{"name": "Aperture Piper BV", "website": "aperturepiper.example"}})
			// As an older Beacon left it: linked by name against the domains,
			// nothing inherited.
			err := db.Project(ctx, func(tx store.IdentityTx) error {
				a, err := tx.Account(ctx, "ws-1")
				if err != nil {
					return err
				}
				a.CRMID, a.CRMMethod, a.CRMConfidence = "crm:0010000015", store.MethodName, 0.95
				if err := tx.PutAccount(ctx, a); err != nil {
					return err
				}
				return tx.SetCursor(ctx, identity.LinksName, store.Cursor{Seq: 1})
			})
			if err != nil {
				t.Fatal(err)
			}
			again := identity.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			if _, err := again.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if a, err := db.Account(ctx, "ws-1"); err != nil || a.CRMID != "" {
				t.Fatalf("after the relink: %+v (%v)", a, err)
			}
			// Once: the next start finds the store linked by these rules
			// and leaves it, and everyone's scores, alone.
			before, err := db.Cursor(ctx, identity.EpochName)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := identity.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), nil).Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if after, err := db.Cursor(ctx, identity.EpochName); err != nil || after != before {
				t.Fatalf("a restart relinked again: epoch %v, then %v (%v)", before, after, err)
			}
		})
	}
}
