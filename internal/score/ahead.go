package score

import (
	"context"
)

// ahead is what a full replay reads beside the stream: the directory and
// every stored score, which the pass after it would otherwise read once
// the replay is done.
type ahead struct {
	dir    *directory
	scores map[string]map[string]held
	err    error
}

// readAhead starts reading what flush will need, if the signal stage is
// about to replay the stream and nothing of it is in memory; nil otherwise.
func (s *Service) readAhead(ctx context.Context) <-chan ahead {
	if !s.signals.Fresh() || !s.written.empty() {
		return nil
	}
	out := make(chan ahead, 1)
	needDir, cards := s.stale.everyone || s.dir == nil, s.rules.Cards
	go func() {
		var a ahead
		if needDir {
			a.dir, a.err = readDirectory(ctx, s.db, s.asOf)
		}
		if a.err == nil {
			a.scores, a.err = readWritten(ctx, s.db, cards)
		}
		out <- a
	}()
	return out
}

// takeAhead waits for what readAhead started, and keeps it.
func (s *Service) takeAhead(c <-chan ahead) error {
	if c == nil {
		return nil
	}
	a := <-c
	if a.err != nil {
		return a.err
	}
	if a.dir != nil {
		s.dir = a.dir
		s.stale.everyone = false
	}
	s.written.whole(a.scores)
	return nil
}
