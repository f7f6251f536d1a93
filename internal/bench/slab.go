package bench

// slab holds the load's request bodies outside the Go heap. Made before the
// clock starts, a million events' bodies are 600 MB: on the heap they would
// be most of what the collector finds live, and with the server's GOGC of 400
// its goal would grow to 4.5 GB, each new page a fault to the kernel, where
// the server alone holds a few hundred MB (docs/benchmarks.md). A load
// generator on another machine costs the server neither.
type slab struct {
	chunks [][]byte
	free   []byte // the unused end of the last chunk
}

// slabChunk is how much a slab maps at a time: pages are touched only as
// bodies fill them.
const slabChunk = 64 << 20

// hold copies b into the slab.
func (s *slab) hold(b []byte) ([]byte, error) {
	if len(b) > len(s.free) {
		c, err := mapRoom(max(slabChunk, len(b)))
		if err != nil {
			return nil, err
		}
		s.chunks = append(s.chunks, c)
		s.free = c
	}
	out := s.free[:len(b):len(b)]
	copy(out, b)
	s.free = s.free[len(b):]
	return out, nil
}

// release gives the room back; nothing held may be used after it.
func (s *slab) release() {
	for _, c := range s.chunks {
		unmapRoom(c)
	}
	s.chunks, s.free = nil, nil
}
