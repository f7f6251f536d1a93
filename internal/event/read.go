package event

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// A message is read token by token rather than unmarshaled by reflection:
// the collector reads every message of every batch, and reflection, with a
// method call for each id, was most of the collector's CPU (docs/benchmarks.md).
// The reader keeps Segment's leniency as Unmarshal gave it (names matched
// case-insensitively, dashes and underscores ignored, the last of repeated
// names winning) and its strictness (a string field takes a string or null,
// an id a string, a number or null, traits and properties any value, checked
// later); a differential fuzz target holds the two to the same results.

// member is a name the reader knows, by its folded form (fold).
type member uint8

const (
	mUnknown member = iota
	mType
	mMessageID
	mUserID
	mAnonymousID
	mGroupID
	mPreviousID
	mEvent
	mName
	mTimestamp
	mOriginalTimestamp
	mSentAt
	mTraits
	mProperties
	mContext
	mWriteKey
	mBatch
)

var members = map[string]member{
	"TYPE": mType, "MESSAGEID": mMessageID, "USERID": mUserID, "ANONYMOUSID": mAnonymousID,
	"GROUPID": mGroupID, "PREVIOUSID": mPreviousID, "EVENT": mEvent, "NAME": mName,
	"TIMESTAMP": mTimestamp, "ORIGINALTIMESTAMP": mOriginalTimestamp, "SENTAT": mSentAt,
	"TRAITS": mTraits, "PROPERTIES": mProperties, "CONTEXT": mContext, "WRITEKEY": mWriteKey,
	"BATCH": mBatch,
}

// lookup finds the member a quoted name (as read) stands for: folded, it
// upper-cases letters (of every case that folds to them, as the Kelvin
// sign does to K) and drops dashes and underscores.
func lookup(quoted []byte) member {
	name := quoted[1 : len(quoted)-1]
	if m, ok := canonical(name); ok {
		return m
	}
	if bytes.IndexByte(name, '\\') >= 0 {
		var err error
		if name, err = jsontext.AppendUnquote(nil, quoted); err != nil {
			return mUnknown
		}
	}
	var buf [24]byte
	folded := buf[:0]
	for i := 0; i < len(name); {
		c := name[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(name[i:])
			f := foldRune(r)
			if f >= utf8.RuneSelf {
				return mUnknown // every known name is ASCII
			}
			c, i = byte(f), i+n
		} else {
			i++
		}
		switch {
		case c == '_' || c == '-':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		if len(folded) == cap(folded) {
			return mUnknown // longer than any known name
		}
		folded = append(folded, c)
	}
	return members[string(folded)]
}

// canonical finds the names as Segment's libraries write them without
// folding them: nearly every name read.
func canonical(name []byte) (member, bool) {
	switch string(name) {
	case "type":
		return mType, true
	case "messageId":
		return mMessageID, true
	case "userId":
		return mUserID, true
	case "anonymousId":
		return mAnonymousID, true
	case "groupId":
		return mGroupID, true
	case "previousId":
		return mPreviousID, true
	case "event":
		return mEvent, true
	case "name":
		return mName, true
	case "timestamp":
		return mTimestamp, true
	case "originalTimestamp":
		return mOriginalTimestamp, true
	case "sentAt":
		return mSentAt, true
	case "traits":
		return mTraits, true
	case "properties":
		return mProperties, true
	case "context":
		return mContext, true
	case "writeKey":
		return mWriteKey, true
	case "batch":
		return mBatch, true
	case "library", "ip", "userAgent", "page", "integrations", "channel", "locale", "timezone", "version":
		return mUnknown, true
	}
	return mUnknown, false
}

// foldRune is the least rune that folds to r's fold set.
func foldRune(r rune) rune {
	for {
		f := unicode.SimpleFold(r)
		if f <= r {
			return f
		}
		r = f
	}
}

// reader reads one request's values. A semantic fault (a value of the
// wrong kind) is kept, the first of them, and reading goes on; a syntactic
// one stops it.
type reader struct {
	dec   jsontext.Decoder
	buf   bytes.Buffer
	fault *Error
	// start is where the value open read last began.
	start int64
}

func (r *reader) reset(data []byte) {
	r.buf = *bytes.NewBuffer(data)
	r.dec.Reset(&r.buf, jsontext.AllowDuplicateNames(true))
	r.fault, r.start = nil, 0
}

// wrong keeps the fault of field holding v, which is not what it takes.
func (r *reader) wrong(field, takes string, v jsontext.Value) {
	if r.fault == nil {
		r.fault = &Error{Kind: KindMalformed, Field: field,
			Message: fmt.Sprintf("malformed JSON: %s is %s, not %s", field, kindName(v.Kind()), takes)}
	}
}

// end reports whether nothing but white space follows the value read.
func (r *reader) end() error {
	if _, err := r.dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("more than one JSON value")
		}
		return err
	}
	return nil
}

// text reads a string or null ("") for field.
func (r *reader) text(field string) (string, error) { return r.scalar(field, false) }

// id reads a string, a number (as written) or null ("") for field: some
// SDKs send numeric user ids.
func (r *reader) id(field string) (string, error) { return r.scalar(field, true) }

func (r *reader) scalar(field string, numbers bool) (string, error) {
	v, err := r.dec.ReadValue()
	if err != nil {
		return "", err
	}
	switch k := v.Kind(); {
	case k == '"':
		return unquote(v), nil
	case k == 'n':
		return "", nil
	case k == '0' && numbers:
		if _, err := strconv.ParseFloat(string(v), 64); err != nil {
			r.wrong(field, "a number a float64 holds", v)
			return "", nil
		}
		return string(v), nil
	case numbers:
		r.wrong(field, "a string or a number", v)
	default:
		r.wrong(field, "a string", v)
	}
	return "", nil
}

// shape reads any value and returns its kind, or was for null.
func (r *reader) shape(was shape) (shape, error) {
	v, err := r.dec.ReadValue()
	if err != nil || v.Kind() == 'n' {
		return was, err
	}
	return shape(v[0]), nil
}

// open reads the start of an object for field and reports true; for null,
// or a value of another kind (a fault), it reads the whole value and
// reports false.
func (r *reader) open(field string) (bool, error) {
	if r.dec.PeekKind() == '{' {
		_, err := r.dec.ReadToken()
		r.start = r.dec.InputOffset() - 1
		return err == nil, err
	}
	v, err := r.dec.ReadValue()
	if err != nil {
		return false, err
	}
	r.start = r.dec.InputOffset() - int64(len(v))
	if v.Kind() != 'n' {
		r.wrong(field, "an object", v)
	}
	return false, nil
}

// members calls fn with the member each name of the object open opened
// stands for, for fn to read its value, then reads the object's end.
func (r *reader) members(fn func(member) error) error {
	for r.dec.PeekKind() != '}' {
		name, err := r.dec.ReadValue()
		if err != nil {
			return err
		}
		if err := fn(lookup(name)); err != nil {
			return err
		}
	}
	_, err := r.dec.ReadToken()
	return err
}

// message reads a message into w, as Unmarshal into a struct reads an
// object: null leaves it empty. It returns where the message began.
func (r *reader) message(w *wire) (int64, error) {
	*w = wire{}
	ok, err := r.open("the message")
	start := r.start
	if !ok || err != nil {
		return start, err
	}
	return start, r.members(func(m member) error {
		var err error
		switch m {
		case mType:
			w.Type, err = r.text("type")
		case mMessageID:
			w.MessageID, err = r.id("messageId")
		case mUserID:
			w.UserID, err = r.id("userId")
		case mAnonymousID:
			w.AnonymousID, err = r.id("anonymousId")
		case mGroupID:
			w.GroupID, err = r.id("groupId")
		case mPreviousID:
			w.PreviousID, err = r.id("previousId")
		case mEvent:
			w.Event, err = r.text("event")
		case mName:
			w.Name, err = r.text("name")
		case mTimestamp:
			w.Timestamp, err = r.text("timestamp")
		case mOriginalTimestamp:
			w.OriginalTimestamp, err = r.text("originalTimestamp")
		case mSentAt:
			w.SentAt, err = r.text("sentAt")
		case mTraits:
			w.Traits, err = r.shape(w.Traits)
		case mProperties:
			w.Properties, err = r.shape(w.Properties)
		case mWriteKey:
			w.WriteKey, err = r.text("writeKey")
		case mContext:
			err = r.context(w)
		default:
			err = r.dec.SkipValue()
		}
		return err
	})
}

// context reads the one member of context Beacon takes, groupId; null
// empties it, and a repeated context adds to the first.
func (r *reader) context(w *wire) error {
	ok, err := r.open("context")
	if err != nil {
		return err
	}
	if !ok {
		w.ContextGroupID = ""
		return nil
	}
	return r.members(func(m member) error {
		if m == mGroupID {
			var err error
			w.ContextGroupID, err = r.id("context.groupId")
			return err
		}
		return r.dec.SkipValue()
	})
}

// unquote returns a string value's text.
func unquote(v jsontext.Value) string {
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1])
	}
	b, _ := jsontext.AppendUnquote(nil, v) // the decoder has checked it
	return string(b)
}
