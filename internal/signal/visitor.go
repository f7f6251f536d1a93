package signal

import (
	"encoding/binary"
	"encoding/hex"
	"maps"
	"math"
	"strings"
)

// visitors keeps what visitors not yet known as users did, in short: most
// never sign up, and each costs one map entry and a few bytes an event
// instead of a rollup. Anonymous ids are mostly UUIDs, kept as 16 bytes.
type visitors struct {
	byUUID map[[16]byte]*visitor
	other  map[string]*visitor
}

// visitor is the time of a visitor's latest event and its events, each
// encoded as the zig-zag varint of its time less the latest before it (ms),
// the number of hits, and per hit uvarint(counter<<2 | hasNum<<1 | valOK),
// then the number's 8 bytes if any and the value's id as uvarint if any.
type visitor struct {
	lastMS int64
	log    []byte
}

func newVisitors() visitors {
	return visitors{byUUID: map[[16]byte]*visitor{}, other: map[string]*visitor{}}
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

func (vs *visitors) len() int { return len(vs.byUUID) + len(vs.other) }

func (vs *visitors) get(anon string) (*visitor, bool) {
	if k, ok := uuidKey(anon); ok {
		v, ok := vs.byUUID[k]
		return v, ok
	}
	v, ok := vs.other[anon]
	return v, ok
}

func (vs *visitors) put(anon string, v *visitor) {
	// Only new visitors are put.
	if k, ok := uuidKey(anon); ok {
		vs.byUUID[k] = v
		return
	}
	vs.other[strings.Clone(anon)] = v // see Rollups.user
}

func (vs *visitors) has(anon string) bool {
	_, ok := vs.get(anon)
	return ok
}

func (vs *visitors) drop(anon string) {
	if k, ok := uuidKey(anon); ok {
		delete(vs.byUUID, k)
		return
	}
	delete(vs.other, anon)
}

func (vs *visitors) add(anon string, ms int64, hits []hit) {
	v, ok := vs.get(anon)
	if !ok {
		v = &visitor{}
		vs.put(anon, v)
	}
	v.log = binary.AppendVarint(v.log, ms-v.lastMS)
	v.lastMS = max(v.lastMS, ms)
	v.log = binary.AppendUvarint(v.log, uint64(len(hits)))
	for _, h := range hits {
		head := uint64(h.ctr) << 2
		if h.hasNum {
			head |= 2
		}
		if h.valOK {
			head |= 1
		}
		v.log = binary.AppendUvarint(v.log, head)
		if h.hasNum {
			v.log = binary.LittleEndian.AppendUint64(v.log, math.Float64bits(h.num))
		}
		if h.valOK {
			v.log = binary.AppendUvarint(v.log, uint64(h.val))
		}
	}
}

// replay calls fn with each of a visitor's events, in the order they came.
func (vs *visitors) replay(anon string, fn func(ms int64, hits []hit)) {
	v, _ := vs.get(anon)
	var hits []hit
	var latest int64
	for b := v.log; len(b) > 0; {
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

// dropQuiet forgets the visitors not active since before, and gives back
// what the others' logs hold in spare.
func (vs *visitors) dropQuiet(before int32) int {
	var a, b int
	vs.byUUID, a = sweep(vs.byUUID, before)
	vs.other, b = sweep(vs.other, before)
	return a + b
}

// sweep returns m without the visitors quiet since before. A map keeps the
// room it once needed, so one that lost most of its entries is copied.
func sweep[K comparable](m map[K]*visitor, before int32) (map[K]*visitor, int) {
	n := 0
	for k, v := range m {
		switch {
		case int32(floorDiv(v.lastMS, 86_400_000)) < before:
			delete(m, k)
			n++
		case cap(v.log) > len(v.log)+len(v.log)/4:
			v.log = fit(v.log)
		}
	}
	if n > len(m) {
		// Not maps.Clone: it keeps the room too.
		fresh := make(map[K]*visitor, len(m))
		maps.Copy(fresh, m)
		m = fresh
	}
	return m, n
}
