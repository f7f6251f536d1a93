package event

import (
	"cmp"
	"errors"
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

// DecodeBatch decodes a /v1/batch (or /v1/import) body in one pass. A
// malformed envelope fails the whole request; an invalid message is refused
// alone, with its index. Events hold slices of body, which the caller must
// leave as it is.
func DecodeBatch(body []byte, receivedAt time.Time) (Batch, *Error) {
	var r reader
	r.reset(body)
	var msgs []read
	var sentAt, writeKey string
	present := false
	ok, err := r.open("the request")
	if ok {
		err = r.members(func(m member) error {
			var err error
			switch m {
			case mBatch:
				present, msgs, err = r.batch(body, msgs[:0])
			case mSentAt:
				sentAt, err = r.text("sentAt")
			case mWriteKey:
				writeKey, err = r.text("writeKey")
			default:
				err = r.dec.SkipValue()
			}
			return err
		})
	}
	if err == nil {
		err = r.end()
	}
	if errors.Is(err, errTooMany) {
		return Batch{}, &Error{Kind: KindBadRequest, Field: "batch", Limit: MaxBatchMessages,
			Message: fmt.Sprintf("a batch holds at most %d messages", MaxBatchMessages)}
	}
	if err != nil {
		return Batch{}, malformed(err)
	}
	if r.fault != nil {
		return Batch{}, r.fault
	}
	if !present {
		return Batch{}, missing("batch", "a batch request needs a batch array")
	}
	return decodeMessages(msgs, sentAt, writeKey, receivedAt)
}

// read is a message of a batch as read: its bytes, what it says, and the
// fault that refuses it, if any.
type read struct {
	raw   []byte
	w     wire
	fault *Error
}

// batch reads the batch array into msgs, each message as a slice of body;
// it reports false for null. The last of repeated batches wins.
func (r *reader) batch(body []byte, msgs []read) (bool, []read, error) {
	switch k := r.dec.PeekKind(); k {
	case 'n':
		_, err := r.dec.ReadValue()
		return false, msgs, err
	case '[':
	default:
		v, err := r.dec.ReadValue()
		if err == nil {
			r.wrong("batch", "an array", v)
		}
		return false, msgs, err
	}
	if _, err := r.dec.ReadToken(); err != nil {
		return false, msgs, err
	}
	outer := r.fault
	for r.dec.PeekKind() != ']' {
		if len(msgs) == MaxBatchMessages {
			return false, msgs, errTooMany
		}
		r.fault = nil
		var m read
		start, err := r.message(&m.w)
		if err != nil {
			return false, msgs, err
		}
		end := r.dec.InputOffset()
		m.raw, m.fault = body[start:end:end], r.fault
		msgs = append(msgs, m)
	}
	r.fault = outer
	_, err := r.dec.ReadToken()
	return true, msgs, err
}

// decodeMessages decodes the messages of a batch sent at sentAt; a message
// refused is refused alone. The batch's write key is writeKey, or else the
// first one a message names.
func decodeMessages(msgs []read, sentAt, writeKey string, receivedAt time.Time) (Batch, *Error) {
	sent, perr := parseTime("sentAt", sentAt)
	if perr != nil {
		return Batch{}, perr
	}
	b := Batch{WriteKey: writeKey, Events: make([]Event, 0, len(msgs))}
	env := Envelope{SentAt: sent, ReceivedAt: receivedAt}
	for i := range msgs {
		m := &msgs[i]
		e, key, err := Event{}, "", m.fault
		switch {
		case len(m.raw) > MaxMessageBytes:
			err = tooLarge(len(m.raw))
		case err == nil:
			e, key, err = build(m.raw, &m.w, "", env)
		}
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

// errTooMany ends a batch's reading at MaxBatchMessages messages and more;
// errFound a scan that found what it looked for.
var (
	errTooMany = errors.New("too many messages")
	errFound   = errors.New("found")
)

// WriteKey finds the write key a body names: the request's own, or else the
// first message's of its batch (a single message's own for the other
// paths), as decoding does. It reads the body as tokens and decodes nothing
// else, so that a request is authenticated before its messages cost
// anything. "" when it names none, or is not JSON as far as it was read.
func WriteKey(body []byte) string {
	var r reader
	r.reset(body)
	if ok, err := r.open("the request"); !ok || err != nil {
		return ""
	}
	var own, first string
	err := r.members(func(m member) error {
		switch m {
		case mWriteKey:
			k, err := r.text("writeKey")
			if own = k; err == nil && k != "" {
				return errFound // the request's own wins: read no further
			}
			return err
		case mBatch:
			var err error
			first, err = r.firstKey()
			return err
		}
		return r.dec.SkipValue()
	})
	if err != nil && !errors.Is(err, errFound) {
		return ""
	}
	return cmp.Or(own, first)
}

// firstKey reads a batch array and returns its first message's write key,
// if any; the rest it skips.
func (r *reader) firstKey() (string, error) {
	if r.dec.PeekKind() != '[' {
		return "", r.dec.SkipValue()
	}
	if _, err := r.dec.ReadToken(); err != nil {
		return "", err
	}
	var key string
	if r.dec.PeekKind() == '{' {
		if _, err := r.dec.ReadToken(); err != nil {
			return "", err
		}
		err := r.members(func(m member) error {
			if m == mWriteKey {
				k, err := r.text("writeKey")
				key = k
				return err
			}
			return r.dec.SkipValue()
		})
		if err != nil {
			return "", err
		}
	}
	for r.dec.PeekKind() != ']' {
		if err := r.dec.SkipValue(); err != nil {
			return "", err
		}
	}
	_, err := r.dec.ReadToken()
	return key, err
}
