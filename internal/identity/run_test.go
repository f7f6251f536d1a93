package identity_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// gate holds each hand-off until the test lets it go.
type gate struct {
	arrived chan int
	release chan struct{}
}

func (g gate) Reads() store.Bodies { return store.Bodies{} }
func (g gate) Room() bool          { return true }
func (g gate) Resolved(r identity.Resolved) {
	g.arrived <- len(r.Events)
	<-g.release
}

// Under sustained load each pass takes one batch and ends, so the stage's
// lag counts from what the current pass took, not from the first event of
// the load: a pass that ran until the stream was drained never ended while
// events kept coming, and /readyz called a stage keeping up "behind".
func TestLagFollowsEachPass(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := storetest.SQLite(t)
	g := gate{arrived: make(chan int), release: make(chan struct{})}
	svc := identity.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), g)
	identity.BatchSize(svc, 2)
	n := 0
	send := func(k int) {
		t.Helper()
		var evs []event.Event
		for range k {
			n++
			evs = append(evs, msg(t, n, map[string]any{"type": "track", "userId": fmt.Sprint("u", n), "event": "Report Viewed"}))
		}
		if _, err := db.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		svc.Notify()
	}
	send(2)
	go svc.Run(ctx)
	wait := func() int {
		t.Helper()
		select {
		case k := <-g.arrived:
			return k
		case <-time.After(storetest.HangGuard):
			t.Fatal("no pass handed anything on")
			return 0
		}
	}
	wait() // the first pass is under way
	second := time.Now()
	send(2) // more load arrives while it runs
	g.release <- struct{}{}
	if k := wait(); k != 2 {
		t.Fatalf("the second pass handed on %d events, want 2", k)
	}
	lag, since := svc.Lag(), time.Since(second)
	g.release <- struct{}{}
	if lag > since {
		t.Fatalf("lag %v during the second pass counts from before its load arrived (%v ago)", lag, since)
	}
}
