package store

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
)

func sampleBlock() []event.Event {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	return []event.Event{
		{Seq: 7, Type: event.Track, Name: "Invite Sent", UserID: "u1", GroupID: "g1", Timestamp: at, Properties: []byte(`{"n":1}`)},
		// PostgreSQL's stream runs in commit order: seq may go back.
		{Seq: 5, Type: event.Page, Name: "Pricing", AnonymousID: "a1", Timestamp: at.Add(-time.Hour)},
		{Seq: 9, Type: event.Alias, UserID: "u1", PreviousID: "a1", Timestamp: at},
		{Seq: 10, Type: event.Track, Name: "Invite Sent", UserID: "u1", GroupID: "g1"}, // no timestamp
	}
}

func TestBlockRoundTrip(t *testing.T) {
	for _, evs := range [][]event.Event{nil, sampleBlock()} {
		got, err := decodeBlock(encodeBlock(evs), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(evs) || (len(evs) > 0 && !reflect.DeepEqual(got, evs)) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, evs)
		}
	}
}

// Decoding into the room of an earlier batch, with the dictionaries' room
// of a larger block, leaves nothing of either.
func TestBlockIntoUsed(t *testing.T) {
	used := make([]event.Event, 8)
	for i := range used {
		used[i] = event.Event{Seq: 99, MessageID: "old", Body: []byte("old"), Properties: []byte("{}"), ReceivedAt: time.Now()}
	}
	room := &blockRoom{}
	if _, err := decodeBlock(benchBlock(), nil, room); err != nil {
		t.Fatal(err)
	}
	got, err := decodeBlock(encodeBlock(sampleBlock()), used, room)
	if err != nil || !reflect.DeepEqual(got, sampleBlock()) || &got[0] != &used[0] {
		t.Fatalf("decoded into used room:\n got %+v\nwant %+v (%v)", got, sampleBlock(), err)
	}
	// The room keeps no block's strings alive.
	for i := range room.strs[:cap(room.strs)] {
		if room.strs[:cap(room.strs)][i] != "" {
			t.Fatalf("room keeps string %d: %q", i, room.strs[:cap(room.strs)][i])
		}
	}
}

// A damaged block is an error that says so, never a panic or a wrong read.
func TestBlockCorrupt(t *testing.T) {
	good := encodeBlock(sampleBlock())
	cases := map[string][]byte{
		"empty":       nil,
		"version":     append([]byte{blockVersion + 1}, good[1:]...),
		"cut short":   good[:len(good)-3],
		"extra bytes": append(append([]byte(nil), good...), 0),
		"huge count":  {1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0},
	}
	for name, data := range cases {
		if _, err := decodeBlock(data, nil, nil); !errors.Is(err, errBlock) {
			t.Errorf("%s: err = %v, want a corrupt block", name, err)
		}
	}
}

func FuzzDecodeBlock(f *testing.F) {
	f.Add(encodeBlock(sampleBlock()))
	f.Add(encodeBlock(nil))
	f.Add([]byte{1, 1, 1, 1, 'x', 2, 2, 1, 1, 1, 1, 1, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := decodeBlock(data, nil, nil)
		if err != nil {
			return
		}
		// What decodes packs to a block that decodes the same.
		again, err := decodeBlock(encodeBlock(evs), nil, nil)
		if err != nil || len(again) != len(evs) {
			t.Fatalf("re-encoded block: %v, %d of %d events", err, len(again), len(evs))
		}
		for i := range evs {
			if !reflect.DeepEqual(again[i], evs[i]) {
				t.Fatalf("event %d: %+v, then %+v", i, evs[i], again[i])
			}
		}
	})
}

// A block as replay reads them: 4,096 events of a few hundred users and
// visitors, bodies for one event in ten.
func benchBlock() []byte { return encodeBlock(benchEvents()) }

// benchEvents are a block's worth of events: tracks of a few users and
// workspaces, visitors' page views, some properties.
func benchEvents() []event.Event {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	evs := make([]event.Event, BlockEvents)
	for i := range evs {
		e := &evs[i]
		e.Seq, e.Type, e.Name, e.Timestamp = int64(1000+i), event.Track, []string{"Report Viewed", "Invite Sent", "Project Created"}[i%3], at.Add(time.Duration(i)*time.Second)
		if i%4 == 0 {
			e.Type, e.AnonymousID = event.Page, fmt.Sprintf("5f0c%04d-7a8b-4c1d-9e2f-3a4b5c6d7e8f", i%300)
		} else {
			e.UserID, e.GroupID = fmt.Sprintf("user_%d", i%500), fmt.Sprintf("acct_%d", i%120)
		}
		if i%10 == 0 {
			e.Properties = []byte(`{"project_count":3}`)
		}
	}
	return evs
}

func BenchmarkEncodeBlock(b *testing.B) {
	evs := benchEvents()
	b.ReportAllocs()
	var enc blockEncoder
	for b.Loop() {
		enc.encode(evs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*BlockEvents), "ns/event")
}

func BenchmarkDecodeBlock(b *testing.B) {
	data := benchBlock()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var evs []event.Event
	room := &blockRoom{}
	for b.Loop() {
		var err error
		if evs, err = decodeBlock(data, evs, room); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*BlockEvents), "ns/event")
}
