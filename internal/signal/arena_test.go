package signal

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// The visitors' records hold exactly what was added, through moves as logs
// grow, merges that free them and compactions that pack them.
func TestVisitorArena(t *testing.T) {
	type logged struct {
		ms   int64
		hits []hit
	}
	rnd := rand.New(rand.NewPCG(7, 7))
	vs := newVisitors()
	want := map[string][]logged{}
	ids := make([]string, 300)
	for i := range ids {
		ids[i] = fmt.Sprintf("visitor-%d", i)
		if i%2 == 0 {
			ids[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		}
	}
	check := func(step string) {
		t.Helper()
		if vs.len() != len(want) {
			t.Fatalf("%s: %d visitors held, want %d", step, vs.len(), len(want))
		}
		live := 0
		for id, evs := range want {
			var got []logged
			vs.replay(id, func(ms int64, hits []hit) { got = append(got, logged{ms, append([]hit(nil), hits...)}) })
			if !reflect.DeepEqual(got, evs) {
				t.Fatalf("%s: visitor %s replays\n%v\nwant\n%v", step, id, got, evs)
			}
			at, _ := vs.get(id)
			live += len(vs.logs.record(at))
		}
		if live != vs.logs.live {
			t.Fatalf("%s: records hold %d bytes, the arena counts %d", step, live, vs.logs.live)
		}
	}
	for round := range 5 {
		for range 2000 {
			id := ids[rnd.IntN(len(ids))]
			e := logged{ms: 1_700_000_000_000 + rnd.Int64N(90*86_400_000)}
			for range rnd.IntN(4) {
				h := hit{ctr: rnd.Int32N(40), valOK: rnd.IntN(2) == 0}
				if rnd.IntN(2) == 0 {
					h.num, h.hasNum = rnd.Float64()*1000, true
				}
				if h.valOK {
					h.val = rnd.Uint32N(1 << 20)
				}
				e.hits = append(e.hits, h)
			}
			vs.add(id, e.ms, e.hits)
			want[id] = append(want[id], e)
		}
		for range 50 {
			id := ids[rnd.IntN(len(ids))]
			vs.drop(id)
			delete(want, id)
		}
		check(fmt.Sprint("round ", round))
		if vs.logs.garbage == 0 {
			t.Fatalf("round %d: growing and dropped logs left no garbage", round)
		}
		vs.compact(nil)
		if vs.logs.garbage != 0 {
			t.Fatalf("round %d: %d bytes of garbage after compaction", round, vs.logs.garbage)
		}
		for id := range want {
			at, _ := vs.get(id)
			rec := vs.logs.record(at)
			if used, room := binary.LittleEndian.Uint32(rec[8:]), binary.LittleEndian.Uint32(rec[12:]); used != room {
				t.Fatalf("round %d: visitor %s keeps room for %d bytes after compaction, uses %d", round, id, room, used)
			}
		}
		check(fmt.Sprint("round ", round, ", compacted"))
	}
}
