package web

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/beaconplg/beacon/internal/route"
)

// responseDays is the window the response-times page measures.
const responseDays = 30

type responseData struct {
	chrome
	Days      int
	SLA       route.SLA
	ByOwner   []responseRow
	BySegment []responseRow
}

type responseRow struct {
	Name string
	route.Split
}

// response shows how fast alerts were answered over the last 30 days:
// acknowledged in Beacon, and reached out on as the CRM records it, in all
// and by owner and segment (seed 004's bands).
func (w *Web) response(rw http.ResponseWriter, r *http.Request, v viewer) {
	now := w.clock()
	since := now.AddDate(0, 0, -responseDays)
	times, err := w.db.AlertTimes(r.Context(), since)
	if err != nil {
		w.fail(rw, err)
		return
	}
	sla := route.Measure(times, since, now)
	rows := func(m map[string]route.Split) []responseRow {
		var out []responseRow
		for k, s := range m {
			out = append(out, responseRow{Name: cmp.Or(k, "none"), Split: s})
		}
		slices.SortFunc(out, func(a, b responseRow) int { return cmp.Or(b.Alerts-a.Alerts, cmp.Compare(a.Name, b.Name)) })
		return out
	}
	w.render(rw, http.StatusOK, "response", responseData{chrome: chromeOf(v), Days: responseDays, SLA: sla,
		ByOwner: rows(sla.ByOwner), BySegment: rows(sla.BySegment)})
}

// seconds is a percentile as a page writes it: "12 min", or "none yet".
func seconds(p *float64) string {
	if p == nil {
		return "none yet"
	}
	return since(time.Duration(*p * float64(time.Second)))
}
