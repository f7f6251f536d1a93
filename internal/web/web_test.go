package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beaconplg/beacon/docs"
	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/queue"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
	"github.com/beaconplg/beacon/internal/web"
)

type fixed struct{ r *score.Rules }

func (f fixed) Rules() *score.Rules { return f.r }

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// site serves the pages over a store holding one person, two scored
// accounts and an open alert on the hotter one.
func site(t *testing.T, opts ...func(*web.Deps)) (*httptest.Server, *store.DB) {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	hash, err := web.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddPerson(ctx, store.Person{Email: "Ana@Seller.example", Role: store.RoleMember, PasswordHash: hash, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	sp, err := score.Preset("pql-150")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := score.Compile(*sp)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Project(ctx, func(tx store.IdentityTx) error {
		if err := tx.PutAccount(ctx, store.Account{ID: "acme", Kind: store.KindGroup, Name: "Acme", Domains: []string{"acme.example"},
			Employees: 200, Owner: "dana@seller.example", Traits: map[string]any{}, CreatedAt: now.AddDate(0, 0, -30)}); err != nil {
			return err
		}
		if err := tx.PutUsers(ctx, []store.User{{ID: "u1", Email: "ana@acme.example", Traits: map[string]any{},
			FirstSeen: now.AddDate(0, 0, -30), LastSeen: now}}); err != nil {
			return err
		}
		return tx.PutMembership(ctx, store.Membership{UserID: "u1", AccountID: "acme", Method: store.MethodGroup,
			Confidence: 1, CreatedAt: now.AddDate(0, 0, -30)})
	})
	if err != nil {
		t.Fatal(err)
	}
	reasons, _ := json.Marshal([]score.Reason{{Rule: "a", Label: "Invited 2+ teammates", Points: 25},
		{Rule: "b", Label: "Created a project", Points: 30}, {Rule: "c", Label: "Viewed pricing <b>", Points: 10}})
	err = db.SaveScores(ctx, store.ScoreBatch{
		Scores: []store.Score{
			{Scorecard: "pql", Subject: "account:acme", Score: 85, Tier: "hot", Reasons: reasons, RulesVersion: rules.Version, UpdatedAt: now, TierSince: now,
				Signals: []byte(`{"seat_quota":0.9,"teammates_invited":3,"propensity":0.42}`)},
			{Scorecard: "pql", Subject: "account:globex", Score: 35, Tier: "watching", RulesVersion: rules.Version, UpdatedAt: now, TierSince: now},
		},
		History: []store.ScoreEvent{
			{Scorecard: "pql", Subject: "account:acme", At: now.AddDate(0, 0, -10), Score: 30, Tier: "watching", RulesVersion: rules.Version},
			{Scorecard: "pql", Subject: "account:acme", At: now.Add(-3 * time.Hour), Score: 85, Tier: "hot", PreviousTier: "watching", RulesVersion: rules.Version},
		},
		Alerts: []store.Alert{{Scorecard: "pql", Subject: "account:acme", Tier: "hot", Score: 85, Segment: "mid_market",
			Zone: "sales_available", Actions: []string{"ae_now"}, Payload: []byte(`{}`), CreatedAt: now.Add(-3 * time.Hour), NeedsAck: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	deps := web.Deps{Store: db, Rules: fixed{rules}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Clock: clock, Queues: queue.New(db, clock), Docs: docs.Files}
	for _, o := range opts {
		o(&deps)
	}
	w, err := web.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	w.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, db
}

func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

var loginToken = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login posts the sign-in form as a browser does: it opens the form first,
// for its token and cookie.
func login(t *testing.T, c *http.Client, base string, form url.Values) (*http.Response, error) {
	t.Helper()
	resp, err := c.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	m := loginToken.FindStringSubmatch(body(t, resp))
	if m == nil {
		t.Fatal("no token in the sign-in form")
	}
	form.Set("csrf", m[1])
	return c.PostForm(base+"/login", form)
}

// signedIn is a browser signed in as the site's person (or as email).
func signedIn(t *testing.T, srv *httptest.Server, email ...string) *http.Client {
	t.Helper()
	c := browser(t)
	who := append(email, "ana@seller.example")[0]
	resp, err := login(t, c, srv.URL, url.Values{"email": {who}, "password": {"correct horse battery"}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %v %v", resp, err)
	}
	resp.Body.Close()
	return c
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// Sign in, see the queue, acknowledge the alert, see it acknowledged, sign
// out; the queue wants a session, a wrong password is refused, a form
// without the session's token is refused.
func TestSignInQueueAck(t *testing.T) {
	srv, db := site(t)
	c := browser(t)
	resp, err := c.Get(srv.URL + "/")
	if err != nil || resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("queue without a session: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	resp, _ = login(t, c, srv.URL, url.Values{"email": {"ana@seller.example"}, "password": {"wrong password!"}})
	if page := body(t, resp); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "Wrong email or password") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	resp, _ = login(t, c, srv.URL, url.Values{"email": {"nobody@seller.example"}, "password": {"correct horse battery"}})
	if resp.Body.Close(); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown email: %d", resp.StatusCode)
	}
	resp, _ = login(t, c, srv.URL, url.Values{"email": {"ANA@seller.example"}, "password": {"correct horse battery"},
		"next": {"https://evil.example/"}})
	resp.Body.Close()
	var cookie string
	for _, c := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "beacon_session=") {
			cookie = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || !strings.Contains(cookie, "HttpOnly") ||
		!strings.Contains(cookie, "SameSite=Lax") {
		t.Fatalf("sign-in: %d to %q, cookie %q", resp.StatusCode, resp.Header.Get("Location"), cookie)
	}

	resp, _ = c.Get(srv.URL + "/")
	page := body(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "acme") || !strings.Contains(page, "globex") ||
		strings.Index(page, "acme") > strings.Index(page, "globex") || !strings.Contains(page, "Created a project") ||
		!strings.Contains(page, "Viewed pricing &lt;b&gt;") || !strings.Contains(page, `sla sla-warning`) ||
		!strings.Contains(page, "3 h") || !strings.Contains(page, "Acknowledge") ||
		!strings.Contains(page, "Mid-market (51-500 employees)") || strings.Count(page, `class="muted propensity"`) != 1 ||
		!strings.Contains(page, "model 42 %") {
		t.Fatalf("queue: %d\n%s", resp.StatusCode, page)
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token in the page")
	}
	as, _, _ := db.ListAlerts(context.Background(), store.AlertQuery{Limit: 1})
	ackURL := srv.URL + "/alerts/" + itoa(as[0].ID) + "/ack"
	resp, _ = c.PostForm(ackURL, url.Values{"csrf": {"forged"}, "back": {"/"}})
	if resp.Body.Close(); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("ack with a forged token: %d", resp.StatusCode)
	}
	resp, _ = c.PostForm(ackURL, url.Values{"csrf": {m[1]}, "back": {"/?tier=hot"}})
	if resp.Body.Close(); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?tier=hot" {
		t.Fatalf("ack: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = c.Get(srv.URL + "/?tier=hot")
	page = body(t, resp)
	if !strings.Contains(page, "acknowledged by ana@seller.example") || strings.Contains(page, "globex") {
		t.Fatalf("after the ack, hot only:\n%s", page)
	}

	resp, _ = c.PostForm(srv.URL+"/logout", url.Values{"csrf": {m[1]}})
	if resp.Body.Close(); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	resp, _ = c.Get(srv.URL + "/")
	if resp.Body.Close(); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the queue after sign-out: %d", resp.StatusCode)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Passwords shorter than 12 characters or longer than bcrypt reads are
// refused; others hash to something that is not the password.
func TestHashPassword(t *testing.T) {
	for pw, ok := range map[string]bool{"short": false, strings.Repeat("x", 11): false, strings.Repeat("x", 12): true,
		strings.Repeat("x", 72): true, strings.Repeat("x", 73): false} {
		h, err := web.HashPassword(pw)
		if (err == nil) != ok || (ok && strings.Contains(string(h), pw)) {
			t.Errorf("%d characters: %v", len(pw), err)
		}
	}
}

// The account page shows who the users are and how they were matched, the
// score with its reasons and history, quota use, alerts and their
// deliveries; an unknown account is a 404.
func TestAccountPage(t *testing.T) {
	srv, _ := site(t)
	c := signedIn(t, srv)
	resp, _ := c.Get(srv.URL + "/accounts/acme")
	page := body(t, resp)
	for _, want := range []string{"<h1>Acme", "acme.example", "ana@acme.example", "group, 100 %", `<svg class="chart"`,
		"from 30 to 85 over 2 changes", "Invited 2&#43; teammates", "seat", "90 % · near the limit",
		"Route immediately to an AE; respond in under 1 hour", "kept in Beacon", "Acknowledge", "none → Hot PQL",
		"Mid-market (51-500 employees) · Sales-available", `<svg class="activity"`} {
		if !strings.Contains(page, want) {
			t.Errorf("account page lacks %q", want)
		}
	}
	if t.Failed() || resp.StatusCode != http.StatusOK {
		t.Fatalf("%d\n%s", resp.StatusCode, page)
	}
	resp, _ = c.Get(srv.URL + "/accounts/nope")
	if page := body(t, resp); resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "No such account") ||
		!strings.Contains(page, `href="/?mine=1"`) {
		t.Fatalf("unknown account: %d, in the layout: %v", resp.StatusCode, strings.Contains(page, "My accounts"))
	}
}

// The rules page shows the rules in force: the seed rubric's rows with their
// points, the tiers with their routes, routing and signals.
func TestRulesPage(t *testing.T) {
	srv, _ := site(t)
	c := signedIn(t, srv)
	resp, _ := c.Get(srv.URL + "/rules")
	page := body(t, resp)
	for _, want := range []string{"Completed the core workflow (created a project)", `<td class="num">30</td>`,
		"Route immediately to an AE; respond in under 1 hour", "SMB (1-50 employees)", "employees &lt;= 50",
		"Product-led nurture only", "teammates_invited", "seat_limit"} {
		if !strings.Contains(page, want) {
			t.Errorf("rules page lacks %q", want)
		}
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d", resp.StatusCode)
	}
}

// Admins see each destination's deliveries and errors and can send the dead
// ones again; members may not.
func TestDestinationsPage(t *testing.T) {
	srv, db := site(t)
	ctx := context.Background()
	hash, _ := web.HashPassword("correct horse battery")
	if _, err := db.AddPerson(ctx, store.Person{Email: "root@seller.example", Role: store.RoleAdmin, PasswordHash: hash, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	storetest.DeadDelivery(t, db, "hook", "HTTP 410: gone", now)
	member := signedIn(t, srv)
	resp, _ := member.Get(srv.URL + "/destinations")
	if resp.Body.Close(); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a member sees destinations: %d", resp.StatusCode)
	}
	admin := signedIn(t, srv, "root@seller.example")
	resp, _ = admin.Get(srv.URL + "/destinations")
	page := body(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "HTTP 410: gone") || !strings.Contains(page, "dead 1") ||
		!strings.Contains(page, "no longer configured") {
		t.Fatalf("destinations: %d\n%s", resp.StatusCode, page)
	}
	m := csrfField.FindStringSubmatch(page)
	resp, _ = admin.PostForm(srv.URL+"/destinations/hook/retry", url.Values{"csrf": {m[1]}})
	if resp.Body.Close(); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: %d", resp.StatusCode)
	}
	if dead, _ := db.ListDeliveries(ctx, store.DeliveryQuery{State: store.Dead, Limit: 10}); len(dead) != 0 {
		t.Fatalf("still dead after retry: %+v", dead)
	}
}

// The queue searches by name or domain and filters by segment and owner;
// an alert can be assigned to a person who signs in, and to no one else.
func TestQueueFiltersAndAssign(t *testing.T) {
	srv, db := site(t)
	c := signedIn(t, srv)
	for query, want := range map[string]bool{"?q=ACM": true, "?q=acme.example": true, "?q=%25": false, "?q=zzz": false,
		"?segment=mid_market": true, "?segment=smb": false, "?owner=dana%40seller.example": true, "?owner=bo": false} {
		resp, _ := c.Get(srv.URL + "/" + query)
		page := body(t, resp)
		if got := strings.Contains(page, `href="/accounts/acme"`); got != want {
			t.Errorf("%s: acme listed %v, want %v", query, got, want)
		}
	}
	resp, _ := c.Get(srv.URL + "/")
	m := csrfField.FindStringSubmatch(body(t, resp))
	as, _, _ := db.ListAlerts(context.Background(), store.AlertQuery{Limit: 1})
	assign := srv.URL + "/alerts/" + itoa(as[0].ID) + "/assign"
	resp, _ = c.PostForm(assign, url.Values{"csrf": {m[1]}, "to": {"nobody@seller.example"}, "back": {"/"}})
	if resp.Body.Close(); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("assign to a stranger: %d", resp.StatusCode)
	}
	resp, _ = c.PostForm(assign, url.Values{"csrf": {m[1]}, "to": {"Ana@Seller.example"}, "back": {"/"}})
	if resp.Body.Close(); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("assign: %d", resp.StatusCode)
	}
	resp, _ = c.Get(srv.URL + "/")
	if page := body(t, resp); !strings.Contains(page, `<option value="ana@seller.example" selected>`) {
		t.Fatalf("assignment not shown:\n%s", page)
	}
}

// The account's timeline pages back 50 events at a time, newest first, and
// every event shows once.
func TestTimelinePaging(t *testing.T) {
	srv, db := site(t)
	ctx := context.Background()
	var evs []event.Event
	for i := range 60 {
		evs = append(evs, event.Event{MessageID: fmt.Sprint("m", i), Type: event.Track, Name: fmt.Sprintf("E%02d", i), UserID: "u1",
			Timestamp: now.Add(time.Duration(i) * time.Minute), ReceivedAt: now, Body: []byte(`{}`)})
	}
	if _, err := db.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	stored, _, err := db.EventsAfter(ctx, store.Cursor{}, 100)
	if err != nil || len(stored) != 60 {
		t.Fatalf("stored %d: %v", len(stored), err)
	}
	err = db.Project(ctx, func(tx store.IdentityTx) error {
		refs := make([]store.EventRef, len(stored))
		for i, e := range stored {
			refs[i] = store.EventRef{Key: "user:u1", TS: e.Timestamp, Seq: e.Seq}
		}
		return tx.IndexEvents(ctx, refs)
	})
	if err != nil {
		t.Fatal(err)
	}
	c := signedIn(t, srv)
	names := regexp.MustCompile(`<td>track</td><td class="ev">(E\d\d)</td>`)
	older := regexp.MustCompile(`href="(/accounts/acme\?before=[0-9.]+)#timeline"`)
	resp, _ := c.Get(srv.URL + "/accounts/acme")
	first := body(t, resp)
	page1 := names.FindAllStringSubmatch(first, -1)
	m := older.FindStringSubmatch(first)
	if len(page1) != 50 || page1[0][1] != "E59" || page1[49][1] != "E10" || m == nil {
		t.Fatalf("first page: %d events, older link %v", len(page1), m)
	}
	resp, _ = c.Get(srv.URL + strings.ReplaceAll(m[1], "&amp;", "&"))
	second := body(t, resp)
	page2 := names.FindAllStringSubmatch(second, -1)
	if len(page2) != 10 || page2[0][1] != "E09" || page2[9][1] != "E00" || older.MatchString(second) || !strings.Contains(second, ">Newest</a>") {
		t.Fatalf("second page: %v", page2)
	}
	// Newer pages forward again from the second page: the 50 after E09.
	newer := regexp.MustCompile(`href="(/accounts/acme\?after=[0-9.]+)#timeline"`).FindStringSubmatch(second)
	if newer == nil {
		t.Fatal("no Newer link on the second page")
	}
	resp, _ = c.Get(srv.URL + newer[1])
	back := names.FindAllStringSubmatch(body(t, resp), -1)
	if len(back) != 50 || back[0][1] != "E59" || back[49][1] != "E10" {
		t.Fatalf("newer from the second page: %d events, %v … %v", len(back), back[0], back[len(back)-1])
	}
	// Filters: an event name (any case), a user; what they cannot take is
	// said on the page.
	resp, _ = c.Get(srv.URL + "/accounts/acme?event=e07")
	if got := names.FindAllStringSubmatch(body(t, resp), -1); len(got) != 1 || got[0][1] != "E07" {
		t.Fatalf("filtered by event name: %v", got)
	}
	resp, _ = c.Get(srv.URL + "/accounts/acme?user=u1&event=Nothing")
	if page := body(t, resp); len(names.FindAllStringSubmatch(page, -1)) != 0 || !strings.Contains(page, "No events match") {
		t.Fatal("a filter matching nothing")
	}
	for _, bad := range []string{"?user=stranger", "?before=yesterday", "?before=1.1&after=1.1"} {
		resp, _ = c.Get(srv.URL + "/accounts/acme" + bad)
		if page := body(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `role="alert"`) {
			t.Errorf("timeline %s: %d", bad, resp.StatusCode)
		}
	}
}

// After sign-in Beacon only sends the browser to its own pages.
func TestSignInRedirectStaysHome(t *testing.T) {
	srv, _ := site(t)
	for next, want := range map[string]string{"/?tier=hot": "/?tier=hot", "https://evil.example/": "/", "//evil.example": "/",
		"/\\evil.example": "/", "javascript:alert(1)": "/", "": "/"} {
		c := browser(t)
		resp, err := login(t, c, srv.URL, url.Values{"email": {"ana@seller.example"}, "password": {"correct horse battery"},
			"next": {next}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("next %q: sent to %q, want %q", next, got, want)
		}
	}
}

// Five wrong passwords for an email stop it signing in, even with the right
// one, for fifteen minutes; other emails are not held back.
func TestSignInThrottle(t *testing.T) {
	srv, _ := site(t)
	try := func(email, pw string) int {
		resp, err := login(t, browser(t), srv.URL, url.Values{"email": {email}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 5 {
		if code := try("ana@seller.example", "a wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", code)
		}
	}
	if code := try("ANA@seller.example", "correct horse battery"); code != http.StatusTooManyRequests {
		t.Fatalf("the right password after five wrong ones: %d", code)
	}
	if code := try("someone@seller.example", "a wrong password"); code != http.StatusUnauthorized {
		t.Fatalf("another email: %d", code)
	}
}

// Fifty wrong passwords sent at once for one email: at most five are
// checked, the rest are refused with 429 without a check, and the email
// is then locked, the right password included.
func TestSignInThrottleParallel(t *testing.T) {
	srv, _ := site(t)
	codes := make(chan int, 50)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := login(t, browser(t), srv.URL, url.Values{"email": {"ana@seller.example"}, "password": {"a wrong password"}})
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	counts := map[int]int{}
	for c := range codes {
		counts[c]++
	}
	if counts[http.StatusUnauthorized] > 5 || counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests] != 50 {
		t.Fatalf("50 parallel wrong passwords: %v, want at most 5 checked (401) and the rest 429", counts)
	}
	resp, err := login(t, browser(t), srv.URL, url.Values{"email": {"ana@seller.example"}, "password": {"correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Body.Close(); counts[http.StatusUnauthorized] == 5 && resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the right password after five failures at once: %d", resp.StatusCode)
	}
}

// A sign-in posted without the token of a form Beacon gave (from another
// site, say) is refused, and the sign-in page is never cached.
func TestSignInFormToken(t *testing.T) {
	srv, _ := site(t)
	form := url.Values{"email": {"ana@seller.example"}, "password": {"correct horse battery"}}
	resp, err := browser(t).PostForm(srv.URL+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	if page := body(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "stale or was not sent from Beacon") {
		t.Fatalf("a sign-in without a form: %d", resp.StatusCode)
	}
	c := browser(t)
	resp, _ = c.Get(srv.URL + "/login")
	page := body(t, resp)
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("/login is cacheable: %q", resp.Header.Get("Cache-Control"))
	}
	m := loginToken.FindStringSubmatch(page)
	form.Set("csrf", m[1]+"x")
	resp, _ = c.PostForm(srv.URL+"/login", form)
	if resp.Body.Close(); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a sign-in with a forged token: %d", resp.StatusCode)
	}
	if resp, _ := login(t, c, srv.URL, form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a sign-in with its form's token: %d", resp.StatusCode)
	}
}

// What the stages set aside about an account or a person shows on its
// page, and only on its page.
func TestQuarantineNotice(t *testing.T) {
	srv, db := site(t)
	c := signedIn(t, srv)
	ctx := context.Background()
	err := db.SaveScores(ctx, store.ScoreBatch{Quarantined: []store.Quarantined{{Stage: store.StageScoring, AccountID: "acme",
		Error: "scorecard pql: rule many_seats: invalid operation", LastAt: now.Add(-time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Project(ctx, func(tx store.IdentityTx) error {
		return tx.Quarantine(ctx, store.Quarantined{Stage: store.StageIdentity, Seq: 7, MessageID: "m-7", UserID: "u1",
			Error: "refused", LastAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	page := func(path string) string {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return body(t, resp)
	}
	acme, u1 := page("/accounts/acme"), page("/users/u1")
	for _, want := range []string{"Set aside", "Not scored; the scores shown are the last it had", "rule many_seats: invalid operation"} {
		if !strings.Contains(acme, want) {
			t.Errorf("account page lacks %q", want)
		}
	}
	if strings.Contains(acme, "m-7") || !strings.Contains(u1, `Event <span class="id">m-7</span>, not projected`) ||
		strings.Contains(u1, "many_seats") {
		t.Errorf("the notices are not each on their own subject's page:\n%s", u1)
	}
}

// The audit log page is an admin's: it lists sign-ins and what admins did,
// and a member is refused it.
func TestAuditPage(t *testing.T) {
	srv, db := site(t)
	hash, err := web.HashPassword("another horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddPerson(context.Background(), store.Person{Email: "root@seller.example", Role: store.RoleAdmin,
		PasswordHash: hash, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	member := signedIn(t, srv)
	resp, _ := member.Get(srv.URL + "/audit")
	if page := body(t, resp); resp.StatusCode != http.StatusForbidden || strings.Contains(page, "signed in") {
		t.Fatalf("a member's audit page: %d", resp.StatusCode)
	}
	admin := browser(t)
	resp, err = login(t, admin, srv.URL, url.Values{"email": {"root@seller.example"}, "password": {"another horse battery"}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin sign-in: %v %v", resp, err)
	}
	resp, _ = login(t, browser(t), srv.URL, url.Values{"email": {"ana@seller.example"}, "password": {"wrong"}})
	resp.Body.Close()
	resp, _ = admin.Get(srv.URL + "/destinations")
	m := csrfField.FindStringSubmatch(body(t, resp))
	if m == nil {
		t.Fatal("no CSRF token on the destinations page")
	}
	resp, _ = admin.PostForm(srv.URL+"/destinations/hook/retry", url.Values{"csrf": {m[1]}})
	resp.Body.Close()
	resp, _ = admin.Get(srv.URL + "/audit")
	page := body(t, resp)
	for _, want := range []string{"ana@seller.example</td><td>signed in", "root@seller.example</td><td>signed in",
		"ana@seller.example</td><td>sign-in failed", "root@seller.example</td><td>deliveries retried</td><td>destination hook"} {
		if !strings.Contains(page, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(page)
	}
}

// The response-times page measures alert → acknowledgement and alert →
// outreach (as the CRM recorded it) side by side, in all and by segment.
func TestResponsePage(t *testing.T) {
	srv, db := site(t)
	ctx := context.Background()
	als, _, err := db.ListAlerts(ctx, store.AlertQuery{Limit: 1})
	if err != nil || len(als) != 1 {
		t.Fatalf("alerts: %v %v", als, err)
	}
	c := signedIn(t, srv)
	page := func() string {
		resp, err := c.Get(srv.URL + "/response")
		if err != nil {
			t.Fatal(err)
		}
		return body(t, resp)
	}
	before := page()
	if !strings.Contains(before, `<th scope="row">Outreach</th><td class="num">0</td><td class="num">1</td><td>none yet</td>`) {
		t.Fatalf("before any outreach:\n%s", before)
	}
	if err := db.RecordOutreach(ctx, als[0].ID, als[0].CreatedAt.Add(30*time.Minute), "hubspot", now); err != nil {
		t.Fatal(err)
	}
	after := page()
	for _, want := range []string{`<th scope="row">Outreach</th><td class="num">1</td><td class="num">0</td><td>30 min</td>`,
		`<th scope="row">mid_market</th><td class="num">1</td>`, "By owner"} {
		if !strings.Contains(after, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(after)
	}
}
