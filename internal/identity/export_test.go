package identity

// BatchSize sets the most events a pass of s takes.
func BatchSize(s *Service, n int) { s.batch = n }
