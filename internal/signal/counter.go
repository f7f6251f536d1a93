package signal

import (
	"fmt"
	"slices"
	"strings"

	"github.com/beaconplg/beacon/internal/event"
)

// counter tallies the events one or more signals read.
type counter struct {
	tracks, pages []string
	where         []cond
	prop          string // numeric property (sum, max, latest) or the distinct one
	values        bool   // keep distinct values
	byName        bool   // the distinct values are event names
	// recent and first are how many days of daily cells the readers need:
	// the last recent days, and the actor's first first days.
	recent, first int32
}

func (c *counter) cells() bool { return c.recent > 0 || c.first > 0 }

// sums reports whether the counter's windows read the daily totals of a
// number (a sum) rather than daily counts or values: what else reads a
// number reads it over all time.
func (c *counter) sums() bool { return c.prop != "" && !c.values }

func (c *counter) key() string {
	return fmt.Sprintf("%q|%q|%v|%q|%v|%v", c.tracks, c.pages, c.where, c.prop, c.values, c.byName)
}

// isActivity reports whether an event is product usage: identify, group and
// alias calls describe people and companies, they are not use.
func isActivity(typ string) bool {
	return typ == event.Track || typ == event.Page || typ == event.Screen
}

// matching returns the counters an event may count for, before where clauses.
func (s *Set) matching(e *event.Event, buf []int) []int {
	buf = append(buf[:0], s.anyEvent...)
	if e.Type == event.Track {
		return append(buf, s.byTrack[e.Name]...)
	}
	return append(buf, s.byPage[e.Name]...)
}

func (c *counter) needsProps() bool { return len(c.where) > 0 || c.prop != "" }

// Bodies says which events' properties the counters read: every event's, or
// those of the listed track events.
func (s *Set) Bodies() (all bool, tracks []string) {
	for _, c := range s.counters {
		if !c.needsProps() {
			continue
		}
		if len(c.tracks) == 0 || len(c.pages) > 0 {
			return true, nil
		}
		for _, t := range c.tracks {
			if !slices.Contains(tracks, t) {
				tracks = append(tracks, t)
			}
		}
	}
	slices.Sort(tracks)
	return false, tracks
}

// props decodes an event's properties once, only if a counter needs them:
// from Properties when the reader split them out, else from the body.
type props struct {
	e       *event.Event
	m       map[string]any
	decoded bool
	seen    *decoded // nil: decode each event's apart
}

// decoded keeps the properties a batch's events carried, decoded, by their
// JSON: most events of a kind carry the same few ({"feature":"reports"}).
// The maps are shared, and only read.
type decoded struct {
	by  map[string]map[string]any
	dec event.ObjectDecoder
}

// maxDecoded bounds what a batch keeps: properties with an id or a count in
// them are seldom seen twice.
const maxDecoded = 1024

func (p *props) get(name string) (any, bool) {
	if !p.decoded {
		p.decoded, p.m = true, p.load()
	}
	v, ok := p.m[name]
	return v, ok
}

// load decodes the properties. A body the collector took is JSON;
// properties that are not an object count as none.
func (p *props) load() map[string]any {
	raw := p.e.Properties
	if len(raw) == 0 {
		var b struct {
			Properties map[string]any `json:"properties"`
		}
		if len(p.e.Body) == 0 || event.Unmarshal(p.e.Body, &b) != nil {
			return nil // what a failed decode left is no answer
		}
		return b.Properties
	}
	if p.seen == nil {
		var m map[string]any
		if event.Unmarshal(raw, &m) != nil {
			return nil
		}
		return m
	}
	if m, ok := p.seen.by[string(raw)]; ok {
		return m
	}
	m, err := p.seen.dec.Decode(raw)
	if err != nil {
		m = nil
	}
	if len(p.seen.by) < maxDecoded {
		p.seen.by[string(raw)] = m
	}
	return m
}

func (c *counter) accepts(p *props) bool {
	for _, w := range c.where {
		v, ok := p.get(w.prop)
		if !ok {
			return false
		}
		s, ok := scalar(v)
		if !ok || !slices.Contains(w.values, s) {
			return false
		}
	}
	return true
}

// number reads the counter's property as a number, if it is one.
func (c *counter) number(p *props) (float64, bool) {
	if c.prop == "" || c.values {
		return 0, false
	}
	v, ok := p.get(c.prop)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		var f float64
		_, err := fmt.Sscan(strings.TrimSpace(x), &f)
		return f, err == nil
	}
	return 0, false
}

// value reads what a distinct counter tells apart.
func (c *counter) value(e *event.Event, p *props) (string, bool) {
	if c.byName {
		return e.Name, true
	}
	v, ok := p.get(c.prop)
	if !ok {
		return "", false
	}
	return scalar(v)
}
