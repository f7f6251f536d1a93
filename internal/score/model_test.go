package score

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/signal"
	"github.com/beaconplg/beacon/internal/store"
)

// A model section gives every account condition its probability as
// propensity: log(1 + count) of its features over 14 days, standardised
// and weighed, through the logistic function. Two invites (log 3 = 1.10)
// and an ICP fit (log 2 × 0.5 = 0.35) make 0.81: a rule on
// propensity >= 0.7 holds; with neither, 0.5, it does not. Users have
// none.
func TestPropensity(t *testing.T) {
	sp, err := Preset("pql-150")
	if err != nil {
		t.Fatal(err)
	}
	sp.Model = &ModelSpec{Features: []ModelFeature{
		{Event: "Invite Sent", Weight: 1, Scale: 1},
		{Activity: "icp", Weight: 0.5, Scale: 1},
	}}
	for i := range sp.Scorecards {
		if sp.Scorecards[i].Name == "pql" {
			sp.Scorecards[i].Rules = append(sp.Scorecards[i].Rules, RuleSpec{Name: "likely", Label: "The model gives it 70 %+", When: "propensity >= 0.7", Points: 10})
		}
	}
	r, err := Compile(*sp)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 2, 5, 12, 0, 0, 0, time.UTC)
	roll := signal.NewRollups(r.Signals)
	for i := range 2 {
		roll.Add("u1", &event.Event{Type: event.Track, Name: "Invite Sent", Timestamp: now.Add(-time.Duration(i) * time.Hour)})
	}
	roll.Add("u2", &event.Event{Type: event.Track, Name: "Report Viewed", Timestamp: now})
	fits := Facts{Account: store.Account{Employees: 200, Industry: "Software"}, Members: 1}
	for _, c := range []struct {
		who  string
		f    Facts
		want float64
	}{{"u1", fits, 1 / (1 + math.Exp(-(math.Log(3) + 0.5*math.Log(2))))}, {"u2", Facts{Members: 1}, 0.5}} {
		env := r.scope([]*signal.Actor{roll.Actor(c.who)}, signal.Day(now), c.f, r.need[OfAccount]).env
		if got := env["propensity"].(float64); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: propensity %v, want %v", c.who, got, c.want)
		}
		res, err := r.Evaluate(OfAccount, []*signal.Actor{roll.Actor(c.who)}, signal.Day(now), c.f)
		if err != nil {
			t.Fatal(err)
		}
		held := false
		for _, x := range res {
			for _, reason := range x.Reasons {
				held = held || reason.Rule == "likely"
			}
			if p, ok := x.Signals[Propensity].(float64); x.Card == "pql" && (!ok || math.Abs(p-c.want) > 1e-9) {
				t.Errorf("%s: the pql result keeps propensity %v, want %v beside its score", c.who, x.Signals[Propensity], c.want)
			}
		}
		if held != (c.want >= 0.7) {
			t.Errorf("%s: the propensity rule held %v at %.2f", c.who, held, c.want)
		}
	}
}

// A model's features each read one thing, with a scale above 0; its
// signals' names are its own.
func TestModelErrors(t *testing.T) {
	for _, c := range []struct {
		f    ModelFeature
		want string
	}{
		{ModelFeature{Event: "A", Page: "B", Scale: 1}, "model.features[0]: a feature reads one of event, page or activity"},
		{ModelFeature{Scale: 1}, "a feature reads one of"},
		{ModelFeature{Activity: "moon_phase", Scale: 1}, `"moon_phase": want one of active_days, active_users, icp, in_crm`},
		{ModelFeature{Event: "A"}, "scale 0: want above 0"},
	} {
		sp, _ := Preset("pql-150")
		sp.Model = &ModelSpec{Features: []ModelFeature{c.f}}
		if _, err := Compile(*sp); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want %q", c.f, err, c.want)
		}
	}
	sp, _ := Preset("pql-150")
	sp.Model = &ModelSpec{}
	sp.Signals = append(sp.Signals, signal.Spec{Name: "model_0", Measure: signal.Count})
	if _, err := Compile(*sp); err == nil || !strings.Contains(err.Error(), "names starting model_ are the model's") {
		t.Errorf("a signal named model_0: %v", err)
	}
}
