package signal

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Measures a signal may take.
const (
	Count         = "count"           // matching events
	Sum           = "sum"             // of a numeric property
	Max           = "max"             // of a numeric property, ever
	Latest        = "latest"          // numeric property of the latest matching event
	LatestEvent   = "latest_event"    // name of the latest of the listed events
	Distinct      = "distinct"        // distinct values of a property (or event names)
	ActiveDays    = "active_days"     // distinct days with activity
	Streak        = "streak"          // longest run of consecutive active days
	ActiveUsers   = "active_users"    // users with activity
	DaysSinceSeen = "days_since_seen" // days since the latest activity; -1 if none
	Members       = "members"         // users in the account
	Quota         = "quota"           // another signal over a plan limit
	Trend         = "trend"           // recent activity over the baseline's average: matching events, or user-days
)

// Measures lists every measure, for messages and docs.
var Measures = []string{Count, Sum, Max, Latest, LatestEvent, Distinct, ActiveDays, Streak, ActiveUsers,
	DaysSinceSeen, Members, Quota, Trend}

// Spec is a signal as beacon.yaml writes it.
type Spec struct {
	Name    string `yaml:"name" json:"name"`
	Measure string `yaml:"measure" json:"measure"`
	// Events and Pages say which events count: track names, page or screen
	// names. Neither means any track, page or screen call.
	Events []string `yaml:"events,omitempty" json:"events,omitempty"`
	Pages  []string `yaml:"pages,omitempty" json:"pages,omitempty"`
	// Where keeps events whose property equals the value, or one of a list.
	Where    map[string]any `yaml:"where,omitempty" json:"where,omitempty"`
	Property string         `yaml:"property,omitempty" json:"property,omitempty"`
	Window   string         `yaml:"window,omitempty" json:"window,omitempty"`
	Baseline string         `yaml:"baseline,omitempty" json:"baseline,omitempty"` // trend
	Used     string         `yaml:"used,omitempty" json:"used,omitempty"`         // quota: a signal's name
	Limit    string         `yaml:"limit,omitempty" json:"limit,omitempty"`       // quota: a plan limit's name
	Label    string         `yaml:"label,omitempty" json:"label,omitempty"`
}

// Error is a problem with one signal's spec; Field names the key at fault.
type Error struct {
	Index int
	Field string
	Err   error
}

func (e *Error) Error() string { return fmt.Sprintf("signals[%d].%s: %v", e.Index, e.Field, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Def is a compiled signal.
type Def struct {
	Spec
	Win      Window
	baseline int
	ctr      int   // the counter it reads, or -1
	ctrs     []int // latest_event: one counter per event
	anchor   int   // After windows: the anchor event's counter, or -1
	used     int   // quota: index of the used signal
}

// IsString reports whether the signal's value is text rather than a number.
func (d *Def) IsString() bool { return d.Measure == LatestEvent }

// Set is a compiled list of signals and the event counters they read.
type Set struct {
	Defs     []*Def
	byName   map[string]int
	counters []*counter
	byTrack  map[string][]int
	byPage   map[string][]int
	anyEvent []int
	spare    sync.Pool // *Matches handed back
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// MaxSignals bounds a set's signals, and so its counters: a daily cell names
// its counter in two bytes.
const MaxSignals = 10_000

// Compile checks specs and builds their counters. reserved names may not be
// used (the score package's built-in variables). Every problem is reported.
func Compile(specs []Spec, reserved map[string]bool) (*Set, error) {
	if len(specs) > MaxSignals {
		return nil, fmt.Errorf("%d signals: at most %d", len(specs), MaxSignals)
	}
	s := &Set{byName: map[string]int{}, byTrack: map[string][]int{}, byPage: map[string][]int{}}
	keys := map[string]int{}
	var errs []error
	for i, sp := range specs {
		d, err := s.compile(i, sp, keys, reserved)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.byName[d.Name] = len(s.Defs)
		s.Defs = append(s.Defs, d)
	}
	for i, d := range s.Defs {
		if d.Measure != Quota {
			continue
		}
		j, ok := s.byName[d.Used]
		switch {
		case !ok:
			errs = append(errs, &Error{Index: specIndex(specs, d.Name), Field: "used", Err: fmt.Errorf("unknown signal %q", d.Used)})
		case s.Defs[j].Measure == Quota || s.Defs[j].IsString():
			errs = append(errs, &Error{Index: specIndex(specs, d.Name), Field: "used", Err: fmt.Errorf("%q must be a numeric signal that is not a quota", d.Used)})
		default:
			s.Defs[i].used = j
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func specIndex(specs []Spec, name string) int {
	return slices.IndexFunc(specs, func(s Spec) bool { return s.Name == name })
}

// Lookup returns the index of a signal by name.
func (s *Set) Lookup(name string) (int, bool) {
	i, ok := s.byName[name]
	return i, ok
}

func (s *Set) compile(i int, sp Spec, keys map[string]int, reserved map[string]bool) (*Def, error) {
	bad := func(field, format string, args ...any) error {
		return &Error{Index: i, Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case !namePattern.MatchString(sp.Name):
		return nil, bad("name", "%q: want lower_snake_case, starting with a letter", sp.Name)
	case reserved[sp.Name]:
		return nil, bad("name", "%q is a built-in variable; choose another name", sp.Name)
	}
	if _, dup := s.byName[sp.Name]; dup {
		return nil, bad("name", "%q is defined twice", sp.Name)
	}
	if !slices.Contains(Measures, sp.Measure) {
		return nil, bad("measure", "%q: want one of %s", sp.Measure, strings.Join(Measures, ", "))
	}
	w, err := ParseWindow(sp.Window)
	if err != nil {
		return nil, bad("window", "%v", err)
	}
	d := &Def{Spec: sp, Win: w, ctr: -1, anchor: -1}
	if err := checkFields(d); err != nil {
		return nil, &Error{Index: i, Field: err.field, Err: err.err}
	}
	where, err := parseWhere(sp.Where)
	if err != nil {
		return nil, bad("where", "%v", err)
	}
	if sp.Measure == Trend {
		b, err := ParseWindow(sp.Baseline)
		if err != nil || b.Kind != Last {
			return nil, bad("baseline", "%q: want a number of days such as 56d", sp.Baseline)
		}
		d.baseline = b.Days
	}
	s.attachCounters(d, where, keys)
	return d, nil
}

type fieldErr struct {
	field string
	err   error
}

// checkFields refuses fields a measure does not read and windows it cannot
// honour, so a rule never silently means something else.
func checkFields(d *Def) *fieldErr {
	m, w := d.Measure, d.Win.Kind
	filters := len(d.Events) > 0 || len(d.Pages) > 0 || len(d.Where) > 0
	needs := func(field string, ok bool) *fieldErr {
		if ok {
			return nil
		}
		return &fieldErr{field, fmt.Errorf("measure %s needs %s", m, field)}
	}
	refuse := func(field string, set bool) *fieldErr {
		if !set {
			return nil
		}
		return &fieldErr{field, fmt.Errorf("measure %s does not read %s", m, field)}
	}
	window := func(ok bool, want string) *fieldErr {
		if ok {
			return nil
		}
		return &fieldErr{"window", fmt.Errorf("measure %s takes %s, not %q", m, want, d.Win)}
	}
	var errs []*fieldErr
	switch m {
	case Count:
		errs = append(errs, refuse("property", d.Property != ""), window(w != After, "all, Nd, first Nd or month"))
	case Sum:
		errs = append(errs, needs("property", d.Property != ""), window(w != After, "all, Nd, first Nd or month"))
	case Max, Latest:
		errs = append(errs, needs("property", d.Property != ""), window(w == All, "no window (all)"))
	case LatestEvent:
		errs = append(errs, needs("events", len(d.Events) > 0), refuse("pages", len(d.Pages) > 0),
			refuse("property", d.Property != ""), window(w == All, "no window (all)"))
	case Distinct:
		errs = append(errs, window(w != After, "all, Nd, first Nd or month"))
	case ActiveDays:
		if filters {
			errs = append(errs, window(w == Last || w == First || w == Month, "Nd, first Nd or month when it filters events"))
		}
		errs = append(errs, refuse("property", d.Property != ""))
	case ActiveUsers:
		if filters {
			errs = append(errs, window(w == Last || w == First || w == Month, "Nd, first Nd or month when it filters events"))
		}
		errs = append(errs, refuse("property", d.Property != ""))
	case Streak:
		errs = append(errs, refuse("events", filters), refuse("property", d.Property != ""))
	case DaysSinceSeen, Members:
		errs = append(errs, refuse("events", filters), refuse("property", d.Property != ""), window(w == All, "no window"))
	case Quota:
		errs = append(errs, needs("used", d.Used != ""), needs("limit", d.Limit != ""), refuse("events", filters),
			window(w == All, "no window (the used signal has its own)"))
	case Trend:
		errs = append(errs, refuse("property", d.Property != ""), window(w == Last, "Nd"))
	}
	if m != Quota {
		errs = append(errs, refuse("used", d.Used != ""), refuse("limit", d.Limit != ""))
	}
	if m != Trend {
		errs = append(errs, refuse("baseline", d.Baseline != ""))
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// attachCounters gives d the counters it reads, sharing identical ones.
func (s *Set) attachCounters(d *Def, where []cond, keys map[string]int) {
	if d.Win.Kind == After {
		d.anchor = s.counter(&counter{tracks: []string{d.Win.Anchor}}, keys)
	}
	switch d.Measure {
	case Streak, DaysSinceSeen, Members, Quota:
		return
	case ActiveDays, Trend, ActiveUsers:
		if len(d.Events) == 0 && len(d.Pages) == 0 && len(where) == 0 {
			return // the activity bitset answers
		}
	case LatestEvent:
		for _, name := range d.Events {
			d.ctrs = append(d.ctrs, s.counter(&counter{tracks: []string{name}}, keys))
		}
		return
	}
	c := &counter{tracks: d.Events, pages: d.Pages, where: where, prop: d.Property}
	switch d.Measure {
	case Distinct:
		c.values, c.byName = true, d.Property == ""
	case Count, Sum, Max, Latest, ActiveDays, ActiveUsers:
	case Trend:
		c.recent = int32(d.Win.Days + d.baseline)
	}
	switch d.Win.Kind {
	case Last:
		c.recent = max(c.recent, int32(d.Win.Days))
	case Month:
		c.recent = 31
	case First:
		c.first = int32(d.Win.Days)
	}
	d.ctr = s.counter(c, keys)
}

// counter returns the index of a counter equal to c, adding c if new; a
// shared counter keeps the longest retention any reader needs.
func (s *Set) counter(c *counter, keys map[string]int) int {
	c.tracks, c.pages = sortedCopy(c.tracks), sortedCopy(c.pages)
	k := c.key()
	if i, ok := keys[k]; ok {
		o := s.counters[i]
		o.recent, o.first = max(o.recent, c.recent), max(o.first, c.first)
		return i
	}
	i := len(s.counters)
	keys[k] = i
	s.counters = append(s.counters, c)
	for _, t := range c.tracks {
		s.byTrack[t] = append(s.byTrack[t], i)
	}
	for _, p := range c.pages {
		s.byPage[p] = append(s.byPage[p], i)
	}
	if len(c.tracks) == 0 && len(c.pages) == 0 {
		s.anyEvent = append(s.anyEvent, i)
	}
	return i
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	sort.Strings(c)
	return slices.Compact(c)
}

// cond keeps events whose property is one of values.
type cond struct {
	prop   string
	values []string
}

func parseWhere(m map[string]any) ([]cond, error) {
	var out []cond
	for _, prop := range sortedKeys(m) {
		var vals []string
		switch v := m[prop].(type) {
		case []any:
			for _, x := range v {
				s, ok := scalar(x)
				if !ok {
					return nil, fmt.Errorf("%s: list items must be strings, numbers or booleans", prop)
				}
				vals = append(vals, s)
			}
		default:
			s, ok := scalar(v)
			if !ok {
				return nil, fmt.Errorf("%s: want a value or a list of values", prop)
			}
			vals = []string{s}
		}
		if len(vals) == 0 {
			return nil, fmt.Errorf("%s: the list of values is empty", prop)
		}
		out = append(out, cond{prop: prop, values: vals})
	}
	return out, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// scalar formats a JSON or YAML scalar the way where clauses compare them.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	}
	return "", false
}
