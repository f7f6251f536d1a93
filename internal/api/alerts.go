package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/store"
)

// Alerts is what the alerts endpoints need from storage.
type Alerts interface {
	ListAlerts(ctx context.Context, q store.AlertQuery) ([]store.Alert, int, error)
	Ack(ctx context.Context, id int64, by string, at time.Time) (store.Alert, error)
	AlertTimes(ctx context.Context, since time.Time) ([]store.AlertTime, error)
	ListDeliveries(ctx context.Context, q store.DeliveryQuery) ([]store.Delivery, error)
}

// AlertView is an alert as the API shows it.
type AlertView struct {
	ID           int64           `json:"id"`
	Scorecard    string          `json:"scorecard"`
	Subject      string          `json:"subject"`
	Tier         string          `json:"tier"`
	PreviousTier string          `json:"previous_tier"`
	Score        float64         `json:"score"`
	Segment      string          `json:"segment"`
	Zone         string          `json:"zone"`
	Actions      []string        `json:"actions"`
	NeedsAck     bool            `json:"needs_ack"`
	CreatedAt    time.Time       `json:"created_at"`
	AckedAt      *time.Time      `json:"acked_at,omitempty"`
	AckedBy      string          `json:"acked_by,omitempty"`
	Payload      json.RawMessage `json:"payload"`
	Deliveries   []DeliveryView  `json:"deliveries,omitempty"`
}

// DeliveryView is one delivery of an alert.
type DeliveryView struct {
	ID          int64      `json:"id"`
	Destination string     `json:"destination"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
}

// AlertList is the body of GET /api/v1/alerts.
type AlertList struct {
	Total  int         `json:"total"`
	Limit  int         `json:"limit"`
	Offset int         `json:"offset"`
	Alerts []AlertView `json:"alerts"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func alertView(a store.Alert) AlertView {
	return AlertView{ID: a.ID, Scorecard: a.Scorecard, Subject: a.Subject, Tier: a.Tier, PreviousTier: a.PreviousTier,
		Score: a.Score, Segment: a.Segment, Zone: a.Zone, Actions: a.Actions, NeedsAck: a.NeedsAck, CreatedAt: a.CreatedAt,
		AckedAt: timePtr(a.AckedAt), AckedBy: a.AckedBy, Payload: a.Payload}
}

func (a *API) alerts(r *http.Request) (any, error) {
	q := r.URL.Query()
	aq := store.AlertQuery{Subject: q.Get("subject")}
	switch v := q.Get("open"); v {
	case "", "false":
	case "true":
		aq.Open = true
	default:
		return nil, badParam("open", "open %q: want true or false", v)
	}
	var err error
	if aq.Limit, aq.Offset, err = page(q); err != nil {
		return nil, err
	}
	as, total, err := a.db.ListAlerts(r.Context(), aq)
	if err != nil {
		return nil, err
	}
	out := AlertList{Total: total, Limit: aq.Limit, Offset: aq.Offset, Alerts: make([]AlertView, len(as))}
	for i, al := range as {
		out.Alerts[i] = alertView(al)
		ds, err := a.db.ListDeliveries(r.Context(), store.DeliveryQuery{AlertID: al.ID, Limit: 100})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			out.Alerts[i].Deliveries = append(out.Alerts[i].Deliveries, DeliveryView{ID: d.ID, Destination: d.Destination,
				State: d.State, Attempts: d.Attempts, LastError: d.LastError, DeliveredAt: timePtr(d.DeliveredAt)})
		}
	}
	return out, nil
}

// ackBodyLimit bounds an acknowledgement's body.
const ackBodyLimit = 4 << 10

// AckRequest is the optional body of POST /api/v1/alerts/{id}/ack.
type AckRequest struct {
	By string `json:"by"`
}

func (a *API) ack(r *http.Request) (any, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, badParam("id", "alert id %q: want a positive number", r.PathValue("id"))
	}
	var req AckRequest
	if err := readBody(r, &req, ackBodyLimit); err != nil {
		return nil, err
	}
	by, err := byOf(req.By, "by")
	if err != nil {
		return nil, err
	}
	al, err := a.db.Ack(r.Context(), id, by, time.Now())
	if err != nil {
		return nil, err
	}
	return alertView(al), nil
}

func (a *API) sla(r *http.Request) (any, error) {
	days, err := intParam(r.URL.Query().Get("days"), "days", 30, 1, 3650)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	since := now.AddDate(0, 0, -days)
	times, err := a.db.AlertTimes(r.Context(), since)
	if err != nil {
		return nil, err
	}
	return route.Measure(times, since, now), nil
}
