package growth

import (
	"math/rand/v2"
	"testing"
)

// The bit set counts as a plain set of days does, whatever order days come
// in (late events add days before the first).
func TestDaysCount(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var s days
		plain := map[int32]bool{}
		for range r.IntN(40) {
			d := 20000 + int32(r.IntN(400))
			s.add(d)
			plain[d] = true
		}
		from := 20000 + int32(r.IntN(420)) - 10
		to := from + int32(r.IntN(200))
		want := 0
		for d := from; d < to; d++ {
			if plain[d] {
				want++
			}
			if s.has(d) != plain[d] {
				t.Fatalf("has(%d) = %v", d, s.has(d))
			}
		}
		if got := s.count(from, to); got != want {
			t.Fatalf("count(%d, %d) = %d, want %d (%v)", from, to, got, want, plain)
		}
	}
}
