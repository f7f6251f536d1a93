package billing

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/revenue"
	"github.com/beaconplg/beacon/internal/store"
)

// Movement is one change of a customer's MRR.
type Movement struct {
	Customer      string
	At            time.Time // when Stripe made the event that caused it
	Kind          revenue.Kind
	Before, After int64  // the customer's MRR, in cents
	Cause         string // that event's id
}

// Ledger follows each customer's subscriptions through their events, taken
// in the order Stripe made them, and records every change of the
// customer's MRR (the sum of its subscriptions') as a movement.
type Ledger struct {
	subs      map[string]int64 // subscription → its MRR
	customers map[string]int64 // customer → MRR
	paid      map[string]bool  // customers that ever paid
	custs     map[string]*Customer
	// checkoutAt is each Checkout session's place in Checkouts.
	checkoutAt map[string]int
	Movements  []Movement
	// Checkouts are the Checkout sessions created, and of them those
	// completed, by when each was made.
	Checkouts []Checkout
}

// Checkout is one Stripe Checkout session.
type Checkout struct {
	ID        string
	At        time.Time // created
	Completed bool
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{subs: map[string]int64{}, customers: map[string]int64{}, paid: map[string]bool{}, custs: map[string]*Customer{}, checkoutAt: map[string]int{}}
}

// Add takes one stored event; events other than a subscription's change
// nothing.
func (l *Ledger) Add(e store.BillingEvent) error {
	switch {
	case e.Type == "customer.created" || e.Type == "customer.updated":
		l.eventCustomer(e)
		return nil
	case strings.HasPrefix(e.Type, "checkout.session."):
		l.checkout(e)
		return nil
	case !strings.HasPrefix(e.Type, "customer.subscription."):
		return nil
	}
	s, err := ParseSubscription(e.Body)
	if err != nil {
		return fmt.Errorf("event %s: %w", e.ID, err)
	}
	mrr := int64(0)
	if e.Type != "customer.subscription.deleted" {
		if mrr, err = revenue.MRR(s.Subscription); err != nil {
			return fmt.Errorf("event %s: %w", e.ID, err)
		}
	}
	customer := s.Customer
	before := l.customers[customer]
	after := before - l.subs[s.ID] + mrr
	l.subs[s.ID], l.customers[customer] = mrr, after
	if kind := revenue.Classify(before, after, l.paid[customer]); kind != revenue.None {
		l.Movements = append(l.Movements, Movement{Customer: customer, At: e.Created, Kind: kind, Before: before, After: after, Cause: e.ID})
	}
	l.paid[customer] = l.paid[customer] || after > 0
	l.follow(customer, s, e, before, after)
	return nil
}

// follow keeps the customer's record in step with its subscription.
func (l *Ledger) follow(id string, s Subscription, e store.BillingEvent, before, after int64) {
	c := l.customer(id)
	c.note(s.Metadata)
	c.MRR, c.TrialEnd = after, s.TrialEnd
	if e.Type != "customer.subscription.deleted" {
		c.Plan, c.Seats = s.Plan, 0
		for _, it := range s.Items {
			c.Seats += max(it.Quantity, 1)
		}
	}
	switch {
	case after == 0:
		c.PayingSince = time.Time{}
	case before == 0:
		c.PayingSince = e.Created
		if c.FirstPaid.IsZero() {
			c.FirstPaid = e.Created
		}
	}
}

// checkout records a Checkout session's creation or completion.
func (l *Ledger) checkout(e store.BillingEvent) {
	var ev struct {
		Data struct {
			Object struct {
				ID string `json:"id"`
			} `json:"object"`
		} `json:"data"`
	}
	if json.Unmarshal(e.Body, &ev) != nil || ev.Data.Object.ID == "" {
		return
	}
	id := ev.Data.Object.ID
	i, ok := l.checkoutAt[id]
	if !ok {
		i = len(l.Checkouts)
		l.Checkouts = append(l.Checkouts, Checkout{ID: id, At: e.Created})
		l.checkoutAt[id] = i
	}
	if e.Type == "checkout.session.completed" {
		l.Checkouts[i].Completed = true
	}
}

// MRR is a customer's MRR now, in cents.
func (l *Ledger) MRR(customer string) int64 { return l.customers[customer] }

// Period sums, for the customers in (a segment, say; nil takes all) that
// paid at from, what became of their MRR by to: its expansion, contraction
// and churn, as seed 004's NRR counts them. A starting customer that
// churns and comes back within the period counts the return as
// expansion, so that starting MRR plus the movements is their MRR at to.
func (l *Ledger) Period(from, to time.Time, in func(customer string) bool) revenue.Period {
	start := map[string]int64{}
	var p revenue.Period
	for _, m := range l.Movements {
		if in != nil && !in(m.Customer) {
			continue
		}
		switch {
		case !m.At.After(from):
			start[m.Customer] = m.After
		case m.At.After(to) || start[m.Customer] == 0:
			// after the period, or a customer that did not pay at its start
		case m.Kind == revenue.Churn:
			p.Churn += m.Before
		case m.After > m.Before:
			p.Expansion += m.After - m.Before
		default:
			p.Contraction += m.Before - m.After
		}
	}
	for _, mrr := range start {
		p.Starting += mrr
	}
	return p
}
