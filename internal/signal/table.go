package signal

import (
	"hash/maphash"
	"math/bits"
)

// placeTable maps 16-byte ids to arena places: open addressing with linear
// probing, sized by a multiply instead of a power of two so that it can be
// rebuilt 85 % full. A Go map of 1.9 M visitors, grown by doubling, was half
// empty: its slots were most of what a visitor cost.
//
// So full, a search for an id not held walks 20 to 50 slots; a byte per slot
// (tags) says whether it is empty, deleted or which id it may hold, so the
// walk reads a cache line or two of tags instead of ten of slots. Replays
// ask about many ids not held: the anonymous ids of known users.
type placeTable struct {
	seed  maphash.Seed // ids come from senders: a seeded hash keeps them from piling up
	slots []placeSlot
	tags  []uint8 // per slot: emptyTag, deadTag, or tagOf the id's hash
	n     int     // ids held
	dead  int     // slots of deleted ids, still in probe chains
}

type placeSlot struct {
	key [16]byte
	at  uint64
}

const (
	emptyTag, deadTag = 0, 1
	// fullLoad is when the table grows; packedLoad is how full a rebuilt
	// table is.
	fullLoad, packedLoad = 0.9, 0.85
)

// tagOf is a slot's tag for an id of hash h: 7 bits of the hash that do not
// choose the slot, kept apart from the empty and deleted tags.
func tagOf(h uint64) uint8 { return uint8(h&0x7f) + 2 }

func newPlaceTable() placeTable { return placeTable{seed: maphash.MakeSeed()} }

func (t *placeTable) len() int { return t.n }

// find returns the slot of k, or the first free slot of its chain.
func (t *placeTable) find(k [16]byte) (int, bool) {
	return t.findHashed(k, maphash.Comparable(t.seed, k))
}

func (t *placeTable) findHashed(k [16]byte, h uint64) (int, bool) {
	size := len(t.slots)
	if size == 0 {
		return -1, false
	}
	tag := tagOf(h)
	free := -1
	for i := int(mulHi(h, uint64(size))); ; {
		switch g := t.tags[i]; {
		case g == emptyTag:
			if free < 0 {
				free = i
			}
			return free, false
		case g == deadTag:
			if free < 0 {
				free = i
			}
		case g == tag && t.slots[i].key == k:
			return i, true
		}
		if i++; i == size {
			i = 0
		}
	}
}

func (t *placeTable) get(k [16]byte) (uint64, bool) {
	i, ok := t.find(k)
	if !ok {
		return 0, false
	}
	return t.slots[i].at, true
}

func (t *placeTable) put(k [16]byte, at uint64) {
	p, _ := t.ref(k)
	*p = at
}

// ref returns where k's place is kept, and whether k was held; an id not
// held is added with place 0. The pointer is good until the table next
// changes.
func (t *placeTable) ref(k [16]byte) (*uint64, bool) {
	h := maphash.Comparable(t.seed, k)
	i, ok := t.findHashed(k, h)
	if ok {
		return &t.slots[i].at, true
	}
	if t.n+t.dead+1 > int(fullLoad*float64(len(t.slots))) {
		// Doubled, not grown by less: a replay adds millions of ids,
		// and each rebuild moves them all. The daily sweep packs the
		// room back (BenchmarkPlaceTableFill).
		t.rebuild(max(16, t.n*2))
		i, _ = t.findHashed(k, h)
	}
	if t.tags[i] == deadTag {
		t.dead--
	}
	t.n++
	t.slots[i], t.tags[i] = placeSlot{key: k}, tagOf(h)
	return &t.slots[i].at, false
}

func (t *placeTable) del(k [16]byte) {
	if i, ok := t.find(k); ok {
		t.tags[i] = deadTag
		t.n--
		t.dead++
	}
}

// each calls fn with every id and its place; fn's answer replaces the place,
// or deletes the id if it is false.
func (t *placeTable) each(fn func(k [16]byte, at uint64) (uint64, bool)) {
	for i := range t.slots {
		if t.tags[i] < 2 {
			continue
		}
		s := &t.slots[i]
		if at, keep := fn(s.key, s.at); keep {
			s.at = at
		} else {
			t.tags[i] = deadTag
			t.n--
			t.dead++
		}
	}
}

// pack rebuilds the table packedLoad full.
func (t *placeTable) pack() { t.rebuild(int(float64(t.n)/packedLoad) + 1) }

func (t *placeTable) rebuild(size int) {
	old, tags := t.slots, t.tags
	t.slots, t.tags, t.n, t.dead = make([]placeSlot, size), make([]uint8, size), 0, 0
	for j, s := range old {
		if tags[j] >= 2 {
			i, _ := t.find(s.key)
			t.slots[i], t.tags[i] = s, tags[j]
			t.n++
		}
	}
}

// mulHi maps h onto [0, n) by the high half of h·n.
func mulHi(h, n uint64) uint64 {
	hi, _ := bits.Mul64(h, n)
	return hi
}
