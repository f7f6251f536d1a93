package growth

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/store"
)

var day0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func ev(typ, name, user, anon string, d int, props string) event.Event {
	e := event.Event{Type: typ, Name: name, UserID: user, AnonymousID: anon, Timestamp: day0.AddDate(0, 0, d).Add(9 * time.Hour)}
	if props != "" {
		e.Properties = json.RawMessage(props)
	}
	return e
}

// A visitor who signs up later stops counting as a visitor and becomes a
// person who visited, live (a merge) or on a replay (the alias known); a
// late event adds its day; the channel comes from the sign-up.
func TestBookTakesVisitorsMergesAndLateEvents(t *testing.T) {
	for _, live := range []bool{true, false} {
		b := NewBook(Config{SignUpEvent: "Signed Up", ActivationEvent: "Project Created"})
		visit := []event.Event{ev(event.Page, "Home", "", "anon-1", 1, ""), ev(event.Page, "Home", "", "anon-2", 1, "")}
		users := []string{"", ""}
		if !live {
			users[0] = "u1" // a replay knows the alias already
		}
		b.Took(visit, users, nil, nil)
		var merges map[string]string
		if live {
			merges = map[string]string{"anon-1": "u1"}
		}
		b.Took([]event.Event{ev(event.Track, "Signed Up", "u1", "anon-1", 3, `{"channel":"Organic"}`),
			ev(event.Track, "Project Created", "u1", "", 10, "")}, []string{"u1", "u1"}, nil, merges)
		b.Took([]event.Event{ev(event.Track, "Project Created", "u1", "", 5, "")}, []string{"u1"}, nil, nil) // late

		p := b.users["u1"]
		if p.visit != visit[0].Timestamp.UnixMilli() || p.first != p.visit {
			t.Fatalf("live %v: visit %d, first %d, want the visitor's page view %d", live, p.visit, p.first, visit[0].Timestamp.UnixMilli())
		}
		if got := b.visitorDays[day(visit[0].Timestamp.UnixMilli())]; got != 1 {
			t.Fatalf("live %v: %d visitors on day 1, want 1 (anon-2; anon-1 signed up)", live, got)
		}
		d := day(day0.UnixMilli())
		if !p.active.has(d+5) || !p.active.has(d+10) || p.active.count(d, d+20) != 3 {
			t.Fatalf("live %v: active days %d, want 3, 5 and 10 (day 1 was a visit)", live, p.active.count(d, d+20))
		}
		if want := day0.AddDate(0, 0, 5).Add(9 * time.Hour).UnixMilli(); p.activated != want {
			t.Fatalf("live %v: activated %d, want the late event's %d", live, p.activated, want)
		}
		if p.channel < 0 || b.channels[p.channel] != "organic" {
			t.Fatalf("live %v: channel %d %v", live, p.channel, b.channels)
		}
	}
}

// An event the stage passed over (set aside) is not in the book.
func TestBookSkipsPassedOver(t *testing.T) {
	b := NewBook(Default())
	b.Took([]event.Event{ev(event.Track, "Signed Up", "u1", "", 1, `{}`), ev(event.Track, "Signed Up", "u2", "", 1, `{}`)},
		[]string{"u1", "u2"}, []int{1}, nil)
	if b.users["u1"] == nil || b.users["u2"] != nil {
		t.Fatalf("users %v: want u1 only", b.users)
	}
}

// A conversion is sales-assisted when sales touched the account before its
// first payment (an acknowledged alert, a CRM outreach) or the CRM shows
// an opportunity; self-serve otherwise.
func TestMotion(t *testing.T) {
	paid := day0.AddDate(0, 0, 10)
	cases := []struct {
		name    string
		a       acct
		touched time.Time
		want    string
	}{
		{"never paid", acct{}, time.Time{}, ""},
		{"no touch", acct{paid: paid.UnixMilli()}, time.Time{}, SelfServe},
		{"touched before", acct{paid: paid.UnixMilli()}, paid.Add(-time.Hour), SalesAssisted},
		{"touched after", acct{paid: paid.UnixMilli()}, paid.Add(time.Hour), SelfServe},
		{"an opportunity", acct{paid: paid.UnixMilli(), openOpportunity: true}, time.Time{}, SalesAssisted},
	}
	for _, c := range cases {
		var touched int64
		if !c.touched.IsZero() {
			touched = c.touched.UnixMilli()
		}
		if got := motionOf(&c.a, touched); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	src := Sources{AccountPrefix: "account:", Alerts: []store.AlertTime{
		{Subject: "account:a", Created: paid, Acked: paid.Add(time.Hour), Outreach: paid.Add(-time.Hour)},
		{Subject: "user:u", Acked: paid}}}
	if got := salesTouches(src); len(got) != 1 || got["a"] != paid.Add(-time.Hour).UnixMilli() {
		t.Fatalf("touches %v: want account a's outreach, the earliest", got)
	}
}

// Product event to CRM is the median time from an alert raised in the
// period to its write into the CRM; writes of alerts outside it do not
// count.
func TestCRMLatency(t *testing.T) {
	from := day0
	w := NewBook(Default()).join(Sources{CRMWrites: []store.DeliveryTime{
		{Destination: "hubspot", Created: from.Add(time.Hour), DeliveredAt: from.Add(time.Hour + 30*time.Second)},
		{Destination: "hubspot", Created: from.Add(2 * time.Hour), DeliveredAt: from.Add(2*time.Hour + 90*time.Second)},
		{Destination: "salesforce", Created: from.Add(3 * time.Hour), DeliveredAt: from.Add(3*time.Hour + 10*time.Minute)},
		{Destination: "hubspot", Created: from.AddDate(0, 0, -1), DeliveredAt: from},
	}})
	v, ok := w.scope(from, from.AddDate(0, 0, 1), nil).crmLatency()
	if !ok || v != 90 {
		t.Fatalf("CRM latency %v (%v), want the median 90 s", v, ok)
	}
	if level, _ := quickBands["crm_latency"].Judge(v / 3600); level != Good {
		t.Fatalf("90 s is %s, want good (< 1 hour)", level)
	}
}
