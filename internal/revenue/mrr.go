package revenue

import (
	"fmt"
	"math"
)

// Subscription is what MRR is computed from, as Stripe's subscription
// object holds it (amounts in the currency's smallest unit, cents).
type Subscription struct {
	Status string // active, trialing, past_due, canceled, unpaid, incomplete, …
	Items  []Item
	// Discount is the coupon in force, if any.
	Discount *Coupon
}

// Item is one price on a subscription, times its quantity.
type Item struct {
	UnitAmount    int64  // per interval
	Quantity      int64  // seats; Stripe's default is 1
	Interval      string // day, week, month, year
	IntervalCount int64  // every N intervals; Stripe's default is 1
}

// Coupon is a discount as Stripe describes it.
type Coupon struct {
	PercentOff float64 // 0–100
	AmountOff  int64   // per invoice, in cents
	Duration   string  // once, repeating, forever
}

// monthsPer is how many months one interval lasts: a year is 12, a week
// 12/52 of one, a day 12/365.
var monthsPer = map[string]float64{"day": 12.0 / 365, "week": 12.0 / 52, "month": 1, "year": 12}

// MRR is the subscription's monthly recurring revenue in cents: each
// item's amount per interval divided by the interval's length in months,
// less a repeating or lasting discount. A trial, or a subscription that
// is not collecting (canceled, unpaid, incomplete), is 0. A one-time
// discount does not change MRR: it is not recurring.
func MRR(s Subscription) (int64, error) {
	switch s.Status {
	case "active", "past_due":
	case "trialing", "canceled", "unpaid", "incomplete", "incomplete_expired", "paused":
		return 0, nil
	default:
		return 0, fmt.Errorf("status %q: not a Stripe subscription status", s.Status)
	}
	var monthly, perInvoice float64
	for i, it := range s.Items {
		months, ok := monthsPer[it.Interval]
		if !ok {
			return 0, fmt.Errorf("items[%d].interval %q: want day, week, month or year", i, it.Interval)
		}
		q, n := max(it.Quantity, 1), max(it.IntervalCount, 1)
		monthly += float64(it.UnitAmount*q) / (months * float64(n))
		perInvoice += float64(it.UnitAmount * q)
	}
	if d := s.Discount; d != nil && d.Duration != "once" && perInvoice > 0 {
		switch {
		case d.PercentOff > 0:
			monthly *= 1 - d.PercentOff/100
		case d.AmountOff > 0:
			// An amount off each invoice takes the same share of every
			// item's monthly amount.
			monthly *= max(0, 1-float64(d.AmountOff)/perInvoice)
		}
	}
	return int64(math.Round(monthly)), nil
}
