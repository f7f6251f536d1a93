package billing

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/beaconplg/beacon/internal/revenue"
)

// Subscription is a Stripe subscription as a customer.subscription.* event
// carries it: what its MRR is made of, and what ties it to an account.
type Subscription struct {
	ID, Customer string
	// Metadata is the subscription's own (a beacon_account_id key ties it
	// to an account).
	Metadata map[string]string
	// TrialEnd is when its trial ends; zero without one.
	TrialEnd time.Time
	// Plan names its first item's price: its nickname, lookup key or id.
	Plan string
	revenue.Subscription
}

// stripeSubscription is the part of Stripe's subscription object read.
type stripeSubscription struct {
	ID       string            `json:"id"`
	Object   string            `json:"object"`
	Customer json.RawMessage   `json:"customer"`
	Status   string            `json:"status"`
	TrialEnd *int64            `json:"trial_end"`
	Metadata map[string]string `json:"metadata"`
	Items    struct {
		Data []struct {
			Quantity *int64     `json:"quantity"`
			Price    *stripeAmt `json:"price"`
			Plan     *stripeAmt `json:"plan"` // before prices, and still sent beside them
		} `json:"data"`
	} `json:"items"`
	Discount *struct {
		Coupon struct {
			PercentOff float64 `json:"percent_off"`
			AmountOff  int64   `json:"amount_off"`
			Duration   string  `json:"duration"`
		} `json:"coupon"`
	} `json:"discount"`
}

// stripeAmt is a price (or a plan, whose amount is "amount").
type stripeAmt struct {
	ID                string `json:"id"`
	Nickname          string `json:"nickname"`
	LookupKey         string `json:"lookup_key"`
	UnitAmount        *int64 `json:"unit_amount"`
	Amount            *int64 `json:"amount"`
	UnitAmountDecimal string `json:"unit_amount_decimal"`
	Recurring         *struct {
		Interval      string `json:"interval"`
		IntervalCount int64  `json:"interval_count"`
	} `json:"recurring"`
	Interval      string `json:"interval"` // a plan's
	IntervalCount int64  `json:"interval_count"`
}

// ParseSubscription reads the subscription in a customer.subscription.*
// event's body.
func ParseSubscription(body []byte) (Subscription, error) {
	var ev struct {
		Data struct {
			Object stripeSubscription `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return Subscription{}, fmt.Errorf("data.object: not a subscription: %w", err)
	}
	s := ev.Data.Object
	if s.Object != "subscription" || s.ID == "" {
		return Subscription{}, fmt.Errorf("data.object: want a subscription with an id, got object %q", s.Object)
	}
	out := Subscription{ID: s.ID, Customer: customerOf("", "", s.Customer), Metadata: s.Metadata}
	out.Status = s.Status
	if s.TrialEnd != nil && *s.TrialEnd > 0 {
		out.TrialEnd = time.Unix(*s.TrialEnd, 0).UTC()
	}
	for i, it := range s.Items.Data {
		item, err := itemOf(it.Price, it.Plan, it.Quantity)
		if err != nil {
			return Subscription{}, fmt.Errorf("data.object.items.data[%d]: %w", i, err)
		}
		out.Items = append(out.Items, item)
		if i == 0 {
			out.Plan = planName(it.Price, it.Plan)
		}
	}
	if d := s.Discount; d != nil {
		out.Discount = &revenue.Coupon{PercentOff: d.Coupon.PercentOff, AmountOff: d.Coupon.AmountOff, Duration: d.Coupon.Duration}
	}
	return out, nil
}

// itemOf reads one item's amount, interval and quantity from its price, or
// its plan when it has none.
func itemOf(price, plan *stripeAmt, quantity *int64) (revenue.Item, error) {
	p := price
	if p == nil {
		p = plan
	}
	if p == nil {
		return revenue.Item{}, fmt.Errorf("neither a price nor a plan")
	}
	item := revenue.Item{Quantity: 1, Interval: p.Interval, IntervalCount: p.IntervalCount}
	if quantity != nil {
		item.Quantity = *quantity
	}
	if p.Recurring != nil {
		item.Interval, item.IntervalCount = p.Recurring.Interval, p.Recurring.IntervalCount
	}
	switch {
	case p.UnitAmount != nil:
		item.UnitAmount = *p.UnitAmount
	case p.Amount != nil:
		item.UnitAmount = *p.Amount
	case p.UnitAmountDecimal != "":
		// Sub-cent prices: Stripe gives them as a decimal string of cents.
		f, err := strconv.ParseFloat(p.UnitAmountDecimal, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) {
			return revenue.Item{}, fmt.Errorf("unit_amount_decimal %q: not an amount", p.UnitAmountDecimal)
		}
		item.UnitAmount = int64(math.Round(f))
	default:
		return revenue.Item{}, fmt.Errorf("the price has no amount (tiered prices are not read yet)")
	}
	if item.Interval == "" {
		return revenue.Item{}, fmt.Errorf("the price is not recurring")
	}
	return item, nil
}

// planName is how a price is shown: its nickname, else its lookup key,
// else its id.
func planName(price, plan *stripeAmt) string {
	p := price
	if p == nil {
		p = plan
	}
	return cmp.Or(p.Nickname, p.LookupKey, p.ID)
}
