package billing

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/store"
)

// Store is what receiving billing events writes.
type Store interface {
	AddBillingEvent(ctx context.Context, e store.BillingEvent) (bool, error)
}

// Deps are what the webhook receiver uses.
type Deps struct {
	Store  Store
	Errors *httpjson.Errors
	Log    *slog.Logger
	Clock  func() time.Time
}

// MaxBody bounds a webhook's body. Stripe's events are a few kilobytes; an
// invoice with many lines, tens.
const MaxBody = 1 << 20

// Stripe receives Stripe's webhooks.
type Stripe struct {
	cfg StripeConfig
	d   Deps
}

// NewStripe returns the receiver of the webhooks signed with c's secret.
func NewStripe(c StripeConfig, d Deps) *Stripe {
	if c.Tolerance == 0 {
		c.Tolerance = DefaultTolerance
	}
	if d.Clock == nil {
		d.Clock = time.Now
	}
	return &Stripe{cfg: c, d: d}
}

// Register adds POST /v1/billing/stripe to mux.
func (s *Stripe) Register(mux *http.ServeMux) { mux.HandleFunc("POST /v1/billing/stripe", s.receive) }

// Received is the answer to a delivery.
type Received struct {
	ID string `json:"id"`
	// New is false for an event stored before: a retried delivery.
	New bool `json:"new"`
}

func (s *Stripe) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		s.d.Errors.Write(w, &httpjson.Problem{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
			Message: "the event is larger than a webhook may be", Limit: MaxBody})
		return
	case err != nil:
		s.d.Errors.Write(w, bad("body", "the body could not be read: "+err.Error()))
		return
	}
	e, err := s.verified(body, r.Header.Get("Stripe-Signature"))
	if err != nil {
		s.d.Errors.Write(w, err)
		return
	}
	isNew, err := s.d.Store.AddBillingEvent(r.Context(), e)
	if err != nil {
		s.d.Errors.Write(w, err)
		return
	}
	httpjson.WriteJSON(w, http.StatusOK, Received{ID: e.ID, New: isNew})
}

// verified checks body's signature, and only then reads what Beacon keeps
// of the event beside its body.
func (s *Stripe) verified(body []byte, signature string) (store.BillingEvent, error) {
	if signature == "" {
		return store.BillingEvent{}, bad("Stripe-Signature", "the Stripe-Signature header is missing")
	}
	if err := webhook.ValidatePayloadWithTolerance(body, signature, s.cfg.WebhookSecret, s.cfg.Tolerance); err != nil {
		return store.BillingEvent{}, bad("Stripe-Signature", signatureReason(err, s.cfg.Tolerance))
	}
	return ParseEvent(body, s.d.Clock())
}

// signatureReason says why a signature was refused, in words an operator
// can act on.
func signatureReason(err error, tolerance time.Duration) string {
	switch {
	case errors.Is(err, webhook.ErrTooOld):
		return "the signature's timestamp is older than " + tolerance.String() + ": a delivery replayed late, or this server's clock is off"
	case errors.Is(err, webhook.ErrNoValidSignature):
		return "no signature matches this endpoint's secret: check billing.stripe.webhook_secret_env, or the body was changed on the way"
	case errors.Is(err, webhook.ErrInvalidHeader):
		return "the Stripe-Signature header is not t=TIMESTAMP,v1=SIGNATURE"
	}
	return "the signature could not be checked: " + err.Error()
}

// ParseEvent reads a Stripe event's id, type, time and customer, for one
// received (once its signature is verified) or loaded from an export.
func ParseEvent(body []byte, now time.Time) (store.BillingEvent, error) {
	var ev struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Type    string `json:"type"`
		Created int64  `json:"created"`
		Data    struct {
			Object struct {
				ID       string          `json:"id"`
				Object   string          `json:"object"`
				Customer json.RawMessage `json:"customer"`
			} `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return store.BillingEvent{}, bad("body", "the event is not JSON: "+err.Error())
	}
	switch {
	case ev.Object != "event":
		return store.BillingEvent{}, bad("object", `want "event", got "`+ev.Object+`"`)
	case ev.ID == "":
		return store.BillingEvent{}, bad("id", "the event has no id")
	case ev.Type == "":
		return store.BillingEvent{}, bad("type", "the event has no type")
	case ev.Created <= 0:
		return store.BillingEvent{}, bad("created", "the event has no creation time")
	}
	return store.BillingEvent{ID: ev.ID, Source: "stripe", Type: ev.Type, Created: time.Unix(ev.Created, 0).UTC(),
		Customer: customerOf(ev.Data.Object.Object, ev.Data.Object.ID, ev.Data.Object.Customer), ReceivedAt: now.UTC(), Body: body}, nil
}

// customerOf is the customer an event's object is about: the object itself
// for a customer, else its customer field, an id or an expanded customer.
func customerOf(object, id string, customer json.RawMessage) string {
	if object == "customer" {
		return id
	}
	var s string
	if json.Unmarshal(customer, &s) == nil {
		return s
	}
	var expanded struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(customer, &expanded) == nil {
		return expanded.ID
	}
	return ""
}

func bad(field, message string) *httpjson.Problem {
	return &httpjson.Problem{Status: http.StatusBadRequest, Code: "invalid_event", Field: field, Message: message}
}
