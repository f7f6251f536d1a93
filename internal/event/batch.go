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
	Batch    messages `json:"batch"`
	SentAt   string   `json:"sentAt"`
	WriteKey string   `json:"writeKey"`
}

// messages are the members of a batch array, as slices of the request body:
// an event keeps its message as it came, and the body is read once. Read
// into values of their own, every message was copied before it was decoded.
type messages struct {
	body    []byte // what the decoder reads
	present bool   // an array, not null or absent
	raw     [][]byte
}

func (m *messages) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	m.present, m.raw = false, m.raw[:0] // the last of repeated names wins
	switch k := dec.PeekKind(); k {
	case 'n':
		_, err := dec.ReadToken()
		return err
	case '[':
	default:
		return fmt.Errorf("batch is %s, not an array", kindName(k))
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != ']' {
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		end := dec.InputOffset()
		m.raw = append(m.raw, m.body[end-int64(len(v)):end:end])
	}
	m.present = true
	_, err := dec.ReadToken()
	return err
}

// kindName names a JSON kind as a message to a sender would.
func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	}
	return "missing"
}

// DecodeBatch decodes a /v1/batch (or /v1/import) body. A malformed envelope
// fails the whole request; an invalid message is refused alone, with its index.
// Events hold slices of body, which the caller must leave as it is.
func DecodeBatch(body []byte, receivedAt time.Time) (Batch, *Error) {
	w := batchWire{Batch: messages{body: body}}
	if err := unmarshal(body, &w); err != nil {
		return Batch{}, malformed(err)
	}
	if !w.Batch.present {
		return Batch{}, missing("batch", "a batch request needs a batch array")
	}
	return decodeMessages(w.Batch.raw, w.SentAt, w.WriteKey, receivedAt)
}

// decodeMessages decodes the messages of a batch sent at sentAt; a message
// refused is refused alone. The batch's write key is writeKey, or else the
// first one a message names.
func decodeMessages(raws [][]byte, sentAt, writeKey string, receivedAt time.Time) (Batch, *Error) {
	sent, perr := parseTime("sentAt", sentAt)
	if perr != nil {
		return Batch{}, perr
	}
	b := Batch{WriteKey: writeKey, Events: make([]Event, 0, len(raws))}
	env := Envelope{SentAt: sent, ReceivedAt: receivedAt}
	for i, raw := range raws {
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
