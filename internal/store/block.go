package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/beaconplg/beacon/internal/event"
)

// A block is a run of events in stream order, packed for replay: the few
// fields replay reads (properties, not the whole body), with each distinct
// string (type, name, id) and each distinct properties object written once
// per block, and numbers as deltas. Reading a block is one value for the
// driver to return instead of a row with eight columns per event, which is
// what bounds replaying the rows. The strings are laid out together so that
// decoding copies them once, not once each.
//
// Layout, all integers varints:
//
//	version (3) · events
//	strings: count, each length, then their bytes one after another
//	properties: the same
//	each event: seq − previous seq, ms − previous ms (signed),
//	  type, name, userId, anonymousId, groupId, previousId (string number,
//	  0 for none, i for the i-th string), properties (number, the same)
const blockVersion = 3

// errBlock is what a block that cannot be decoded wraps.
var errBlock = errors.New("corrupt stream block")

// dictionary numbers distinct strings from 1, 0 standing for "".
type dictionary struct {
	nums map[string]uint64
	strs []string
}

func (d *dictionary) num(s string) uint64 {
	if s == "" {
		return 0
	}
	n, ok := d.nums[s]
	if !ok {
		d.strs = append(d.strs, s)
		n = uint64(len(d.strs))
		d.nums[s] = n
	}
	return n
}

func (d *dictionary) appendTo(out []byte) []byte {
	out = binary.AppendUvarint(out, uint64(len(d.strs)))
	for _, s := range d.strs {
		out = binary.AppendUvarint(out, uint64(len(s)))
	}
	for _, s := range d.strs {
		out = append(out, s...)
	}
	return out
}

// encodeBlock packs evs, of which it keeps Seq, Type, Name, the four ids,
// Timestamp and Properties.
func encodeBlock(evs []event.Event) []byte { return new(blockEncoder).encode(evs) }

// blockEncoder packs blocks one after another, its dictionaries kept from
// one to the next: grown anew for each block, they took a tenth of a first
// replay's time.
type blockEncoder struct {
	strs, props dictionary
}

func (d *dictionary) reset() {
	if d.nums == nil {
		d.nums = map[string]uint64{}
	}
	clear(d.nums)
	clear(d.strs) // they hold on to the last block's strings
	d.strs = d.strs[:0]
}

func (enc *blockEncoder) encode(evs []event.Event) []byte {
	strs, props := &enc.strs, &enc.props
	strs.reset()
	props.reset()
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
			body = binary.AppendUvarint(body, strs.num(s))
		}
		body = binary.AppendUvarint(body, props.num(string(e.Properties)))
	}
	out := binary.AppendUvarint(nil, blockVersion)
	out = binary.AppendUvarint(out, uint64(len(evs)))
	out = strs.appendTo(out)
	out = props.appendTo(out)
	return append(out, body...)
}

// blockReader walks a block's bytes; the first fault sticks.
type blockReader struct {
	b     []byte
	strs  []string // the block's strings, from 1; 0 is ""
	props [][]byte // its properties, the same way
	room  *blockRoom
	err   error
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

// props reads a properties number and returns the properties.
func (r *blockReader) prop() []byte {
	i := r.uvarint("properties")
	if i >= uint64(len(r.props)) {
		r.fail("properties")
		return nil
	}
	return r.props[i]
}

// spans reads a dictionary's count and lengths and returns the region of
// its bytes and where each entry ends in it (ends[0] = 0 for entry 0, "").
// Each entry takes at least one byte of length: a count that cannot fit is
// corrupt, not a reason to allocate.
func (r *blockReader) spans(what, count, length string) ([]byte, []int) {
	n := r.uvarint(count)
	if r.err != nil || n > uint64(len(r.b)) {
		r.fail(count)
		return nil, nil
	}
	r.room.ends = slices.Grow(r.room.ends[:0], int(n)+1)[:n+1]
	ends := r.room.ends
	ends[0] = 0
	total := uint64(0)
	for i := range n {
		// No entry is longer than the block, so the sum cannot wrap
		// around; r.bytes checks it against what is left.
		size := r.uvarint(length)
		if r.err != nil || size > uint64(len(r.b)) {
			r.fail(length)
			return nil, nil
		}
		total += size
		ends[i+1] = int(total)
	}
	region := r.bytes(total, what)
	if r.err != nil {
		return nil, nil
	}
	return region, ends
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

// blockRoom is what decoding a block needs only while it runs, kept for
// the next block: a replay decodes thousands.
type blockRoom struct {
	strs  []string
	props [][]byte
	ends  []int
}

// decodeBlock unpacks a block, into the room of into if it has enough.
// Nothing decoded shares data's memory: the driver may reuse it. The
// events' strings share one copy of the block's strings, and their
// properties another: a reader that keeps one clones it, or it keeps them
// all. room, if not nil, is used and left empty.
func decodeBlock(data []byte, into []event.Event, room *blockRoom) ([]event.Event, error) {
	if room == nil {
		room = &blockRoom{}
	}
	r := &blockReader{b: data, room: room}
	defer func() {
		clear(room.strs)
		clear(room.props)
	}()
	if v := r.uvarint("version"); r.err == nil && v != blockVersion {
		return nil, fmt.Errorf("%w: version %d", errBlock, v)
	}
	// Each event takes at least 9 bytes: a count that cannot fit is
	// corrupt, not a reason to allocate.
	n := r.uvarint("event count")
	if r.err == nil && n > uint64(len(r.b))/9 {
		r.fail("event count")
	}
	region, ends := r.spans("strings", "string count", "string length")
	text := string(region)
	room.strs = slices.Grow(room.strs[:0], len(ends))[:len(ends)]
	for i := 1; i < len(ends); i++ {
		room.strs[i] = text[ends[i-1]:ends[i]]
	}
	region, ends = r.spans("properties", "properties count", "properties length")
	raw := bytes.Clone(region)
	room.props = slices.Grow(room.props[:0], len(ends))[:len(ends)]
	for i := 1; i < len(ends); i++ {
		room.props[i] = raw[ends[i-1]:ends[i]:ends[i]]
	}
	r.strs, r.props = room.strs, room.props
	if r.err != nil {
		return nil, r.err
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
		evs[i].Properties = r.prop()
		if r.err != nil {
			return nil, r.err
		}
	}
	if len(r.b) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last event", errBlock, len(r.b))
	}
	return evs, nil
}
