package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/beaconplg/beacon/internal/event"
)

// A block is a run of events in stream order, packed for replay: the few
// fields replay reads (properties, not the whole body), with each distinct
// string (type, name, id) written once per block and numbers as deltas. Reading a block is one value for
// the driver to return instead of a row with eight columns per event, which
// is what bounds replaying the rows.
//
// Layout, all integers varints:
//
//	version (2) · events · strings · each string: length, bytes
//	each event: seq − previous seq, ms − previous ms (signed),
//	  type, name, userId, anonymousId, groupId, previousId (string number,
//	  0 for none, i for the i-th string), properties length, properties
const blockVersion = 2

// errBlock is what a block that cannot be decoded wraps.
var errBlock = errors.New("corrupt stream block")

// encodeBlock packs evs, of which it keeps Seq, Type, Name, the four ids,
// Timestamp and Properties.
func encodeBlock(evs []event.Event) []byte {
	nums := map[string]uint64{}
	var strs []string
	num := func(s string) uint64 {
		if s == "" {
			return 0
		}
		n, ok := nums[s]
		if !ok {
			strs = append(strs, s)
			n = uint64(len(strs))
			nums[s] = n
		}
		return n
	}
	var body []byte
	var seq, ts int64
	for i := range evs {
		e := &evs[i]
		t := e.Timestamp.UnixMilli()
		if e.Timestamp.IsZero() {
			t = 0
		}
		body = binary.AppendVarint(body, e.Seq-seq)
		body = binary.AppendVarint(body, t-ts)
		seq, ts = e.Seq, t
		for _, s := range [...]string{e.Type, e.Name, e.UserID, e.AnonymousID, e.GroupID, e.PreviousID} {
			body = binary.AppendUvarint(body, num(s))
		}
		body = binary.AppendUvarint(body, uint64(len(e.Properties)))
		body = append(body, e.Properties...)
	}
	out := binary.AppendUvarint(nil, blockVersion)
	out = binary.AppendUvarint(out, uint64(len(evs)))
	out = binary.AppendUvarint(out, uint64(len(strs)))
	for _, s := range strs {
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	return append(out, body...)
}

// blockReader walks a block's bytes; the first fault sticks.
type blockReader struct {
	b    []byte
	strs []string // the block's strings, from 1; 0 is ""
	err  error
}

func (r *blockReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s at byte %d from the end", errBlock, what, len(r.b))
	}
}

// uvarint and varint take one-byte numbers, most of a block's, inline.
func (r *blockReader) uvarint(what string) uint64 {
	if len(r.b) > 0 && r.b[0] < 0x80 {
		v := uint64(r.b[0])
		r.b = r.b[1:]
		return v
	}
	return next(r, what, binary.Uvarint)
}

func (r *blockReader) varint(what string) int64 {
	if len(r.b) > 0 && r.b[0] < 0x80 {
		u := r.b[0]
		r.b = r.b[1:]
		if u&1 != 0 {
			return ^int64(u >> 1)
		}
		return int64(u >> 1)
	}
	return next(r, what, binary.Varint)
}

// str reads a string number and returns the string.
func (r *blockReader) str(what string) string {
	i := r.uvarint(what)
	if i >= uint64(len(r.strs)) {
		r.fail(what)
		return ""
	}
	return r.strs[i]
}

// next reads one number with read.
func next[T uint64 | int64](r *blockReader, what string, read func([]byte) (T, int)) T {
	v, n := read(r.b)
	if n <= 0 {
		r.fail(what)
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes returns the next n bytes, without copying.
func (r *blockReader) bytes(n uint64, what string) []byte {
	if n > uint64(len(r.b)) {
		r.fail(what)
		r.b = nil
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// decodeBlock unpacks a block, into the room of into if it has enough.
// Nothing decoded shares data's memory: the driver may reuse it.
func decodeBlock(data []byte, into []event.Event) ([]event.Event, error) {
	r := &blockReader{b: data}
	if v := r.uvarint("version"); r.err == nil && v != blockVersion {
		return nil, fmt.Errorf("%w: version %d", errBlock, v)
	}
	n, count := r.uvarint("event count"), r.uvarint("string count")
	// Each event takes at least 9 bytes and each string 1: counts that
	// cannot fit are corrupt, not a reason to allocate.
	if r.err == nil && (n > uint64(len(r.b))/9 || count > uint64(len(r.b))) {
		r.fail("counts")
	}
	if r.err != nil {
		return nil, r.err
	}
	r.strs = make([]string, count+1)
	for i := range count {
		r.strs[i+1] = string(r.bytes(r.uvarint("string length"), "string"))
	}
	evs := into[:0]
	if uint64(cap(into)) < n {
		evs = make([]event.Event, 0, n)
	}
	evs = evs[:n]
	var seq, ts int64
	for i := range evs {
		seq += r.varint("seq")
		ts += r.varint("timestamp")
		evs[i] = event.Event{Seq: seq, Timestamp: fromMS(ts), Type: r.str("type"), Name: r.str("name"),
			UserID: r.str("userId"), AnonymousID: r.str("anonymousId"), GroupID: r.str("groupId"), PreviousID: r.str("previousId")}
		if b := r.bytes(r.uvarint("properties length"), "properties"); len(b) > 0 {
			evs[i].Properties = bytes.Clone(b)
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	if len(r.b) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last event", errBlock, len(r.b))
	}
	return evs, nil
}
