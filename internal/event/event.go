// Package event owns Beacon's model of a product event: the Segment message
// types (track, identify, group, page, screen, alias), how a message is decoded
// and validated from JSON, and how its timestamps are corrected for client
// clock skew. Everything downstream of the collector and the importer sees
// events only through this package.
package event

import (
	"encoding/json"
	"time"
)

// Message types of the Segment Tracking API.
const (
	Track    = "track"
	Identify = "identify"
	Group    = "group"
	Page     = "page"
	Screen   = "screen"
	Alias    = "alias"
)

// Limits from Segment's HTTP Tracking API, which SDKs already respect.
const (
	MaxMessageBytes = 32 << 10
	MaxRequestBytes = 500 << 10
	// MaxBatchMessages bounds the messages of a batch: Segment's 500 KB
	// budget over a floor of 50 bytes a message, which the smallest real
	// message exceeds. Past it, a batch is refused before its messages
	// are decoded.
	MaxBatchMessages = 10_000
	// MaxIDBytes bounds ids (messageId, userId, anonymousId, groupId,
	// previousId) and event and page names: generous for any real id or
	// name, and one limit for every reader of them.
	MaxIDBytes = 256
)

// Event is one validated message, ready to be stored. Body holds the message
// as the client sent it, so nothing the SDK recorded is ever lost even when
// Beacon does not interpret it yet.
type Event struct {
	Seq int64 // assigned by the store; 0 until stored
	// Tx is, on PostgreSQL, the transaction that committed the event: with
	// Seq, its place in commit order (a store cursor). 0 on SQLite, where
	// Seq alone is, and where only some reads fill it.
	Tx                uint64
	MessageID         string
	Type              string
	Name              string // track: event name; page/screen: page name
	UserID            string
	AnonymousID       string
	GroupID           string // group call, or context.groupId on any call
	PreviousID        string // alias
	Timestamp         time.Time
	OriginalTimestamp time.Time // zero when the client sent none
	SentAt            time.Time // zero when the client sent none
	ReceivedAt        time.Time
	// Traits and Properties are filled when events are read back from the
	// store; at intake they stay inside Body.
	Traits     json.RawMessage
	Properties json.RawMessage
	Body       json.RawMessage
}

// ErrorKind values name what made a message invalid; they are also the
// "reason" label of the rejected-events metric.
const (
	KindMalformed  = "malformed_json"
	KindTooLarge   = "message_too_large"
	KindMissing    = "missing_field"
	KindBadField   = "invalid_field"
	KindBadType    = "unknown_type"
	KindBadRequest = "request_too_large"
)

// Error describes why one message (or a whole request) was refused, naming the
// field or limit so the sender can fix it.
type Error struct {
	Kind    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Index   *int   `json:"index,omitempty"`
	Limit   int    `json:"limit,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// At returns a copy of e that names the message's index in its batch.
func (e *Error) At(i int) *Error {
	c := *e
	c.Index = &i
	return &c
}
