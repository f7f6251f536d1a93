package growth

import "math/bits"

// days is a set of days (days since 1970-01-01, UTC), as bits from base.
type days struct {
	base int32
	bits []uint64
}

// add puts day d in the set.
func (s *days) add(d int32) {
	if len(s.bits) == 0 {
		s.base = d &^ 63
	}
	if d < s.base {
		// Earlier than the set starts (a late event): shift it right by
		// whole words.
		shift := int((s.base - (d &^ 63)) / 64)
		s.bits = append(make([]uint64, shift, shift+len(s.bits)), s.bits...)
		s.base -= int32(shift * 64)
	}
	i := int(d - s.base)
	for i/64 >= len(s.bits) {
		s.bits = append(s.bits, 0)
	}
	s.bits[i/64] |= 1 << (i % 64)
}

// has reports whether day d is in the set.
func (s *days) has(d int32) bool {
	i := int(d - s.base)
	return i >= 0 && i/64 < len(s.bits) && s.bits[i/64]&(1<<(i%64)) != 0
}

// count is how many days of [from, to) are in the set.
func (s *days) count(from, to int32) int {
	from, to = max(from, s.base), min(to, s.base+int32(len(s.bits)*64))
	n := 0
	for from < to {
		i := int(from - s.base)
		w := s.bits[i/64] >> (i % 64)
		if span := int(to - from); span < 64-i%64 {
			w &= 1<<span - 1
		}
		n += bits.OnesCount64(w)
		from += int32(64 - i%64)
	}
	return n
}

// any reports whether a day of [from, to) is in the set.
func (s *days) any(from, to int32) bool { return s.count(from, to) > 0 }
