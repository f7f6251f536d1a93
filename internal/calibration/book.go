package calibration

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/signal"
)

// MaxBehaviours bounds the distinct event and page names the book keeps:
// enough for any product's tracking plan, and a cap on what a name with an
// id in it can cost. Names past it are counted, not kept.
const MaxBehaviours = 4096

// Book holds, for every user, how many times they did each behaviour (a
// track event's name, or a page's) each day. The signal stage hands it
// every event it takes (Took), in its own goroutine; discovery and
// backtests read it under a lock.
type Book struct {
	mu      sync.RWMutex
	keys    map[string]uint16
	names   []string // by key
	users   map[string]*trail
	dropped int // events of names past MaxBehaviours
}

// trail is one user's days: a cell per day and behaviour that happened,
// in the order taken (a replay reads parts of the stream at once).
type trail struct {
	cells  []cell
	sorted bool
}

// cell is one behaviour of one day: how many times (saturating).
type cell struct {
	day int32
	key uint16
	n   uint16
}

// NewBook returns an empty book.
func NewBook() *Book {
	b := &Book{}
	b.Reset()
	return b
}

// Names: the book reads no property.
func (b *Book) Names() []string { return nil }

// Reset empties the book: the stage is about to replay the stream.
func (b *Book) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.keys, b.names, b.users, b.dropped = map[string]uint16{}, nil, map[string]*trail{}, 0
}

// pagePrefix marks a page's (or screen's) name among the behaviours.
const pagePrefix = "page:"

// Took counts the events of users: a visitor's are counted once a replay
// ties them to their user, as the stage's one-shot replays do.
func (b *Book) Took(evs []event.Event, users []string, passed []int, _ map[string]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	skip := 0
	for i := range evs {
		if skip < len(passed) && passed[skip] == i {
			skip++
			continue
		}
		e := &evs[i]
		if users[i] == "" || e.Name == "" {
			continue
		}
		var name string
		switch e.Type {
		case "track":
			name = e.Name
		case "page", "screen":
			name = pagePrefix + e.Name
		default:
			continue
		}
		key, ok := b.key(name)
		if !ok {
			b.dropped++
			continue
		}
		t := b.users[users[i]]
		if t == nil {
			t = &trail{}
			b.users[strings.Clone(users[i])] = t
		}
		t.add(dayOf(e), key)
	}
}

func (b *Book) key(name string) (uint16, bool) {
	if k, ok := b.keys[name]; ok {
		return k, true
	}
	if len(b.names) >= MaxBehaviours {
		return 0, false
	}
	name = strings.Clone(name) // not a substring of a decoded block
	k := uint16(len(b.names))
	b.keys[name], b.names = k, append(b.names, name)
	return k, true
}

// add counts one of key on day; the same day and key as the last cell
// adds to it, as events mostly come in time order.
func (t *trail) add(day int32, key uint16) {
	if n := len(t.cells); n > 0 && t.cells[n-1].day == day && t.cells[n-1].key == key {
		if t.cells[n-1].n < 1<<16-1 {
			t.cells[n-1].n++
		}
		return
	}
	t.cells = append(t.cells, cell{day: day, key: key, n: 1})
	t.sorted = false
}

// settle sorts a trail's cells by day and key and adds up duplicates.
func (t *trail) settle() {
	if t.sorted {
		return
	}
	slices.SortFunc(t.cells, func(x, y cell) int { return cmp.Or(cmp.Compare(x.day, y.day), cmp.Compare(x.key, y.key)) })
	out := t.cells[:0]
	for _, c := range t.cells {
		if n := len(out); n > 0 && out[n-1].day == c.day && out[n-1].key == c.key {
			out[n-1].n = uint16(min(int(out[n-1].n)+int(c.n), 1<<16-1))
			continue
		}
		out = append(out, c)
	}
	t.cells, t.sorted = out, true
}

func dayOf(e *event.Event) int32 { return signal.Day(e.Timestamp) }
