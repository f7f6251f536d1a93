package calibration_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/calibration"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/signal"
	"github.com/beaconplg/beacon/internal/sim"
	"github.com/beaconplg/beacon/internal/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// world is a simulated world written to files, with its truth and, for a
// world with drivers, its generator (the oracle's hazard).
type world struct {
	p     sim.Params
	dir   string
	truth sim.Truth
	gen   *sim.Generator
}

func newWorld(t testing.TB, p sim.Params) world {
	t.Helper()
	dir := t.TempDir()
	if _, err := p.Simulate(dir); err != nil {
		t.Fatal(err)
	}
	truth, err := sim.ReadTruth(dir)
	if err != nil {
		t.Fatal(err)
	}
	return world{p: p, dir: dir, truth: truth, gen: p.NewGenerator()}
}

func driversWorld(t testing.TB, seed uint64, accounts int) world {
	p := sim.DefaultParams()
	p.Accounts, p.Days, p.Seed, p.Drivers = accounts, 90, seed, 3
	return newWorld(t, p)
}

// load imports the world's events, CRM and billing into db, resolves
// identities, and replays the stream into a book as beacon discover does.
func (w world) load(t testing.TB, db *store.DB, rules *score.Rules) *calibration.Evidence {
	t.Helper()
	ctx := context.Background()
	if _, err := sim.Load(ctx, w.dir, db, identity.New(db, quiet, nil)); err != nil {
		t.Fatal(err)
	}
	if err := sim.LoadBilling(ctx, w.dir, db); err != nil {
		t.Fatal(err)
	}
	book := calibration.NewBook()
	replay(t, db, rules, book, w.p.End())
	ev, err := calibration.Gather(ctx, db, billing.NewBook(db), book, rules.FitsICP)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// replay has the signal stage replay db's stream into book, as of end.
func replay(t testing.TB, db *store.DB, rules *score.Rules, book *calibration.Book, end time.Time) {
	t.Helper()
	st := signal.NewStage(db, rules.Signals, quiet, func() time.Time { return end }, func() {})
	st.OneShot()
	st.Watch(book)
	if _, err := st.TakeIn(context.Background(), nowhere{}); err != nil {
		t.Fatal(err)
	}
}

type nowhere struct{}

func (nowhere) Everyone()                         {}
func (nowhere) Changed(_, _ []string)             {}
func (nowhere) Moved(_, _ string, _ signal.Moved) {}
func (nowhere) Merged(string)                     {}

func preset(t testing.TB, name string) *score.Rules {
	t.Helper()
	sp, err := score.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := score.Compile(*sp)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// day is day d of the world as signal numbers days.
func (w world) day(d int) int32 { return signal.Day(w.p.Start.AddDate(0, 0, d)) }

// propose has discovery's picks proposed as rules over the shipped preset,
// and the proposal written to beacon.yaml and compiled back, as a team
// would use it.
func propose(t testing.TB, ev *calibration.Evidence, d *calibration.Discovery) (*calibration.Proposal, *score.Rules) {
	t.Helper()
	sp, err := score.Preset("pql-150")
	if err != nil {
		t.Fatal(err)
	}
	prop, err := ev.Propose(d, *sp)
	if err != nil {
		t.Fatal(err)
	}
	src, err := prop.YAML(d)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := score.ParseFile(src, "proposal.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	rules, err := score.Compile(*parsed)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return prop, rules
}

// standingsAt scores every account by rules as of at, writing nothing.
func standingsAt(t testing.TB, db *store.DB, rules *score.Rules, at time.Time) []score.Standing {
	t.Helper()
	s := score.New(db, rules, quiet, func() time.Time { return at })
	s.OneShot()
	s.AsOf(at)
	st, err := s.Standings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}
