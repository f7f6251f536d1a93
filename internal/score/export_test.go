package score

// ReadInParts makes s read any stream of more than 2n events in parts, so
// tests on small worlds take the path long replays take.
func ReadInParts(s *Service, n int64) { s.partEvents = n }
