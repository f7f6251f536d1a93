package store

import (
	"fmt"
	"testing"
)

func TestIDSet(t *testing.T) {
	s := newIDSet()
	const n = 200_000 // several grows
	for i := range n {
		if !s.add(digestOf(fmt.Sprintf("m-%d", i))) {
			t.Fatalf("m-%d reported as present", i)
		}
	}
	for i := range n {
		if s.add(digestOf(fmt.Sprintf("m-%d", i))) || !s.has(digestOf(fmt.Sprintf("m-%d", i))) {
			t.Fatalf("m-%d lost", i)
		}
	}
	if s.has(digestOf("absent")) || s.n != n || s.n*4 > len(s.slots)*3 {
		t.Fatalf("n=%d slots=%d", s.n, len(s.slots))
	}
	if digestOf("") == (digest{}) {
		t.Fatal("a digest must never be the empty-slot marker")
	}
}
