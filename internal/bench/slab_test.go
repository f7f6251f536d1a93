package bench

import (
	"bytes"
	"testing"
)

// TestSlabHolds: what a slab holds is a copy that later writes to the source
// do not reach, bodies past a chunk's end start a new chunk, and a body larger
// than a chunk gets one of its own.
func TestSlabHolds(t *testing.T) {
	var s slab
	defer s.release()
	cases := []struct {
		size   int
		chunks int
	}{
		{100, 1},
		{slabChunk - 200, 1},
		{200, 2},
		{slabChunk + 1, 3},
		{1, 4},
	}
	var held [][]byte
	var want [][]byte
	for i, c := range cases {
		src := bytes.Repeat([]byte{byte('a' + i)}, c.size)
		got, err := s.hold(src)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, bytes.Clone(src))
		src[0] = '!'
		held = append(held, got)
		if len(s.chunks) != c.chunks || len(got) != c.size || cap(got) != c.size {
			t.Fatalf("body %d of %d bytes: %d chunks, len %d cap %d; want %d chunks", i, c.size, len(s.chunks), len(got), cap(got), c.chunks)
		}
	}
	for i := range held {
		if !bytes.Equal(held[i], want[i]) {
			t.Fatalf("body %d changed after it was held", i)
		}
	}
}
