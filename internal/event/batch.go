package event

import (
	"fmt"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Batch is the result of decoding a request that may hold many messages:
// the valid events, and an error for each message that was refused.
type Batch struct {
	WriteKey string
	Events   []Event
	Errors   []*Error
}

type batchWire struct {
	Batch    []jsontext.Value `json:"batch"`
	SentAt   string           `json:"sentAt"`
	WriteKey string           `json:"writeKey"`
}

// DecodeBatch decodes a /v1/batch (or /v1/import) body. A malformed envelope
// fails the whole request; an invalid message is refused alone, with its index.
func DecodeBatch(body []byte, receivedAt time.Time) (Batch, *Error) {
	var w batchWire
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
		e, key, err := Decode(raw, "", env)
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

// DecodeOne decodes a single-call body such as /v1/track.
func DecodeOne(body []byte, typ string, receivedAt time.Time) (Batch, *Error) {
	e, key, err := Decode(body, typ, Envelope{ReceivedAt: receivedAt})
	if err != nil {
		if err.Kind == KindMalformed || err.Kind == KindTooLarge {
			return Batch{}, err
		}
		return Batch{WriteKey: key, Errors: []*Error{err}}, nil
	}
	return Batch{WriteKey: key, Events: []Event{e}}, nil
}

// RequestTooLarge is the error for a body over MaxRequestBytes.
func RequestTooLarge() *Error {
	return &Error{Kind: KindBadRequest, Limit: MaxRequestBytes,
		Message: fmt.Sprintf("request body is over the limit of %d bytes", MaxRequestBytes)}
}
