package store

import (
	"math"
	"strings"
	"testing"
)

// The tail holds one unbroken run of seqs within its bounds, and answers
// only for reads that start inside it.
func TestTailBounds(t *testing.T) {
	row := func(body string) eventRow { return eventRow{messageID: body, body: body} }
	rowsOf := func(n int, size int) []eventRow {
		out := make([]eventRow, n)
		for i := range out {
			out[i] = row(strings.Repeat("x", size))
		}
		return out
	}
	type read struct {
		after, upTo int64
		limit       int
		want        []int64 // seqs; nil: not from the tail
	}
	tests := []struct {
		name          string
		events, bytes int
		adds          [][2]int64 // first seq, count
		size          int
		reads         []read
	}{
		{"one run", 8, 1000, [][2]int64{{1, 5}}, 1, []read{
			{0, math.MaxInt64, 10, []int64{1, 2, 3, 4, 5}},
			{2, math.MaxInt64, 2, []int64{3, 4}},
			{1, 3, 10, []int64{2, 3}},
			{5, math.MaxInt64, 10, nil}, // nothing after: the store may hold another's
			{3, 3, 10, nil},
			{0, math.MaxInt64, 0, nil},
		}},
		{"bounded by events", 4, 1000, [][2]int64{{1, 6}}, 1, []read{
			{1, math.MaxInt64, 10, nil},
			{2, math.MaxInt64, 10, []int64{3, 4, 5, 6}},
		}},
		{"bounded by bytes", 8, 250, [][2]int64{{1, 4}}, 100, []read{
			{1, math.MaxInt64, 10, nil},
			{2, math.MaxInt64, 10, []int64{3, 4}},
		}},
		{"runs that join", 8, 1000, [][2]int64{{1, 2}, {3, 2}}, 1, []read{
			{0, math.MaxInt64, 10, []int64{1, 2, 3, 4}},
		}},
		{"another writer between: afresh", 8, 1000, [][2]int64{{1, 2}, {6, 2}}, 1, []read{
			{0, math.MaxInt64, 10, nil},
			{2, math.MaxInt64, 10, nil},
			{5, math.MaxInt64, 10, []int64{6, 7}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTail(tc.events, tc.bytes)
			for _, a := range tc.adds {
				rows := rowsOf(int(a[1]), tc.size)
				for i := range rows {
					rows[i].messageID = string(rune('a' + a[0] + int64(i)))
				}
				tl.add(a[0], rows)
			}
			for _, r := range tc.reads {
				got, ok := tl.rows(r.after, r.upTo, r.limit)
				if ok != (r.want != nil) {
					t.Fatalf("rows(%d, %d, %d): ok = %v, want %v", r.after, r.upTo, r.limit, ok, r.want != nil)
				}
				if len(got) != len(r.want) {
					t.Fatalf("rows(%d, %d, %d) = %d rows, want seqs %v", r.after, r.upTo, r.limit, len(got), r.want)
				}
				for i, seq := range r.want {
					if want := string(rune('a' + seq)); got[i].messageID != want {
						t.Errorf("rows(%d, …)[%d] is the row of seq %q, want seq %d", r.after, i, got[i].messageID, seq)
					}
				}
			}
		})
	}
}

// A store without a tail (PostgreSQL) reads the store.
func TestNoTail(t *testing.T) {
	var tl *tail
	tl.add(1, []eventRow{{}})
	if _, ok := tl.rows(0, math.MaxInt64, 10); ok {
		t.Fatal("a nil tail answered")
	}
}
