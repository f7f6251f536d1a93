// Package queue owns the work queues sales and success work from: which
// accounts a view holds (a scorecard, a tier, a search, an owner, "mine",
// the held ones), in which order (the sorts and their tie-breaks), and what
// each row tells a rep: the score and why, who to call, how the account's
// activity moves, its alert. The web pages and the API read the same
// queue, with the same parameters and the same answer to bad ones.
package queue

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// ErrBadParam is wrapped by every ParamError.
var ErrBadParam = errors.New("invalid parameter")

// ParamError names a parameter the queue cannot take, and why.
type ParamError struct {
	Field   string
	Message string
	Limit   int
}

func (e *ParamError) Error() string { return e.Message }
func (e *ParamError) Unwrap() error { return ErrBadParam }

func bad(field, format string, args ...any) *ParamError {
	return &ParamError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Sort is one order of the queue.
type Sort struct {
	Key, Label string
}

// Sorts are the orders the queue takes, in the web page and the API alike.
// Each breaks ties as the store's ScoreSorts say (docs/web.md).
var Sorts = []Sort{
	{"-score", "Highest score"},
	{"score", "Lowest score"},
	{"-momentum", "Rising momentum"},
	{"momentum", "Falling momentum"},
	{"-tier_since", "Newest in tier"},
	{"tier_since", "Longest in tier"},
	{"-last_active", "Latest activity"},
	{"last_active", "Quietest"},
	{"-updated", "Last rescored"},
}

func sortKeys() []string {
	keys := make([]string, len(Sorts))
	for i, s := range Sorts {
		keys[i] = s.Key
	}
	return keys
}

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
	// maxText bounds a typed filter (a search, an owner).
	maxText = 200
	// maxOffset bounds paging: past it there is nothing to page to.
	maxOffset = 1<<31 - 1
)

// Query is a validated view of a queue.
type Query struct {
	Card *score.Card
	// Tier, Search, Owner and Segment filter; "" for any.
	Tier, Search, Owner, Segment string
	// Mine is the queue of the person asking (Viewer): what they own or
	// were assigned.
	Mine   bool
	Viewer string
	// Held lists the accounts snoozed or disqualified instead.
	Held          bool
	Sort          string
	Limit, Offset int
}

// params are the parameters the queue takes.
var params = []string{"scorecard", "tier", "q", "owner", "segment", "mine", "held", "sort", "limit", "offset"}

// Parse reads a queue's parameters. viewer is the email of the person
// asking ("" through the API, where there is no one to say "mine" of).
// Every parameter it does not know, or cannot take, is an error naming it.
func Parse(rules *score.Rules, v url.Values, viewer string) (Query, error) {
	for name := range v {
		if !slices.Contains(params, name) {
			return Query{}, bad(name, "unknown parameter %q: the queue takes %s", name, strings.Join(params, ", "))
		}
	}
	q := Query{Viewer: viewer}
	var err error
	if q.Card, err = CardOf(rules, v.Get("scorecard")); err != nil {
		return Query{}, err
	}
	if q.Tier = v.Get("tier"); q.Tier != "" {
		if _, ok := q.Card.Tier(q.Tier); !ok {
			return Query{}, bad("tier", "tier %q: %s has %s", q.Tier, q.Card.Name, strings.Join(tierNames(q.Card), ", "))
		}
	}
	for _, f := range []struct {
		name string
		to   *string
	}{{"q", &q.Search}, {"owner", &q.Owner}} {
		if *f.to, err = text(f.name, v.Get(f.name)); err != nil {
			return Query{}, err
		}
	}
	if q.Segment, err = segment(rules, q.Card, v.Get("segment")); err != nil {
		return Query{}, err
	}
	if q.Mine, err = flag("mine", v.Get("mine")); err != nil {
		return Query{}, err
	}
	if q.Mine && viewer == "" {
		return Query{}, bad("mine", "mine is the queue of a person signed in to Beacon: ask for owner=EMAIL instead")
	}
	if q.Held, err = flag("held", v.Get("held")); err != nil {
		return Query{}, err
	}
	if q.Sort = v.Get("sort"); q.Sort == "" {
		q.Sort = DefaultSort(q.Card)
	} else if !slices.Contains(sortKeys(), q.Sort) {
		return Query{}, bad("sort", "sort %q: want one of %s", q.Sort, strings.Join(sortKeys(), ", "))
	}
	if q.Limit, err = number(v.Get("limit"), "limit", DefaultLimit, 1, MaxLimit); err != nil {
		return Query{}, err
	}
	if q.Offset, err = number(v.Get("offset"), "offset", 0, 0, maxOffset); err != nil {
		return Query{}, err
	}
	return q, nil
}

// DefaultSort is a card's queue order: the highest scores first, or the
// lowest where the card says so (a health score: churn risk first).
func DefaultSort(c *score.Card) string {
	if c.LowestFirst() {
		return "score"
	}
	return "-score"
}

// CardOf returns the account scorecard named, or with "" the routing one
// (else the first account card).
func CardOf(rules *score.Rules, name string) (*score.Card, error) {
	if name == "" {
		if rules.Routing != nil && rules.Routing.Card != nil {
			return rules.Routing.Card, nil
		}
		for _, c := range rules.Cards {
			if c.Of == score.OfAccount {
				return c, nil
			}
		}
		return nil, bad("scorecard", "the rules have no scorecard of accounts")
	}
	if c, ok := rules.Card(name); ok && c.Of == score.OfAccount {
		return c, nil
	}
	return nil, bad("scorecard", "scorecard %q: want one of %s", name, strings.Join(AccountCards(rules), ", "))
}

// AccountCards names the scorecards that have a queue.
func AccountCards(rules *score.Rules) []string {
	var names []string
	for _, c := range rules.Cards {
		if c.Of == score.OfAccount {
			names = append(names, c.Name)
		}
	}
	return names
}

func tierNames(c *score.Card) []string {
	names := make([]string, len(c.Tiers))
	for i, t := range c.Tiers {
		names[i] = t.Name
	}
	return names
}

func text(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxText || !storable(s) {
		e := bad(field, "%s must be text (UTF-8, no NUL) of at most %d bytes", field, maxText)
		e.Limit = maxText
		return "", e
	}
	return s, nil
}

// segment checks a segment filter: segments are those of routing, which
// only the routing scorecard's alerts carry.
func segment(rules *score.Rules, c *score.Card, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	rt := rules.Routing
	if rt == nil || rt.Card != c {
		return "", bad("segment", "segments route %s only: %s has none", routed(rules), c.Name)
	}
	var names []string
	for _, sg := range rt.Segments {
		if sg.Name == s {
			return s, nil
		}
		names = append(names, sg.Name)
	}
	return "", bad("segment", "segment %q: want one of %s", s, strings.Join(names, ", "))
}

func routed(rules *score.Rules) string {
	if rules.Routing == nil || rules.Routing.Card == nil {
		return "no scorecard"
	}
	return rules.Routing.Card.Name
}

func flag(field, s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "0", "false", "no":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, bad(field, "%s %q: want 1 or 0", field, s)
}

func number(s, field string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		e := bad(field, "%s %q: want a whole number from %d to %d", field, s, lo, hi)
		e.Limit = hi
		return 0, e
	}
	return n, nil
}

// Values are q's parameters, without those at their defaults: what a link
// to the same view carries. with overrides some.
func (q Query) Values(with map[string]string) url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	if q.Card != nil {
		set("scorecard", q.Card.Name)
	}
	set("tier", q.Tier)
	set("q", q.Search)
	set("owner", q.Owner)
	set("segment", q.Segment)
	if q.Mine {
		v.Set("mine", "1")
	}
	if q.Held {
		v.Set("held", "1")
	}
	if q.Card != nil && q.Sort != DefaultSort(q.Card) {
		set("sort", q.Sort)
	}
	if q.Limit != DefaultLimit && q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Offset > 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	for k, val := range with {
		if val == "" {
			v.Del(k)
		} else {
			v.Set(k, val)
		}
	}
	return v
}

// Holds: an account snoozed until a date or disqualified, out of one
// scorecard's queue until its tier there rises.

// maxReason bounds a hold's reason, which is kept on the account.
const maxReason = 500

// HoldRequest is what a person asks to hold an account out of a queue.
type HoldRequest struct {
	Scorecard, Kind string
	// Until is a snooze's last day, YYYY-MM-DD; a disqualification has none.
	Until, Reason, By string
}

// NewHold checks a hold asked at now and returns it, for the account's
// subject to be set by the caller; what it cannot take is a ParamError.
func NewHold(rules *score.Rules, r HoldRequest, now time.Time) (store.Hold, error) {
	h := store.Hold{Scorecard: r.Scorecard, Kind: r.Kind, Reason: strings.TrimSpace(r.Reason), By: r.By, CreatedAt: now}
	if c, ok := rules.Card(h.Scorecard); !ok || c.Of != score.OfAccount {
		return h, bad("scorecard", "a hold is on one queue: scorecard %q, want one of %s", h.Scorecard,
			strings.Join(AccountCards(rules), ", "))
	}
	if h.Reason == "" || len(h.Reason) > maxReason || !storable(h.Reason) {
		e := bad("reason", "say why, in at most %d bytes: the reason is kept on the account", maxReason)
		e.Limit = maxReason
		return h, e
	}
	switch h.Kind {
	case store.HoldSnooze:
		until, err := time.Parse(time.DateOnly, r.Until)
		if err != nil || !until.After(now) || until.After(now.AddDate(1, 0, 0)) {
			return h, bad("until", "a snooze runs to a date (YYYY-MM-DD) after today and within a year, not %q", r.Until)
		}
		h.Until = until.UTC()
	case store.HoldDisqualify:
		if r.Until != "" {
			return h, bad("until", "a disqualification has no date: it lasts until the tier rises")
		}
	default:
		return h, bad("kind", "kind %q: want %s or %s", h.Kind, store.HoldSnooze, store.HoldDisqualify)
	}
	return h, nil
}

// HoldNote is the note a hold writes on its account.
func HoldNote(accountID string, h store.Hold) store.Note {
	body := "Disqualified from the " + h.Scorecard + " queue: " + h.Reason
	if h.Kind == store.HoldSnooze {
		body = "Snoozed on the " + h.Scorecard + " queue until " + h.Until.Format(time.DateOnly) + ": " + h.Reason
	}
	return store.Note{AccountID: accountID, Author: h.By, Body: body, CreatedAt: h.CreatedAt}
}

// ReleaseNote is the note putting an account back in a queue writes.
func ReleaseNote(accountID, scorecard, by string, now time.Time) store.Note {
	return store.Note{AccountID: accountID, Author: by, Body: "Back in the " + scorecard + " queue.", CreatedAt: now}
}

// maxNote bounds a note.
const maxNote = 4000

// NewNote checks a note written at now.
func NewNote(accountID, author, body string, now time.Time) (store.Note, error) {
	body = strings.TrimSpace(body)
	if body == "" || len(body) > maxNote || !storable(body) {
		e := bad("body", "a note is text of 1 to %d bytes", maxNote)
		e.Limit = maxNote
		return store.Note{}, e
	}
	return store.Note{AccountID: accountID, Author: author, Body: body, CreatedAt: now}, nil
}

// storable reports whether text can be kept and compared as written on
// both engines: UTF-8 without NUL, which PostgreSQL refuses.
func storable(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }
