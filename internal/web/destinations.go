package web

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/beaconplg/beacon/internal/store"
)

// Destination is a configured destination as the page names it.
type Destination struct {
	Name, Type string
}

type destinationsData struct {
	chrome
	Rows []destinationRow
}

type destinationRow struct {
	Destination
	Configured bool
	Counts     map[string]int
	Recent     []store.Delivery
}

// destinationsPage shows each destination's counts by state and its latest
// deliveries with their errors; admins may send dead ones again.
func (w *Web) destinationsPage(rw http.ResponseWriter, r *http.Request, v viewer) {
	if !w.admin(rw, v) {
		return
	}
	counts, err := w.db.DeliveryCounts(r.Context())
	if err != nil {
		w.fail(rw, err)
		return
	}
	rows := make([]destinationRow, 0, len(w.dests))
	for _, d := range w.dests {
		rows = append(rows, destinationRow{Destination: d, Configured: true})
	}
	for name := range counts {
		if !slices.ContainsFunc(w.dests, func(d Destination) bool { return d.Name == name }) {
			rows = append(rows, destinationRow{Destination: Destination{Name: name, Type: "no longer configured"}})
		}
	}
	for i := range rows {
		rows[i].Counts = counts[rows[i].Name]
		if rows[i].Recent, err = w.db.ListDeliveries(r.Context(), store.DeliveryQuery{Destination: rows[i].Name, Limit: 20}); err != nil {
			w.fail(rw, err)
			return
		}
	}
	w.render(rw, http.StatusOK, "destinations", destinationsData{chrome: chromeOf(v), Rows: rows})
}

// retryDestination sends a destination's dead deliveries again.
func (w *Web) retryDestination(rw http.ResponseWriter, r *http.Request, v viewer) {
	if !w.admin(rw, v) {
		return
	}
	n, err := w.db.Retry(r.Context(), w.clock(), nil, r.PathValue("name"))
	if err != nil {
		w.fail(rw, err)
		return
	}
	w.audit(r.Context(), store.AuditEntry{Actor: v.person.Email, Action: store.AuditDeliveriesRetry,
		Subject: "destination " + r.PathValue("name"), Detail: fmt.Sprintf("%d deliveries", n)})
	http.Redirect(rw, r, "/destinations", http.StatusSeeOther)
}

func (w *Web) admin(rw http.ResponseWriter, v viewer) bool {
	if v.person.Role != store.RoleAdmin {
		w.message(rw, http.StatusForbidden, v, "Admins only", "Only admins see this page.")
		return false
	}
	return true
}
