package web

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/store"
)

// memTimelines is users' timelines in memory, read as the store reads them.
type memTimelines map[string][]event.Event // by user, any order

func (m memTimelines) read(user string, pos store.EventPos, limit int, after bool) []event.Event {
	evs := slices.Clone(m[user])
	slices.SortFunc(evs, func(a, b event.Event) int {
		return cmp.Or(b.Timestamp.Compare(a.Timestamp), cmp.Compare(b.Seq, a.Seq))
	})
	at := event.Event{Timestamp: pos.TS, Seq: pos.Seq}
	var out []event.Event
	if after {
		slices.Reverse(evs) // oldest first
		for _, e := range evs {
			if before(at, e) && len(out) < limit {
				out = append(out, e)
			}
		}
		slices.Reverse(out)
		return out
	}
	for _, e := range evs {
		if (pos.TS.IsZero() || before(e, at)) && len(out) < limit {
			out = append(out, e)
		}
	}
	return out
}

func (m memTimelines) UserEventsBefore(_ context.Context, user string, pos store.EventPos, limit int) ([]event.Event, error) {
	return m.read(user, pos, limit, false), nil
}

func (m memTimelines) UserEventsAfter(_ context.Context, user string, pos store.EventPos, limit int) ([]event.Event, error) {
	return m.read(user, pos, limit, true), nil
}

// A filtered timeline of several users pages through all their events by
// links alone, each match once and in order, however rare the matches are
// and however the users' events interleave: pages that stop looking say
// so and go on from where they stopped.
func TestFilteredTimelinePages(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	m := memTimelines{}
	var exports []event.Event
	seq := int64(0)
	for i := range 3000 {
		for _, u := range []string{"ana", "bo", "cy"} {
			seq++
			name := "Click"
			// Rare, and on one user more than the others.
			if (u == "bo" && i%97 == 0) || (u == "cy" && i%500 == 7) {
				name = "Export"
			}
			// bo is an hour behind: the users' events interleave unevenly.
			at := t0.Add(time.Duration(i) * time.Minute)
			if u == "bo" {
				at = at.Add(-time.Hour)
			}
			e := event.Event{Seq: seq, Type: event.Track, Name: name, UserID: u, Timestamp: at}
			m[u] = append(m[u], e)
			if name == "Export" {
				exports = append(exports, e)
			}
		}
	}
	// Newest first, by time: not the order they were sent in.
	slices.SortFunc(exports, func(a, b event.Event) int {
		return cmp.Or(b.Timestamp.Compare(a.Timestamp), cmp.Compare(b.Seq, a.Seq))
	})
	var want []string
	for _, e := range exports {
		want = append(want, fmt.Sprint(e.Seq))
	}
	users := []string{"ana", "bo", "cy"}
	var got []string
	v := url.Values{"event": {"export"}}
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("no end to the pages")
		}
		q, err := parseTimeline(v, users)
		if err != nil {
			t.Fatal(err)
		}
		tl := timeline{Path: "/accounts/x"}
		if err := readTimeline(context.Background(), m, &tl, users, q, func(s string) string { return s }); err != nil {
			t.Fatal(err)
		}
		for _, e := range tl.Events {
			if e.Name != "Export" {
				t.Fatalf("%s on a page filtered to Export", e.Name)
			}
		}
		got = append(got, seqsOf(m, tl.Events)...)
		if tl.Older == "" {
			break
		}
		u, err := url.Parse(strings.TrimSuffix(tl.Older, "#timeline"))
		if err != nil {
			t.Fatal(err)
		}
		v = u.Query()
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged through %d matches, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
	}
}

// seqsOf finds the seqs of the rows shown (a row keeps its time and user).
func seqsOf(m memTimelines, rows []eventRow) []string {
	var out []string
	for _, r := range rows {
		for _, e := range m[r.User] {
			if e.Timestamp.Equal(r.At) && e.Name == r.Name {
				out = append(out, fmt.Sprint(e.Seq))
			}
		}
	}
	return out
}
