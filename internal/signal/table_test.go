package signal

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// The table answers as a Go map does through puts, updates, deletes, walks
// and rebuilds, including for ids that differ only in their last byte.
func TestPlaceTable(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 3))
	tab := newPlaceTable()
	want := map[[16]byte]uint64{}
	key := func() [16]byte {
		var k [16]byte
		k[15] = byte(rnd.IntN(200)) // alike ids, as a sender could choose them
		k[14] = byte(rnd.IntN(20))
		return k
	}
	check := func(step int) {
		t.Helper()
		if tab.len() != len(want) {
			t.Fatalf("step %d: %d ids held, want %d", step, tab.len(), len(want))
		}
		for k, at := range want {
			if got, ok := tab.get(k); !ok || got != at {
				t.Fatalf("step %d: get(%x) = %d, %v; want %d", step, k, got, ok, at)
			}
		}
		seen := 0
		tab.each(func(k [16]byte, at uint64) (uint64, bool) {
			if want[k] != at {
				t.Fatalf("step %d: each gave %x → %d, want %d", step, k, at, want[k])
			}
			seen++
			return at, true
		})
		if seen != len(want) {
			t.Fatalf("step %d: each walked %d ids, want %d", step, seen, len(want))
		}
	}
	for step := range 20_000 {
		k := key()
		switch op := rnd.IntN(10); {
		case op < 6:
			at := rnd.Uint64N(1 << 40)
			tab.put(k, at)
			want[k] = at
		case op < 9:
			tab.del(k)
			delete(want, k)
		default:
			tab.each(func(k [16]byte, at uint64) (uint64, bool) {
				if at%3 == 0 {
					delete(want, k)
					return 0, false
				}
				want[k] = at + 1
				return at + 1, true
			})
			tab.pack()
			if len(want) >= 100 && float64(tab.len())/float64(len(tab.slots)) < packedLoad-0.01 {
				t.Fatalf("step %d: packed table is %d/%d full", step, tab.len(), len(tab.slots))
			}
		}
		if step%1000 == 0 {
			check(step)
		}
		if tab.n+tab.dead > int(fullLoad*float64(len(tab.slots))) {
			t.Fatalf("step %d: %d ids and %d deleted in %d slots", step, tab.n, tab.dead, len(tab.slots))
		}
	}
	check(-1)
}

// A table as full as the sweep packs it, asked about ids it holds and ids
// it does not (as a replay asks about known users' anonymous ids).
func BenchmarkPlaceTable(b *testing.B) {
	rnd := rand.New(rand.NewPCG(1, 2))
	key := func() (k [16]byte) {
		for i := range k {
			k[i] = byte(rnd.Uint32())
		}
		return k
	}
	tab := newPlaceTable()
	held := make([][16]byte, 1<<20)
	for i := range held {
		held[i] = key()
		tab.put(held[i], uint64(i))
	}
	tab.pack()
	absent := make([][16]byte, 1<<16)
	for i := range absent {
		absent[i] = key()
	}
	for _, bc := range []struct {
		name string
		keys [][16]byte
	}{{"held", held}, {"absent", absent}} {
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				tab.get(bc.keys[i%len(bc.keys)])
				i++
			}
		})
	}
}

// Filling a table from empty, as a replay fills the visitors' table: what
// its growth costs per id, at sizes about those of a month's visitors at
// 100,000 accounts.
func BenchmarkPlaceTableFill(b *testing.B) {
	rnd := rand.New(rand.NewPCG(3, 4))
	keys := make([][16]byte, 3<<20)
	for i := range keys {
		for j := range keys[i] {
			keys[i][j] = byte(rnd.Uint32())
		}
	}
	for _, n := range []int{3 << 19, 2 << 20, 5 << 19, 3 << 20} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				tab := newPlaceTable()
				for i, k := range keys[:n] {
					tab.put(k, uint64(i))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/id")
		})
	}
}
