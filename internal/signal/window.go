package signal

import (
	"fmt"
	"strconv"
	"strings"
)

// WindowKind says which days a signal counts.
type WindowKind int

// Window kinds.
const (
	All   WindowKind = iota // every day
	Last                    // the last N days, today included
	First                   // the subject's first N days
	After                   // N days from the subject's first Anchor event
	Month                   // the calendar month so far (UTC)
)

// MaxWindowDays bounds N in a window.
const MaxWindowDays = 730

// Window is a parsed window: "all", "14d", "first 14d", "14d after Trial
// Started" or "month".
type Window struct {
	Kind   WindowKind
	Days   int
	Anchor string
}

// ParseWindow reads a window as beacon.yaml writes it; "" is all.
func ParseWindow(s string) (Window, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" || s == "all":
		return Window{Kind: All}, nil
	case s == "month":
		return Window{Kind: Month}, nil
	case strings.HasPrefix(s, "first "):
		n, err := parseDays(strings.TrimPrefix(s, "first "))
		return Window{Kind: First, Days: n}, err
	}
	if days, anchor, ok := strings.Cut(s, " after "); ok {
		n, err := parseDays(days)
		anchor = strings.TrimSpace(anchor)
		if err == nil && anchor == "" {
			err = fmt.Errorf("%q: name the event after which the window starts", s)
		}
		return Window{Kind: After, Days: n, Anchor: anchor}, err
	}
	if _, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err != nil || !strings.HasSuffix(s, "d") {
		return Window{}, fmt.Errorf("window %q: want all, Nd, first Nd, Nd after EVENT or month", s)
	}
	n, err := parseDays(s)
	return Window{Kind: Last, Days: n}, err
}

func parseDays(s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
	if err != nil || !strings.HasSuffix(s, "d") {
		return 0, fmt.Errorf("%q: want a number of days such as 14d", s)
	}
	if n < 1 || n > MaxWindowDays {
		return 0, fmt.Errorf("%q: days must be between 1 and %d", s, MaxWindowDays)
	}
	return n, nil
}

func (w Window) String() string {
	switch w.Kind {
	case Last:
		return fmt.Sprintf("%dd", w.Days)
	case First:
		return fmt.Sprintf("first %dd", w.Days)
	case After:
		return fmt.Sprintf("%dd after %s", w.Days, w.Anchor)
	case Month:
		return "month"
	}
	return "all"
}

// span is an inclusive range of day numbers; empty when from > to.
type span struct{ from, to int32 }

func (s span) has(d int32) bool { return d >= s.from && d <= s.to }

// monthStart is the day number of the first day of d's month.
func monthStart(d int32) int32 {
	t := DayTime(d)
	return d - int32(t.Day()-1)
}
