package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// The reference the reader is held to: messages unmarshaled by reflection
// into a tagged struct, as Beacon decoded them before the reader, with
// unmarshal's options (names matched case-insensitively, dashes and
// underscores ignored, repeated names allowed, the last winning).

type refWire struct {
	Type              string  `json:"type"`
	MessageID         refFlex `json:"messageId"`
	UserID            refFlex `json:"userId"`
	AnonymousID       refFlex `json:"anonymousId"`
	GroupID           refFlex `json:"groupId"`
	PreviousID        refFlex `json:"previousId"`
	Event             string  `json:"event"`
	Name              string  `json:"name"`
	Timestamp         string  `json:"timestamp"`
	OriginalTimestamp string  `json:"originalTimestamp"`
	SentAt            string  `json:"sentAt"`
	Traits            refKind `json:"traits"`
	Properties        refKind `json:"properties"`
	Context           struct {
		GroupID refFlex `json:"groupId"`
	} `json:"context"`
	WriteKey string `json:"writeKey"`
}

type refFlex string

func (f *refFlex) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = refFlex(s)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		if _, err := strconv.ParseFloat(string(b), 64); err != nil {
			return err
		}
		*f = refFlex(b)
	default:
		return fmt.Errorf("want a string or a number, got %s", b)
	}
	return nil
}

type refKind byte

func (s *refKind) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && string(b) != "null" {
		*s = refKind(b[0])
	}
	return nil
}

func (r *refWire) wire() wire {
	return wire{Type: r.Type, MessageID: string(r.MessageID), UserID: string(r.UserID), AnonymousID: string(r.AnonymousID),
		GroupID: string(r.GroupID), PreviousID: string(r.PreviousID), Event: r.Event, Name: r.Name,
		Timestamp: r.Timestamp, OriginalTimestamp: r.OriginalTimestamp, SentAt: r.SentAt,
		Traits: shape(r.Traits), Properties: shape(r.Properties), ContextGroupID: string(r.Context.GroupID), WriteKey: r.WriteKey}
}

func refDecode(raw []byte, typ string, env Envelope) (Event, string, *Error) {
	if len(raw) > MaxMessageBytes {
		return Event{}, "", tooLarge(len(raw))
	}
	var rw refWire
	if err := unmarshal(raw, &rw); err != nil {
		return Event{}, "", malformed(err)
	}
	w := rw.wire()
	return build(raw, &w, typ, env)
}

func refDecodeBatch(body []byte, receivedAt time.Time) (Batch, *Error) {
	var w struct {
		Batch    []jsontext.Value `json:"batch"`
		SentAt   string           `json:"sentAt"`
		WriteKey string           `json:"writeKey"`
	}
	if err := unmarshal(body, &w); err != nil {
		return Batch{}, malformed(err)
	}
	if w.Batch == nil {
		return Batch{}, missing("batch", "a batch request needs a batch array")
	}
	sent, perr := parseTime("sentAt", w.SentAt)
	if perr != nil {
		return Batch{}, perr
	}
	b := Batch{WriteKey: w.WriteKey, Events: make([]Event, 0, len(w.Batch))}
	env := Envelope{SentAt: sent, ReceivedAt: receivedAt}
	for i, raw := range w.Batch {
		e, key, err := refDecode(raw, "", env)
		if b.WriteKey == "" {
			b.WriteKey = key
		}
		if err != nil {
			b.Errors = append(b.Errors, err.At(i))
			continue
		}
		b.Events = append(b.Events, e)
	}
	return b, nil
}
