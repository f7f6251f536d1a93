package event

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// wire is what Beacon reads of a Segment message as it arrives (reader).
// Traits and properties are only checked here: the message body is kept
// whole.
type wire struct {
	Type, MessageID, UserID, AnonymousID, GroupID, PreviousID string
	Event, Name, Timestamp, OriginalTimestamp, SentAt         string
	Traits, Properties                                        shape
	ContextGroupID                                            string
	WriteKey                                                  string
}

// shape records what kind of JSON value a field holds: the first byte of
// its value, or 0 for none.
type shape byte

func (s shape) objectOrNone() bool { return s == 0 || s == '{' }

// Envelope carries what a batch request shares with all its messages.
type Envelope struct {
	WriteKey   string
	SentAt     time.Time
	ReceivedAt time.Time
}

// Decode validates one message. typ forces the message type (the single-call
// endpoints imply it); pass "" to read it from the message. The returned
// write key is the one found in the body, if any.
func Decode(raw []byte, typ string, env Envelope) (Event, string, *Error) {
	if len(raw) > MaxMessageBytes {
		return Event{}, "", tooLarge(len(raw))
	}
	var r reader
	r.reset(raw)
	var w wire
	_, err := r.message(&w)
	if err == nil {
		err = r.end()
	}
	if err != nil {
		return Event{}, "", malformed(err)
	}
	if r.fault != nil {
		return Event{}, "", r.fault
	}
	return build(raw, &w, typ, env)
}

func tooLarge(n int) *Error {
	return &Error{Kind: KindTooLarge, Limit: MaxMessageBytes,
		Message: fmt.Sprintf("message is %d bytes, over the limit of %d bytes", n, MaxMessageBytes)}
}

// build makes the event of a message read into w, typ forcing its type.
func build(raw []byte, w *wire, typ string, env Envelope) (Event, string, *Error) {
	if typ == "" {
		typ = w.Type
	}
	e := Event{
		Type:        typ,
		MessageID:   w.MessageID,
		UserID:      w.UserID,
		AnonymousID: w.AnonymousID,
		GroupID:     w.GroupID,
		PreviousID:  w.PreviousID,
		ReceivedAt:  env.ReceivedAt.UTC(),
		Body:        json.RawMessage(raw),
	}
	if err := e.fill(w, env); err != nil {
		return Event{}, w.WriteKey, err
	}
	if err := finite(raw); err != nil {
		return Event{}, w.WriteKey, err
	}
	return e, w.WriteKey, nil
}

func (e *Event) fill(w *wire, env Envelope) *Error {
	switch e.Type {
	case Track:
		if w.Event == "" {
			return missing("event", "a track call needs an event name")
		}
		e.Name = w.Event
	case Page, Screen:
		e.Name = w.Name
	case Group:
		if e.GroupID == "" {
			return missing("groupId", "a group call needs a groupId")
		}
	case Alias:
		if e.PreviousID == "" {
			return missing("previousId", "an alias call needs a previousId")
		}
	case Identify:
	case "":
		return missing("type", "the message has no type")
	default:
		return &Error{Kind: KindBadType, Field: "type",
			Message: fmt.Sprintf("type %q is not one of track, identify, group, page, screen, alias", e.Type)}
	}
	if e.UserID == "" && e.AnonymousID == "" {
		return missing("userId", "either userId or anonymousId is required")
	}
	if e.GroupID == "" {
		e.GroupID = w.ContextGroupID
	}
	if !w.Traits.objectOrNone() {
		return invalid("traits", "traits must be a JSON object")
	}
	if !w.Properties.objectOrNone() {
		return invalid("properties", "properties must be a JSON object")
	}
	name := "event"
	if e.Type != Track {
		name = "name"
	}
	// Identifiers become indexed text columns, where NUL is not allowed,
	// and every reader of them (nudges, timelines, pages) takes the same
	// length.
	for _, f := range [...]struct{ name, v string }{{"messageId", e.MessageID}, {"userId", e.UserID},
		{"anonymousId", e.AnonymousID}, {"groupId", e.GroupID}, {"previousId", e.PreviousID}, {name, e.Name}} {
		if strings.IndexByte(f.v, 0) >= 0 || !utf8.ValidString(f.v) {
			return invalid(f.name, f.name+" must be valid UTF-8 text without NUL characters")
		}
		if len(f.v) > MaxIDBytes {
			err := invalid(f.name, fmt.Sprintf("%s is %d bytes long: the limit is %d", f.name, len(f.v), MaxIDBytes))
			err.Limit = MaxIDBytes
			return err
		}
	}
	if e.MessageID == "" {
		e.MessageID = newMessageID()
	}
	return e.times(w, env)
}

// times applies Segment's clock-skew correction: when the client says both
// when the event happened and when it sent it, the gap between the two is
// trusted but the client's clock is not, so
// timestamp = receivedAt − (sentAt − originalTimestamp).
func (e *Event) times(w *wire, env Envelope) *Error {
	orig, err := parseTime("timestamp", w.Timestamp)
	if err != nil {
		return err
	}
	if orig.IsZero() {
		if orig, err = parseTime("originalTimestamp", w.OriginalTimestamp); err != nil {
			return err
		}
	}
	sent, err := parseTime("sentAt", w.SentAt)
	if err != nil {
		return err
	}
	if sent.IsZero() {
		sent = env.SentAt
	}
	e.OriginalTimestamp, e.SentAt = orig, sent
	switch {
	case orig.IsZero():
		e.Timestamp = e.ReceivedAt
	case sent.IsZero() || overflows(sent.Sub(orig)):
		// A gap of centuries is no clock's skew: Go's durations do not
		// even hold it.
		e.Timestamp = orig
	default:
		e.Timestamp = e.ReceivedAt.Add(-sent.Sub(orig))
	}
	if !plausible(e.Timestamp, e.ReceivedAt) {
		// Before 2000 or more than a day ahead: a broken clock, not a
		// time. The event counts as received; the message keeps its own.
		e.Timestamp = e.ReceivedAt
	}
	return nil
}

// Timestamps Beacon takes as they are (after clock-skew correction): from
// 2000 to a day after the message was received. Others are the message's
// receipt time, the message as sent keeping its own.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const latestAhead = 24 * time.Hour

// overflows reports a duration time.Sub saturated: the times were nearly
// three centuries or more apart.
func overflows(d time.Duration) bool { return d == math.MaxInt64 || d == math.MinInt64 }

// plausible reports whether t can be when something happened, received at
// received: from 2000 to a day after.
func plausible(t, received time.Time) bool {
	return !t.Before(earliest) && !t.After(received.Add(latestAhead))
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"}

func parseTime(field, s string) (time.Time, *Error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, invalid(field, fmt.Sprintf("%s %q is not an ISO-8601 date-time", field, s))
}

func malformed(err error) *Error {
	return &Error{Kind: KindMalformed, Message: "malformed JSON: " + err.Error()}
}

func missing(field, msg string) *Error {
	return &Error{Kind: KindMissing, Field: field, Message: msg}
}

func invalid(field, msg string) *Error {
	return &Error{Kind: KindBadField, Field: field, Message: msg}
}

// newMessageID gives messages that arrive without one an id, as Segment does;
// such messages cannot be deduplicated on retry.
func newMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "beacon-" + hex.EncodeToString(b[:])
}
