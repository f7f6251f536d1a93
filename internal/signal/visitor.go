package signal

import (
	"encoding/binary"
	"encoding/hex"
	"maps"
	"math"
	"strings"
)

// visitors keeps what visitors not yet known as users did, in short: most
// never sign up. Each costs one map entry (an anonymous id in the UUID form
// kept as 16 bytes) placing its record in a shared arena, instead of a
// pointer to a struct and a slice of its own: at 100,000 accounts the 1.9 M
// visitors of a month were most of the memory (docs/benchmarks.md).
type visitors struct {
	byUUID placeTable // → place in logs
	other  map[string]uint64
	logs   arena
	enc    []byte // one event, encoded
}

// A visitor's record is a header — the time of its latest event (ms), the
// length of its log and the room for it (uint32s) — then the log: each
// event as the zig-zag varint of its time less the latest before it, the
// number of hits, and per hit uvarint(counter<<2 | hasNum<<1 | valOK), then
// the number's 8 bytes if any and the value's id as uvarint if any.
const headerSize = 16

func newVisitors() visitors {
	return visitors{byUUID: newPlaceTable(), other: map[string]uint64{}}
}

// uuidKey parses the 36-character form of a UUID.
func uuidKey(s string) (k [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return k, false
	}
	// Only lower-case hex round-trips to the same string; others stay as
	// they came.
	for i := 0; i < 36; i++ {
		if c := s[i]; c >= 'A' && c <= 'F' {
			return k, false
		}
	}
	j := 0
	for _, part := range [5]string{s[0:8], s[9:13], s[14:18], s[19:23], s[24:36]} {
		n, err := hex.Decode(k[j:], []byte(part))
		if err != nil {
			return k, false
		}
		j += n
	}
	return k, true
}

func (vs *visitors) len() int { return vs.byUUID.len() + len(vs.other) }

func (vs *visitors) get(anon string) (uint64, bool) {
	if k, ok := uuidKey(anon); ok {
		return vs.byUUID.get(k)
	}
	at, ok := vs.other[anon]
	return at, ok
}

func (vs *visitors) put(anon string, at uint64) {
	if k, ok := uuidKey(anon); ok {
		vs.byUUID.put(k, at)
		return
	}
	if _, ok := vs.other[anon]; ok {
		vs.other[anon] = at
		return
	}
	vs.other[strings.Clone(anon)] = at // see Rollups.user
}

// ref returns where a visitor's place is kept and whether it was held: one
// search where a get and a put took two. A new UUID-keyed visitor is added
// with place 0; other ids are looked up only, their place a copy (kept says
// which), to be put once known. The pointer is good until the next change.
func (vs *visitors) ref(anon string) (place *uint64, held, kept bool) {
	if k, ok := uuidKey(anon); ok {
		place, held = vs.byUUID.ref(k)
		return place, held, true
	}
	at, held := vs.other[anon]
	return &at, held, false
}

func (vs *visitors) has(anon string) bool {
	_, ok := vs.get(anon)
	return ok
}

func (vs *visitors) drop(anon string) {
	at, ok := vs.get(anon)
	if !ok {
		return
	}
	vs.logs.free(at)
	if k, ok := uuidKey(anon); ok {
		vs.byUUID.del(k)
		return
	}
	delete(vs.other, anon)
}

func (vs *visitors) add(anon string, ms int64, hits []hit) {
	place, ok, kept := vs.ref(anon)
	at := *place
	var last int64
	if ok {
		last = int64(binary.LittleEndian.Uint64(vs.logs.record(at)))
	}
	vs.enc = encodeEvent(vs.enc[:0], ms-last, hits)
	if !ok || !vs.logs.fits(at, len(vs.enc)) {
		at = vs.logs.move(at, ok, len(vs.enc))
		if *place = at; !kept {
			vs.put(anon, at)
		}
	}
	rec := vs.logs.record(at)
	n := binary.LittleEndian.Uint32(rec[8:])
	copy(rec[headerSize+n:], vs.enc)
	binary.LittleEndian.PutUint64(rec, uint64(max(last, ms)))
	binary.LittleEndian.PutUint32(rec[8:], n+uint32(len(vs.enc)))
	if vs.logs.garbage > compactAt && vs.logs.garbage > vs.logs.live/2 {
		vs.compact(nil)
	}
}

func encodeEvent(b []byte, delta int64, hits []hit) []byte {
	b = binary.AppendVarint(b, delta)
	b = binary.AppendUvarint(b, uint64(len(hits)))
	for _, h := range hits {
		head := uint64(h.ctr) << 2
		if h.hasNum {
			head |= 2
		}
		if h.valOK {
			head |= 1
		}
		b = binary.AppendUvarint(b, head)
		if h.hasNum {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(h.num))
		}
		if h.valOK {
			b = binary.AppendUvarint(b, uint64(h.val))
		}
	}
	return b
}

// replay calls fn with each of a visitor's events, in the order they came.
func (vs *visitors) replay(anon string, fn func(ms int64, hits []hit)) {
	at, ok := vs.get(anon)
	if !ok {
		return
	}
	rec := vs.logs.record(at)
	var hits []hit
	var latest int64
	for b := rec[headerSize : headerSize+binary.LittleEndian.Uint32(rec[8:])]; len(b) > 0; {
		d, n := binary.Varint(b)
		b = b[n:]
		ms := latest + d
		latest = max(latest, ms)
		k, n := binary.Uvarint(b)
		b = b[n:]
		hits = hits[:0]
		for range k {
			head, n := binary.Uvarint(b)
			b = b[n:]
			h := hit{ctr: int32(head >> 2), hasNum: head&2 != 0, valOK: head&1 != 0}
			if h.hasNum {
				h.num = math.Float64frombits(binary.LittleEndian.Uint64(b))
				b = b[8:]
			}
			if h.valOK {
				val, n := binary.Uvarint(b)
				b = b[n:]
				h.val = uint32(val)
			}
			hits = append(hits, h)
		}
		fn(ms, hits)
	}
}

// dropQuiet forgets the visitors not active since before, and packs the
// others' records into a new arena, each with no more room than it holds.
func (vs *visitors) dropQuiet(before int32) int {
	return vs.compact(func(rec []byte) bool {
		return int32(floorDiv(int64(binary.LittleEndian.Uint64(rec)), 86_400_000)) < before
	})
}

// compact copies the records into a new arena, leaving out those quiet says
// to forget, and returns how many it left out.
func (vs *visitors) compact(quiet func(rec []byte) bool) int {
	var fresh arena
	n := 0
	vs.byUUID.each(func(_ [16]byte, at uint64) (uint64, bool) {
		rec := vs.logs.record(at)
		if quiet != nil && quiet(rec) {
			n++
			return 0, false
		}
		return fresh.copyIn(rec), true
	})
	vs.byUUID.pack()
	for k, at := range vs.other {
		rec := vs.logs.record(at)
		if quiet != nil && quiet(rec) {
			delete(vs.other, k)
			n++
			continue
		}
		vs.other[k] = fresh.copyIn(rec)
	}
	// A Go map keeps the room it once needed, and so does maps.Clone.
	vs.other = maps.Collect(maps.All(vs.other))
	vs.logs = fresh
	return n
}
