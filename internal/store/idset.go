package store

import (
	"crypto/sha256"
	"encoding/binary"
)

// digest is a messageId's 128-bit SHA-256 prefix. Two different ids share one
// with probability about n²/2¹²⁹: for a billion events, below 10⁻²¹. A keyed
// or cryptographic hash matters because senders choose the ids.
type digest [2]uint64

func digestOf(messageID string) digest {
	sum := sha256.Sum256([]byte(messageID))
	d := digest{binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])}
	if d == (digest{}) {
		d[1] = 1 // the zero value marks empty slots
	}
	return d
}

// idSet is an open-addressing hash set of digests: 16 bytes a slot, at most
// three quarters full, so about 21 bytes per stored event.
type idSet struct {
	slots []digest
	n     int
}

func newIDSet() *idSet { return &idSet{slots: make([]digest, 1<<16)} }

func (s *idSet) index(d digest) (int, bool) {
	mask := uint64(len(s.slots) - 1)
	for i := d[0] & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case d:
			return int(i), true
		case digest{}:
			return int(i), false
		}
	}
}

func (s *idSet) has(d digest) bool {
	_, ok := s.index(d)
	return ok
}

// add reports whether d was new.
func (s *idSet) add(d digest) bool {
	i, ok := s.index(d)
	if ok {
		return false
	}
	s.slots[i] = d
	s.n++
	if s.n*4 > len(s.slots)*3 {
		s.grow()
	}
	return true
}

func (s *idSet) grow() {
	old := s.slots
	s.slots, s.n = make([]digest, len(old)*2), 0
	for _, d := range old {
		if d != (digest{}) {
			s.add(d)
		}
	}
}
