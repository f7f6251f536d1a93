package score

import (
	"context"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

// held is what the store holds of one score, in short.
type held struct {
	present bool
	score   float64
	tier    string
	since   time.Time
	version string
	digest  int64 // of the reasons and signals
}

func (h held) same(o held) bool {
	return h.score == o.score && h.tier == o.tier && h.version == o.version && h.digest == o.digest
}

// draft is what the store will hold of a result once written: its tier
// dates from now unless the stored one had the same tier.
func (s *Service) draft(res Result, enc encoded, prev held, now time.Time) held {
	h := held{present: true, score: res.Score, tier: res.Tier, since: now, version: s.rules.Version, digest: enc.digest}
	if prev.present && prev.tier == h.tier {
		h.since = prev.since
	}
	return h
}

// unchanged reports whether writing a result, drafted as h, would change
// nothing: it is what the store holds, or nothing where the store holds
// nothing.
func unchanged(res Result, h, prev held) bool {
	if !prev.present {
		return res.Score == 0 && res.Tier == ""
	}
	return prev.same(h)
}

func heldOf(st store.ScoreState) held {
	return held{present: true, score: st.Score, tier: st.Tier, since: st.TierSince, version: st.RulesVersion,
		digest: st.Digest}
}

// digest stands for a score's reasons and signals as stored (and, for an
// account, its activity): FNV-1a of them with a 0 byte between each two,
// written out so as not to allocate a hash for each of a pass's million
// results. Stored digests depend on it staying the same. It is never 0, the
// digest of rows stored before digests were kept.
func digest(reasons, signals []byte, more ...[]byte) int64 {
	h := fnvBytes(14695981039346656037, reasons)
	h = fnvBytes(h*fnvPrime, signals) // the 0 between is a multiply
	for _, part := range more {
		h = fnvBytes(h*fnvPrime, part)
	}
	return int64(h | 1)
}

const fnvPrime = 1099511628211

func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

// written keeps what the store holds of each score, so that a pass compares
// its results with memory instead of reading them back. Only this service
// writes scores; a failed write forgets everything, to be read again.
type written struct {
	by map[string]map[string]held // scorecard → subject
	// complete names the scorecards whose every stored score is in by:
	// a subject not there has none.
	complete map[string]bool
	staged   []staged
}

type staged struct {
	card, subject string
	h             held
}

func newWritten() *written {
	return &written{by: map[string]map[string]held{}, complete: map[string]bool{}}
}

func (w *written) empty() bool { return len(w.by) == 0 }

// readWritten reads every stored score of cards.
func readWritten(ctx context.Context, db Store, cards []*Card) (map[string]map[string]held, error) {
	stored, err := db.AllScoreStates(ctx)
	if err != nil {
		return nil, err
	}
	sizes := map[string]int{}
	for _, st := range stored {
		sizes[st.Scorecard]++
	}
	out := make(map[string]map[string]held, len(cards))
	for _, c := range cards {
		out[c.Name] = make(map[string]held, sizes[c.Name])
	}
	for _, st := range stored {
		// Scores of cards the rules no longer have stay as they are:
		// nothing compares with them.
		if known := out[st.Scorecard]; known != nil {
			known[st.Subject] = heldOf(st)
		}
	}
	return out, nil
}

// whole takes every stored score of some scorecards, as readWritten read
// them.
func (w *written) whole(by map[string]map[string]held) {
	for card, known := range by {
		w.by[card], w.complete[card] = known, true
	}
}

// peek returns what is held for a subject on card, and whether that is
// known without reading the store. It only reads, so that the workers that
// score may call it at once.
func (w *written) peek(card, subject string) (held, bool) {
	h, ok := w.by[card][subject]
	return h, ok || w.complete[card]
}

// of returns what is held for subjects on card, reading the ones it does
// not know yet.
func (w *written) of(ctx context.Context, db Store, card string, subjects []string) (map[string]held, error) {
	known := w.by[card]
	if known == nil {
		known = map[string]held{}
		w.by[card] = known
	}
	out := make(map[string]held, len(subjects))
	var missing []string
	for _, s := range subjects {
		if h, ok := known[s]; ok {
			out[s] = h
		} else {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 || w.complete[card] {
		return out, nil
	}
	stored, err := db.ScoreStatesIn(ctx, card, missing)
	if err != nil {
		return nil, err
	}
	for _, s := range missing {
		known[s], out[s] = held{}, held{}
	}
	for _, st := range stored {
		h := heldOf(st)
		known[st.Subject], out[st.Subject] = h, h
	}
	return out, nil
}

// pending notes a write; commit makes it what is held once it is stored.
func (w *written) pending(card, subject string, h held) {
	w.staged = append(w.staged, staged{card, subject, h})
}

func (w *written) commit() {
	for _, s := range w.staged {
		w.by[s.card][s.subject] = s.h
	}
	w.staged = w.staged[:0]
}

// discard drops the writes noted for a batch that will not be written.
func (w *written) discard() { w.staged = w.staged[:0] }

func (w *written) forget() {
	w.by, w.complete, w.staged = map[string]map[string]held{}, map[string]bool{}, nil
}
