package signal

import "encoding/binary"

// arena holds the visitors' records in chunks, so that growing it never
// copies what it holds. A place is chunk<<32 | offset. A record that
// outgrows its room moves to the end; the bytes it leaves are garbage until
// the arena is compacted into a new one.
type arena struct {
	chunks        [][]byte
	live, garbage int // bytes in records held, and left behind
}

const (
	chunkSize = 64 << 10
	// compactAt is the least garbage worth a compaction before the daily
	// sweep; past it, garbage may reach half of what is held.
	compactAt = 1 << 20
)

// record returns the record at a place: its header, then its room.
func (a *arena) record(at uint64) []byte {
	c := a.chunks[at>>32]
	off := uint32(at)
	room := binary.LittleEndian.Uint32(c[off+12:])
	return c[off : off+headerSize+room]
}

// fits reports whether n more bytes fit in the room of the record at a place.
func (a *arena) fits(at uint64, n int) bool {
	rec := a.record(at)
	return int(binary.LittleEndian.Uint32(rec[8:]))+n <= int(binary.LittleEndian.Uint32(rec[12:]))
}

// move makes a record with room for what the one at a place holds (if
// held) and n bytes more, half as much again, copies it in and frees the
// old one.
func (a *arena) move(at uint64, held bool, n int) uint64 {
	var old []byte
	used := 0
	if held {
		old = a.record(at)
		used = int(binary.LittleEndian.Uint32(old[8:]))
	}
	room := used + n
	if held {
		room += room / 2 // a visitor with a second event may well have more
	}
	to, rec := a.alloc(room)
	if held {
		copy(rec[:headerSize-4], old[:headerSize-4]) // latest time and length
		copy(rec[headerSize:], old[headerSize:headerSize+used])
		a.free(at)
	}
	return to
}

// copyIn copies a record into the arena with no more room than it uses.
func (a *arena) copyIn(old []byte) uint64 {
	used := int(binary.LittleEndian.Uint32(old[8:]))
	to, rec := a.alloc(used)
	copy(rec, old[:headerSize-4])
	copy(rec[headerSize:], old[headerSize:headerSize+used])
	return to
}

// alloc places an empty record with room bytes of room.
func (a *arena) alloc(room int) (uint64, []byte) {
	size := headerSize + room
	last := len(a.chunks) - 1
	if last < 0 || cap(a.chunks[last])-len(a.chunks[last]) < size {
		a.chunks = append(a.chunks, make([]byte, 0, max(chunkSize, size)))
		last++
	}
	c := a.chunks[last]
	off := len(c)
	a.chunks[last] = c[:off+size]
	rec := a.chunks[last][off:]
	clear(rec)
	binary.LittleEndian.PutUint32(rec[12:], uint32(room))
	a.live += size
	return uint64(last)<<32 | uint64(off), rec
}

// free counts the record at a place as garbage.
func (a *arena) free(at uint64) {
	size := len(a.record(at))
	a.live -= size
	a.garbage += size
}
