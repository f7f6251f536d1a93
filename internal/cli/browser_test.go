package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// chromium returns the browser the tests drive: BEACON_CHROMIUM (set by
// scripts/test, which installs Debian's chromium when it is missing).
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("BEACON_CHROMIUM")
	if path == "" {
		if os.Getenv("BEACON_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("BEACON_CHROMIUM is not set; run scripts/test")
		}
		t.Skip("BEACON_CHROMIUM is not set: scripts/test installs Chromium and sets it")
	}
	return path
}

// screenshots is where the browser tests save each page, for the README,
// when BEACON_UPDATE_SCREENSHOTS is set; otherwise into the test's own
// temporary directory, so that a test run leaves the tree as it found it.
func screenshots(t *testing.T) string {
	if os.Getenv("BEACON_UPDATE_SCREENSHOTS") != "" {
		return "../../docs/screenshots"
	}
	return t.TempDir()
}

// In Chromium, on the demo world, a rep's morning: sign in, acknowledge the
// top open alert, open "My accounts", sort it by momentum, open the top
// account, snooze it and see it leave the queue, open one of its people;
// then the rules and the destinations. Each page is saved as a screenshot.
func TestBrowserQueue(t *testing.T) {
	exec := chromium(t)
	a := newTestApp()
	base, db, secrets := serveDemo(t, a, 300, t.TempDir())
	waitOpenAlerts(t, db)
	waitMine(t, db, secrets.email)

	br := newBrowser(t, exec)
	shot, run := br.shot, br.run

	run("sign-in page", chromedp.Navigate(base+"/"), // redirected to sign in
		chromedp.WaitVisible(`#email`, chromedp.ByQuery), shot("login.png"))
	page := run("queue",
		chromedp.SendKeys(`#email`, secrets.email, chromedp.ByQuery),
		chromedp.SendKeys(`#password`, secrets.password, chromedp.ByQuery),
		chromedp.Submit(`#password`, chromedp.ByQuery),
		chromedp.WaitVisible(`table.queue`, chromedp.ByQuery),
		shot("queue.png"),
		chromedp.Click(`form[action$="/ack"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`.acked`, chromedp.ByQuery))
	if !strings.Contains(page, "acknowledged by "+secrets.email) || !strings.Contains(page, "then rising momentum") {
		t.Fatalf("no acknowledgement or tie-break on the page:\n%s", page)
	}

	page = run("my accounts by momentum",
		chromedp.Click(`nav[aria-label="Main"] a[href="/?mine=1"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`h1`, chromedp.ByQuery),
		chromedp.SetValue(`#sort`, "-momentum", chromedp.ByQuery),
		chromedp.Submit(`#sort`, chromedp.ByQuery),
		chromedp.WaitVisible(`table.queue`, chromedp.ByQuery))
	if !strings.Contains(page, ": my accounts</h1>") || !strings.Contains(page, "sorted by Rising momentum") {
		t.Fatalf("my accounts by momentum:\n%s", page)
	}
	momenta := momentumOf(page)
	if len(momenta) == 0 || !slices.IsSortedFunc(momenta, func(x, y int) int { return y - x }) {
		t.Fatalf("momentum of my accounts, top first: %v", momenta)
	}
	top := firstAccount.FindStringSubmatch(page)
	if top == nil {
		t.Fatalf("no account in my accounts:\n%s", page)
	}

	until := time.Now().AddDate(0, 0, 21).Format(time.DateOnly)
	page = run("account",
		chromedp.Click(`table.queue a.name`, chromedp.ByQuery),
		chromedp.WaitVisible(`#people`, chromedp.ByQuery),
		shot("account.png"),
		chromedp.SetValue(`#hold-kind`, "snooze", chromedp.ByQuery),
		chromedp.SetValue(`#hold-until`, until, chromedp.ByQuery),
		chromedp.SendKeys(`#hold-reason`, "Budget review after the holidays", chromedp.ByQuery),
		chromedp.Submit(`#hold-reason`, chromedp.ByQuery),
		chromedp.WaitVisible(`.holds`, chromedp.ByQuery))
	if !strings.Contains(page, "Snoozed on the Product Qualified Lead queue until "+until) || !strings.Contains(page, `class="chart"`) ||
		!strings.Contains(page, `class="activity"`) {
		t.Fatalf("the snoozed account page:\n%s", page)
	}

	page = run("my accounts after the snooze",
		chromedp.Navigate(base+"/?mine=1&sort=-momentum"),
		chromedp.WaitVisible(`table.queue`, chromedp.ByQuery))
	if strings.Contains(page, `href="/accounts/`+top[1]+`"`) {
		t.Fatalf("%s is still in my accounts after its snooze", top[1])
	}
	page = run("the snoozed", chromedp.Navigate(base+"/?held=1"), chromedp.WaitVisible(`table.queue`, chromedp.ByQuery))
	if !strings.Contains(page, `href="/accounts/`+top[1]+`"`) {
		t.Fatalf("%s is not among the snoozed", top[1])
	}

	page = run("user page",
		chromedp.Navigate(base+"/accounts/"+top[1]),
		chromedp.Click(`#people ~ table a[href^="/users/"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#matched`, chromedp.ByQuery),
		shot("user.png"))
	if !strings.Contains(page, `href="/accounts/`+top[1]+`"`) || !strings.Contains(page, "Accounts and how they were matched") {
		t.Fatalf("user page:\n%s", page)
	}

	page = run("rules and destinations",
		chromedp.Click(`a[href="/rules"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#signals`, chromedp.ByQuery),
		shot("rules.png"),
		chromedp.Click(`a[href="/destinations"]`, chromedp.ByQuery), // the demo's person is an admin
		chromedp.WaitVisible(`h1`, chromedp.ByQuery),
		shot("destinations.png"))
	if !strings.Contains(page, "No destinations are configured") || !strings.Contains(page, `href="/docs/routing.md"`) {
		t.Fatalf("destinations page:\n%s", page)
	}
	open, _, err := db.ListAlerts(context.Background(), store.AlertQuery{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	acked := 0
	for _, al := range open {
		if al.AckedBy == secrets.email {
			acked++
		}
	}
	if acked != 1 {
		t.Fatalf("%d alerts acknowledged by %s, want 1", acked, secrets.email)
	}
	br.save()
}

// browser is a Chromium session for a test, and the screenshots it took.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots map[string]*[]byte
}

// newBrowser starts Chromium for t; it stops when t ends.
func newBrowser(t *testing.T, exec string) *browser {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exec), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1440, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelTime := context.WithTimeout(ctx, storetest.HangGuard)
	t.Cleanup(cancelTime)
	return &browser{t: t, ctx: ctx, shots: map[string]*[]byte{}}
}

// shot takes a screenshot of the page, saved as name.
func (b *browser) shot(name string) chromedp.Action {
	var buf []byte
	b.shots[name] = &buf
	return chromedp.CaptureScreenshot(&buf)
}

// fullShot takes a screenshot of the whole page, saved as name.
func (b *browser) fullShot(name string) chromedp.Action {
	var buf []byte
	b.shots[name] = &buf
	return chromedp.FullScreenshot(&buf, 100) // 100: PNG
}

// run runs actions and returns the page's main element.
func (b *browser) run(what string, actions ...chromedp.Action) string {
	b.t.Helper()
	var page string
	if err := chromedp.Run(b.ctx, append(actions, chromedp.OuterHTML(`main`, &page, chromedp.ByQuery))...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return page
}

// signIn signs in from the sign-in page, and lands on the queue.
func (b *browser) signIn(base, email, password string, then ...chromedp.Action) string {
	return b.run("sign in", append([]chromedp.Action{chromedp.Navigate(base + "/"),
		chromedp.WaitVisible(`#email`, chromedp.ByQuery),
		chromedp.SendKeys(`#email`, email, chromedp.ByQuery),
		chromedp.SendKeys(`#password`, password, chromedp.ByQuery),
		chromedp.Submit(`#password`, chromedp.ByQuery),
		chromedp.WaitVisible(`table.queue`, chromedp.ByQuery)}, then...)...)
}

// save writes the screenshots (see screenshots).
func (b *browser) save() {
	dir := screenshots(b.t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	for name, buf := range b.shots {
		if err := os.WriteFile(filepath.Join(dir, name), *buf, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

var (
	firstAccount = regexp.MustCompile(`<a class="name" href="/accounts/([^"]+)"`)
	momentumCell = regexp.MustCompile(`<span class="momentum [a-z]+"[^>]*>([^<]+)</span>`)
)

// momentumOf reads the momentum column of a queue page, top to bottom.
func momentumOf(page string) []int {
	var out []int
	for _, m := range momentumCell.FindAllStringSubmatch(page, -1) {
		v := strings.NewReplacer("&#43;", "", "+", "", "−", "-").Replace(m[1])
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return nil
		}
		out = append(out, n)
	}
	return out
}

// waitMine waits until scoring has put some of the accounts email owns in
// the queue.
func waitMine(t *testing.T, db *store.DB, email string) {
	t.Helper()
	for deadline := time.Now().Add(storetest.HangGuard); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, n, err := db.ListScores(context.Background(), store.ScoreQuery{Scorecard: "pql", Kind: "account", Mine: email,
			Sort: "-score", Limit: 1, Now: time.Now()})
		if err == nil && n > 0 {
			return
		}
	}
	t.Fatalf("no account of %s in the queue", email)
}

// waitOpenAlerts waits until scoring has raised alerts that need a person.
func waitOpenAlerts(t *testing.T, db *store.DB) {
	t.Helper()
	deadline := time.Now().Add(storetest.HangGuard)
	for time.Now().Before(deadline) {
		if _, n, err := db.ListAlerts(context.Background(), store.AlertQuery{Open: true, Limit: 1}); err == nil && n > 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no open alerts a minute after start")
}
