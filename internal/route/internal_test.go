package route

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/beaconplg/beacon/internal/alert"
	"github.com/beaconplg/beacon/internal/store"
)

// buggy panics on any batch that holds the delivery with id bad, as a bug
// one delivery's payload triggers would; it delivers the others.
type buggy struct{ bad int64 }

func (b buggy) Send(_ context.Context, ds []store.Delivery) []error {
	for _, d := range ds {
		if d.ID == b.bad {
			var m map[int64]bool
			m[d.ID] = true
		}
	}
	return make([]error, len(ds))
}

// A delivery whose sending panics is dead, with the panic as its error;
// the others of its batch are delivered. Both where a destination sends a
// batch at once (CRMs) and where it sends deliveries in goroutines
// (webhooks, Slack).
func TestOneDeliveryThatPanics(t *testing.T) {
	ds := []store.Delivery{{ID: 1}, {ID: 2}, {ID: 3}}
	d := &Dispatcher{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	batched := d.send(context.Background(), &destination{sender: buggy{bad: 2}}, ds)
	one := each(context.Background(), newPacer(0), ds, func(_ context.Context, dl store.Delivery) error {
		return buggy{bad: 2}.Send(context.Background(), []store.Delivery{dl})[0]
	})
	for name, errs := range map[string][]error{"a batch": batched, "one by one": one} {
		var se *SendError
		if errs[0] != nil || errs[2] != nil || !errors.As(errs[1], &se) || !se.Permanent ||
			!strings.Contains(errs[1].Error(), "panic: assignment to entry in nil map") {
			t.Errorf("%s: %v", name, errs)
		}
	}
}

// HubSpot's rate-limit headers: with one request or none left in the
// window, none is sent until it is over; otherwise no wait.
func TestSlowUntil(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	h := func(left, ms string) http.Header {
		x := http.Header{}
		x.Set("X-HubSpot-RateLimit-Remaining", left)
		x.Set("X-HubSpot-RateLimit-Interval-Milliseconds", ms)
		return x
	}
	for _, tc := range []struct {
		h    http.Header
		want time.Time
	}{
		{h("50", "10000"), time.Time{}},
		{h("1", "10000"), now.Add(10 * time.Second)},
		{h("0", "2000"), now.Add(2 * time.Second)},
		{h("0", "bogus"), now.Add(10 * time.Second)},
		{http.Header{}, time.Time{}},
	} {
		if got := slowUntil(tc.h, now, time.Time{}); !got.Equal(tc.want) {
			t.Errorf("%v: %v, want %v", tc.h, got, tc.want)
		}
	}
}

// A Slack message fits Block Kit's 3,000 characters a section, however
// long the account's name; an incoming webhook is paced to one message a
// second unless the destination says otherwise.
func TestSlackFits(t *testing.T) {
	s := &slack{}
	msg := s.message(AlertData{Payload: alert.Payload{Account: alert.AccountRef{ID: "a", Name: strings.Repeat("Ä", 5000)},
		Tier: "hot", Score: 90}})
	text := msg.Blocks[0].Text.Text
	if n := utf8.RuneCountInString(text); n != slackTextMax || !strings.HasSuffix(text, "…") || utf8.RuneCountInString(msg.Text) > slackTextMax {
		t.Fatalf("section of %d characters, notification of %d", n, utf8.RuneCountInString(msg.Text))
	}
	d, err := New([]Spec{{Name: "s", Type: Slack, URL: "https://hooks.slack.com/services/T/B/x"},
		{Name: "fast", Type: Slack, URL: "https://hooks.slack.com/services/T/B/y", RateLimit: 4}}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if p := d.dests[0].sender.(*slack).pace; p.every != time.Second {
		t.Fatalf("default pace: every %v", p.every)
	}
	if p := d.dests[1].sender.(*slack).pace; p.every != 250*time.Millisecond {
		t.Fatalf("pace at rate_limit 4: every %v", p.every)
	}
}

// HubSpot's search API is paced to the 4 requests a second a portal takes,
// apart from the destination's own rate.
func TestHubSpotSearchPace(t *testing.T) {
	d, err := New([]Spec{{Name: "h", Type: HubSpot, URL: "https://api.hubapi.com", Secret: "t", Object: "companies",
		IDProperty: "beacon_account_id", Properties: map[string]string{"beacon_score": "score"}, RateLimit: 10}}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	h := d.dests[0].sender.(*hubspot)
	if h.searching.every != 250*time.Millisecond || h.pace.every != 100*time.Millisecond {
		t.Fatalf("search every %v, the rest every %v", h.searching.every, h.pace.every)
	}
}

// A band alert's Slack message names the metric, its band and what moved
// most, links to its breakdown, and escapes what Slack would read as
// markup.
func TestSlackBandAlert(t *testing.T) {
	s := &slack{link: "https://beacon.example.com"}
	to := time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC)
	msg := s.message(AlertData{Payload: alert.Payload{Metric: &alert.Metric{Name: "free_to_paid", Label: "Free-to-Paid Conversion",
		Window: "30d", From: to.AddDate(0, 0, -30), To: to, Value: 2.1, Text: "2.1%", Level: "red", PreviousLevel: "warning",
		Band:      "Free-to-Paid (Freemium) low band (1-2%) <below>",
		MovedMost: &alert.Moved{By: "segment", Group: "mid-market", Before: "4%", After: "1.2%"}}}})
	text := msg.Blocks[0].Text.Text
	for _, want := range []string{"<https://beacon.example.com/dashboard?names=free_to_paid&by=segment|Free-to-Paid Conversion>",
		"*red* over the 30 days to 2026-04-04: 2.1% (was warning)", "&lt;below&gt;", "*Moved most:* segment mid-market, 4% → 1.2%"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
	if msg.Text != "Free-to-Paid Conversion is red: 2.1%" {
		t.Errorf("notification %q", msg.Text)
	}
}
