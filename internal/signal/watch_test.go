package signal

import (
	"slices"
	"testing"

	"github.com/beaconplg/beacon/internal/event"
)

type countingWatcher struct {
	names        []string
	resets, took int
}

func (w *countingWatcher) Names() []string { return w.names }
func (w *countingWatcher) Reset()          { w.resets++ }
func (w *countingWatcher) Took(evs []event.Event, _ []string, _ []int, _ map[string]string) {
	w.took += len(evs)
}

// Every watcher a stage is given hears every event, and is reset when the
// stage replays; the bodies read are those any of them names. (A second
// watcher once took the first's place: the server's metrics went blank.)
func TestEveryWatcherHears(t *testing.T) {
	st := &Stage{}
	ws := []*countingWatcher{{names: []string{"Paid"}}, {}, {names: []string{"Seat Added"}}}
	for _, w := range ws {
		st.Watch(w)
	}
	st.watch.Took(make([]event.Event, 3), make([]string, 3), nil, nil)
	st.watch.Reset()
	for i, w := range ws {
		if w.took != 3 || w.resets != 2 {
			t.Errorf("watcher %d: took %d events, reset %d times; want 3 and 2 (on Watch and on the replay)", i, w.took, w.resets)
		}
	}
	if got := st.watch.Names(); !slices.Equal(got, []string{"Paid", "Seat Added"}) {
		t.Errorf("names %v", got)
	}
}
