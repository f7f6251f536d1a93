package signal

import (
	"hash/maphash"
	"math/bits"
)

// placeTable maps 16-byte ids to arena places: open addressing with linear
// probing, sized by a multiply instead of a power of two so that it can be
// rebuilt 85 % full. A Go map of 1.9 M visitors, grown by doubling, was half
// empty: its slots were most of what a visitor cost.
type placeTable struct {
	seed  maphash.Seed // ids come from senders: a seeded hash keeps them from piling up
	slots []placeSlot
	n     int // ids held
	dead  int // slots of deleted ids, still in probe chains
}

type placeSlot struct {
	key [16]byte
	at  uint64 // place+1; 0 for an empty slot
}

const (
	deadSlot = ^uint64(0)
	// fullLoad is when the table grows; packedLoad is how full a rebuilt
	// table is.
	fullLoad, packedLoad = 0.9, 0.85
)

func newPlaceTable() placeTable { return placeTable{seed: maphash.MakeSeed()} }

func (t *placeTable) len() int { return t.n }

// find returns the slot of k, or the first free slot of its chain.
func (t *placeTable) find(k [16]byte) (int, bool) {
	if len(t.slots) == 0 {
		return -1, false
	}
	h := maphash.Comparable(t.seed, k)
	size := uint64(len(t.slots))
	free := -1
	for i := mulHi(h, size); ; i = (i + 1) % size {
		switch s := &t.slots[i]; {
		case s.at == 0:
			if free < 0 {
				free = int(i)
			}
			return free, false
		case s.at == deadSlot:
			if free < 0 {
				free = int(i)
			}
		case s.key == k:
			return int(i), true
		}
	}
}

func (t *placeTable) get(k [16]byte) (uint64, bool) {
	i, ok := t.find(k)
	if !ok {
		return 0, false
	}
	return t.slots[i].at - 1, true
}

func (t *placeTable) put(k [16]byte, at uint64) {
	i, ok := t.find(k)
	if !ok && t.n+t.dead+1 > int(fullLoad*float64(len(t.slots))) {
		t.rebuild(max(16, t.n*8/5))
		i, _ = t.find(k)
	}
	if !ok {
		if t.slots[i].at == deadSlot {
			t.dead--
		}
		t.n++
	}
	t.slots[i] = placeSlot{key: k, at: at + 1}
}

func (t *placeTable) del(k [16]byte) {
	if i, ok := t.find(k); ok {
		t.slots[i].at = deadSlot
		t.n--
		t.dead++
	}
}

// each calls fn with every id and its place; fn's answer replaces the place,
// or deletes the id if it is false.
func (t *placeTable) each(fn func(k [16]byte, at uint64) (uint64, bool)) {
	for i := range t.slots {
		s := &t.slots[i]
		if s.at == 0 || s.at == deadSlot {
			continue
		}
		if at, keep := fn(s.key, s.at-1); keep {
			s.at = at + 1
		} else {
			s.at = deadSlot
			t.n--
			t.dead++
		}
	}
}

// pack rebuilds the table packedLoad full.
func (t *placeTable) pack() { t.rebuild(int(float64(t.n)/packedLoad) + 1) }

func (t *placeTable) rebuild(size int) {
	old := t.slots
	t.slots, t.n, t.dead = make([]placeSlot, size), 0, 0
	for _, s := range old {
		if s.at != 0 && s.at != deadSlot {
			i, _ := t.find(s.key)
			t.slots[i] = s
			t.n++
		}
	}
}

// mulHi maps h onto [0, n) by the high half of h·n.
func mulHi(h, n uint64) uint64 {
	hi, _ := bits.Mul64(h, n)
	return hi
}
