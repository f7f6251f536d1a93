package web

import (
	"net/http"
	"strings"

	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/signal"
)

type rulesData struct {
	chrome
	Version string
	Spec    score.Spec
	Signals []signalRow
	Zones   []zoneRow
}

type signalRow struct {
	signal.Spec
	Counts string // what events it reads, in words
}

type zoneRow struct {
	Name  string
	Tiers []zoneTier
}

type zoneTier struct {
	Tier    string
	Actions []score.ActionSpec
}

// rulesPage shows the rules in force as tables: signals, each scorecard's
// rules with points and tiers with routes, routing and nudges.
func (w *Web) rulesPage(rw http.ResponseWriter, r *http.Request, v viewer) {
	rules := w.rules.Rules()
	d := rulesData{chrome: chromeOf(v), Version: rules.Version, Spec: rules.Spec}
	for _, s := range rules.Spec.Signals {
		var what []string
		if len(s.Events) > 0 {
			what = append(what, strings.Join(s.Events, ", "))
		}
		if len(s.Pages) > 0 {
			what = append(what, "pages "+strings.Join(s.Pages, ", "))
		}
		d.Signals = append(d.Signals, signalRow{Spec: s, Counts: strings.Join(what, "; ")})
	}
	if rt := rules.Routing; rt != nil {
		for _, z := range score.Zones {
			zs, ok := rt.Zones[z]
			if !ok {
				continue
			}
			row := zoneRow{Name: strings.ReplaceAll(z, "_", "-")}
			for _, t := range rt.Card.Tiers {
				zt := zoneTier{Tier: t.Name}
				for _, name := range zs.Tiers[t.Name] {
					a, _ := rt.Action(name) // compiled: it exists
					zt.Actions = append(zt.Actions, a)
				}
				row.Tiers = append(row.Tiers, zt)
			}
			d.Zones = append(d.Zones, row)
		}
	}
	w.render(rw, http.StatusOK, "rules", d)
}
