package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

type auditData struct {
	chrome
	Now     time.Time
	Entries []store.AuditEntry
	// Before is the entry the page starts before; Older, if any, where the
	// next page does.
	Before, Older int64
}

// auditPage lists the audit log to admins, a hundred entries a page.
func (w *Web) auditPage(rw http.ResponseWriter, r *http.Request, v viewer) {
	if !w.admin(rw, v) {
		return
	}
	const page = 100
	var before int64
	if s := r.URL.Query().Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			w.message(rw, http.StatusBadRequest, v, "No such page", "before="+s+": want an entry id.")
			return
		}
		before = n
	}
	es, err := w.db.AuditLog(r.Context(), before, page)
	if err != nil {
		w.fail(rw, err)
		return
	}
	d := auditData{chrome: chromeOf(v), Now: w.clock(), Entries: es, Before: before}
	if len(es) == page {
		d.Older = es[len(es)-1].ID
	}
	w.render(rw, http.StatusOK, "audit", d)
}
