package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/web"
)

// A queue parameter the page cannot take is said in the page, with a 400,
// the navigation and the form kept: the API refuses the same ones.
func TestQueueRefusesBadParameters(t *testing.T) {
	srv, _ := site(t)
	c := signedIn(t, srv)
	for query, says := range map[string]string{
		"tier=bogus":                    `tier &#34;bogus&#34;: pql has watching, warm, hot`,
		"offset=-1":                     "from 0 to 2147483647",
		"offset=abc":                    "offset &#34;abc&#34;",
		"offset=999999999999999999999":  "whole number",
		"sort=sideways":                 "want one of -score",
		"scorecard=nope":                "scorecard &#34;nope&#34;",
		"q=" + strings.Repeat("x", 201): "at most 200 bytes",
		"colour=red":                    "unknown parameter &#34;colour&#34;",
	} {
		resp, err := c.Get(srv.URL + "/?" + query)
		if err != nil {
			t.Fatal(err)
		}
		page := body(t, resp)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `role="alert"`) || !strings.Contains(page, says) ||
			!strings.Contains(page, `href="/?mine=1"`) || strings.Contains(page, "-9223372036854775808") {
			t.Errorf("?%s: %d, says %q: %v", query, resp.StatusCode, says, strings.Contains(page, says))
		}
	}
	resp, _ := c.Get(srv.URL + "/queue.csv?tier=bogus")
	if resp.Body.Close(); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("export with a bad tier: %d", resp.StatusCode)
	}
}

// The queue has a tab per account scorecard (the health score's lowest
// first), "My accounts" (owned or assigned), sorts with their tie-break in
// words, and an export of the view.
func TestQueueViews(t *testing.T) {
	srv, db := site(t)
	hash, _ := web.HashPassword("correct horse battery")
	if _, err := db.AddPerson(context.Background(), store.Person{Email: "dana@seller.example", Role: store.RoleMember,
		PasswordHash: hash, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	c := signedIn(t, srv, "dana@seller.example")
	resp, _ := c.Get(srv.URL + "/")
	page := body(t, resp)
	for _, want := range []string{`href="/?scorecard=health"`, `href="/?scorecard=expansion"`, "Account health queue",
		"sorted by Highest score, then rising momentum, more users active this week, the newest in the tier, the latest activity",
		`<option value="-momentum">Rising momentum</option>`, `href="/queue.csv?scorecard=pql"`, "Export as CSV",
		`class="spark"`, "dana@seller.example"} {
		if !strings.Contains(page, want) {
			t.Errorf("queue lacks %q", want)
		}
	}
	resp, _ = c.Get(srv.URL + "/?scorecard=health")
	if page := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(page, "Account health queue</h1>") ||
		!strings.Contains(page, "sorted by Lowest score") {
		t.Fatalf("health queue: %d", resp.StatusCode)
	}
	// dana owns acme, not globex.
	resp, _ = c.Get(srv.URL + "/?mine=1")
	page = body(t, resp)
	if !strings.Contains(page, `href="/accounts/acme"`) || strings.Contains(page, `href="/accounts/globex"`) ||
		!strings.Contains(page, ": my accounts</h1>") {
		t.Fatalf("my accounts:\n%s", page)
	}
	resp, _ = c.Get(srv.URL + "/queue.csv?sort=score")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
	}
	recs, err := csv.NewReader(strings.NewReader(body(t, resp))).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][0] != "globex" || recs[2][0] != "acme" {
		t.Fatalf("export, lowest first: %v (%v)", recs, err)
	}
}

// A rep snoozes an account with a reason: it leaves the queue, shows among
// the held with its note, and comes back when put back.
func TestSnoozeAndNotes(t *testing.T) {
	srv, db := site(t)
	c := signedIn(t, srv)
	resp, _ := c.Get(srv.URL + "/accounts/acme")
	m := csrfField.FindStringSubmatch(body(t, resp))
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		form.Set("csrf", m[1])
		resp, err := c.PostForm(srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, bad := range []url.Values{
		{"scorecard": {"pql"}, "kind": {"snooze"}, "until": {"2026-11-01"}, "reason": {"past"}},
		{"scorecard": {"pql"}, "kind": {"snooze"}, "until": {"2026-12-01"}, "reason": {""}},
		{"scorecard": {"champion"}, "kind": {"disqualify"}, "reason": {"users are not queued"}},
		{"scorecard": {"pql"}, "kind": {"forget"}, "reason": {"x"}},
	} {
		if resp := post("/accounts/acme/hold", bad); resp.Body.Close() != nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("hold %v: %d", bad, resp.StatusCode)
		}
	}
	resp = post("/accounts/acme/hold", url.Values{"scorecard": {"pql"}, "kind": {"snooze"}, "until": {"2026-12-01"},
		"reason": {"Budget review in December"}})
	if resp.Body.Close(); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("snooze: %d", resp.StatusCode)
	}
	resp, _ = c.Get(srv.URL + "/")
	if page := body(t, resp); strings.Contains(page, `href="/accounts/acme"`) {
		t.Fatal("a snoozed account is still in the queue")
	}
	resp, _ = c.Get(srv.URL + "/?held=1")
	if page := body(t, resp); !strings.Contains(page, `href="/accounts/acme"`) {
		t.Fatal("the snoozed account is not among the held")
	}
	resp = post("/accounts/acme/notes", url.Values{"body": {"Called <Ana>: call back after the review"}})
	if resp.Body.Close(); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("note: %d", resp.StatusCode)
	}
	resp, _ = c.Get(srv.URL + "/accounts/acme")
	page := body(t, resp)
	for _, want := range []string{"Snoozed on the Product Qualified Lead queue until 2026-12-01", "Budget review in December",
		"Called &lt;Ana&gt;: call back after the review", "ana@seller.example"} {
		if !strings.Contains(page, want) {
			t.Errorf("account page lacks %q", want)
		}
	}
	resp = post("/accounts/acme/release", url.Values{"scorecard": {"pql"}})
	if resp.Body.Close(); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("release: %d", resp.StatusCode)
	}
	resp, _ = c.Get(srv.URL + "/")
	if page := body(t, resp); !strings.Contains(page, `href="/accounts/acme"`) {
		t.Fatal("the account did not come back")
	}
	ns, err := db.Notes(context.Background(), "acme", 10)
	if err != nil || len(ns) != 3 || ns[0].Body != "Back in the pql queue." {
		t.Fatalf("notes: %+v (%v)", ns, err)
	}
	if resp := post("/accounts/nope/notes", url.Values{"body": {"x"}}); resp.Body.Close() != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a note on no account: %d", resp.StatusCode)
	}
}

// A user's page says who they are, how they were matched and their events;
// a CRM account's page shows the record and the workspaces linked to it;
// the docs the pages link to are served.
func TestUserCRMAndDocsPages(t *testing.T) {
	srv, db := site(t)
	ctx := context.Background()
	err := db.Project(ctx, func(tx store.IdentityTx) error {
		if err := tx.PutAccount(ctx, store.Account{ID: "crm:0010000015", Kind: store.KindCRM, Name: "ACME, Inc.", CRMID: "0010000015",
			Owner: "ines.okafor@seller.example", Traits: map[string]any{}}); err != nil {
			return err
		}
		a, err := tx.Account(ctx, "acme")
		if err != nil {
			return err
		}
		a.CRMID, a.CRMMethod, a.CRMConfidence = "crm:0010000015", store.MethodName, 0.96
		if err := tx.PutAccount(ctx, a); err != nil {
			return err
		}
		u, err := tx.User(ctx, "u1")
		if err != nil {
			return err
		}
		u.Traits = map[string]any{"name": "Ana Lima", "title": "CTO"}
		return tx.PutUser(ctx, u)
	})
	if err != nil {
		t.Fatal(err)
	}
	c := signedIn(t, srv)
	for path, wants := range map[string][]string{
		"/users/u1": {"<h1>Ana Lima", "CTO", "ana@acme.example", `href="/accounts/acme"`, "an explicit group call", "100 %"},
		"/accounts/crm:0010000015": {"CRM record", "0010000015", "ines.okafor@seller.example", "Workspaces linked to this record",
			`href="/accounts/acme"`, "its name, 96 % alike"},
		"/accounts/acme":   {`Linked to the CRM record <a href="/accounts/crm:0010000015">ACME, Inc.</a>`, "Ana Lima", "CTO"},
		"/docs/routing.md": {"# Routing"},
	} {
		resp, _ := c.Get(srv.URL + path)
		page := body(t, resp)
		for _, want := range wants {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/users/nobody", "/docs/nope.md", "/docs/..%2fgo.mod"} {
		resp, _ := c.Get(srv.URL + path)
		if page := body(t, resp); resp.StatusCode != http.StatusNotFound || !strings.Contains(page, `href="/?mine=1"`) {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}
