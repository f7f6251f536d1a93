package cli

import (
	"context"
	"os"
	"path/filepath"
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

// In Chromium, on the demo world: sign in, see the queue, acknowledge the
// top open alert, see it acknowledged, open the top account, the rules and
// the destinations.
func TestBrowserQueue(t *testing.T) {
	exec := chromium(t)
	a := newTestApp()
	base, db, secrets := serveDemo(t, a, 300, t.TempDir())
	waitOpenAlerts(t, db)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exec), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1440, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTime()

	var loginShot, queueShot, accountShot, rulesShot, destShot []byte
	var page string
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"), // redirected to sign in
		chromedp.WaitVisible(`#email`, chromedp.ByQuery),
		chromedp.CaptureScreenshot(&loginShot),
	)
	if err != nil {
		t.Fatalf("sign-in page: %v", err)
	}
	err = chromedp.Run(ctx,
		chromedp.SendKeys(`#email`, secrets.email, chromedp.ByQuery),
		chromedp.SendKeys(`#password`, secrets.password, chromedp.ByQuery),
		chromedp.Submit(`#password`, chromedp.ByQuery),
		chromedp.WaitVisible(`table.queue`, chromedp.ByQuery),
		chromedp.CaptureScreenshot(&queueShot),
		chromedp.Click(`form[action$="/ack"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`.acked`, chromedp.ByQuery),
		chromedp.OuterHTML(`main`, &page, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("queue: %v", err)
	}
	if !strings.Contains(page, "acknowledged by "+secrets.email) {
		t.Fatalf("no acknowledgement on the page:\n%s", page)
	}
	err = chromedp.Run(ctx,
		chromedp.Click(`table.queue a.name`, chromedp.ByQuery),
		chromedp.WaitVisible(`#people`, chromedp.ByQuery),
		chromedp.CaptureScreenshot(&accountShot),
		chromedp.OuterHTML(`main`, &page, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("account page: %v", err)
	}
	if !strings.Contains(page, "Who to call") || !strings.Contains(page, `class="chart"`) {
		t.Fatalf("account page:\n%s", page)
	}
	err = chromedp.Run(ctx,
		chromedp.Click(`a[href="/rules"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#signals`, chromedp.ByQuery),
		chromedp.CaptureScreenshot(&rulesShot),
		chromedp.Click(`a[href="/destinations"]`, chromedp.ByQuery), // the demo's person is an admin
		chromedp.WaitVisible(`h1`, chromedp.ByQuery),
		chromedp.CaptureScreenshot(&destShot),
		chromedp.OuterHTML(`main`, &page, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("rules and destinations: %v", err)
	}
	if !strings.Contains(page, "No destinations are configured") {
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
	dir := screenshots(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, shot := range map[string][]byte{"login.png": loginShot, "queue.png": queueShot,
		"account.png": accountShot, "rules.png": rulesShot, "destinations.png": destShot} {
		if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
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
