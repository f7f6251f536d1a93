package sim

import (
	"encoding/json"
	"io"
	"strconv"
)

// Billing events are shaped like Stripe's webhook events
// (customer.subscription.created / updated / deleted, invoice.paid), so the
// same files can feed revenue metrics later.
type stripeEvent struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Type    string `json:"type"`
	Created int64  `json:"created"`
	Data    struct {
		Object any `json:"object"`
	} `json:"data"`
}

type subscription struct {
	ID       string            `json:"id"`
	Object   string            `json:"object"`
	Customer string            `json:"customer"`
	Status   string            `json:"status"`
	Currency string            `json:"currency"`
	Items    subscriptionItems `json:"items"`
	Metadata map[string]string `json:"metadata"`
}

type subscriptionItems struct {
	Object string             `json:"object"`
	Data   []subscriptionItem `json:"data"`
}

type subscriptionItem struct {
	Object   string `json:"object"`
	Price    price  `json:"price"`
	Quantity int    `json:"quantity"`
}

type price struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	UnitAmount int    `json:"unit_amount"`
	Currency   string `json:"currency"`
	Recurring  struct {
		Interval string `json:"interval"`
	} `json:"recurring"`
}

type customer struct {
	ID       string            `json:"id"`
	Object   string            `json:"object"`
	Email    string            `json:"email"`
	Metadata map[string]string `json:"metadata"`
}

type checkoutSession struct {
	ID       string `json:"id"`
	Object   string `json:"object"`
	Customer string `json:"customer"`
	Mode     string `json:"mode"`
	Status   string `json:"status"`
}

type invoice struct {
	ID           string `json:"id"`
	Object       string `json:"object"`
	Customer     string `json:"customer"`
	Subscription string `json:"subscription"`
	AmountPaid   int    `json:"amount_paid"`
	Currency     string `json:"currency"`
	Status       string `json:"status"`
}

// writeBilling writes each paying account's subscription, its monthly
// invoices and its cancellation, in account order.
func (p Params) writeBilling(w io.Writer, accounts []Account, lives []Lifecycle) (int, error) {
	enc := json.NewEncoder(w)
	n := 0
	emit := func(id, typ string, day int, obj any) error {
		e := stripeEvent{ID: "evt_" + id, Object: "event", Type: typ, Created: p.Start.AddDate(0, 0, day).Add(14 * 3600e9).Unix()}
		e.Data.Object = obj
		n++
		return enc.Encode(e)
	}
	for i, a := range accounts {
		l := lives[i]
		if !l.Converted {
			continue
		}
		pr := price{ID: "price_" + l.Plan + "_monthly", Object: "price", UnitAmount: planPrices[l.Plan], Currency: "usd"}
		pr.Recurring.Interval = "month"
		cus := customer{ID: "cus_" + a.GroupID, Object: "customer", Email: "billing@" + a.Domains[0], Metadata: map[string]string{}}
		if a.Index%4 != 3 {
			// Most customers name their workspace; the rest are
			// linked by their email's domain.
			cus.Metadata[accountKey] = a.GroupID
		}
		if err := emit(cus.ID+"_created", "customer.created", l.ConvertedDay, cus); err != nil {
			return n, err
		}
		if err := p.writeCheckout(emit, a, l); err != nil {
			return n, err
		}
		sub := subscription{ID: "sub_" + a.GroupID, Object: "subscription", Customer: cus.ID, Status: "active",
			Currency: "usd", Metadata: cus.Metadata,
			Items: subscriptionItems{Object: "list", Data: []subscriptionItem{{Object: "subscription_item", Price: pr, Quantity: l.Seats}}}}
		if err := emit(sub.ID+"_created", "customer.subscription.created", l.ConvertedDay, sub); err != nil {
			return n, err
		}
		end := p.Days
		if l.Churned {
			end = l.ChurnDay
		}
		for d, k := l.ConvertedDay, 0; d < end; d, k = d+30, k+1 {
			seats := l.SeatsOn(d)
			if seats != sub.Items.Data[0].Quantity {
				sub.Items.Data[0].Quantity = seats
				if err := emit(sub.ID+"_updated_"+strconv.Itoa(k), "customer.subscription.updated", d, sub); err != nil {
					return n, err
				}
			}
			inv := invoice{ID: "in_" + a.GroupID + "_" + strconv.Itoa(k), Object: "invoice", Customer: sub.Customer, Subscription: sub.ID,
				AmountPaid: pr.UnitAmount * seats, Currency: "usd", Status: "paid"}
			if err := emit(inv.ID+"_paid", "invoice.paid", d, inv); err != nil {
				return n, err
			}
		}
		if l.Churned {
			sub.Status = "canceled"
			if err := emit(sub.ID+"_deleted", "customer.subscription.deleted", l.ChurnDay, sub); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// accountKey is the metadata key Beacon reads a customer's workspace from.
const accountKey = "beacon_account_id"

// writeCheckout writes a self-serve conversion's Checkout sessions: the one
// completed, and for every third account one left before it.
func (p Params) writeCheckout(emit func(id, typ string, day int, obj any) error, a Account, l Lifecycle) error {
	if l.Motion != "self-serve" {
		return nil
	}
	s := checkoutSession{ID: "cs_" + a.GroupID, Object: "checkout.session", Customer: "cus_" + a.GroupID, Mode: "subscription", Status: "open"}
	if a.Index%3 == 0 {
		left := s
		left.ID += "_left"
		if err := emit(left.ID+"_created", "checkout.session.created", l.ConvertedDay, left); err != nil {
			return err
		}
	}
	if err := emit(s.ID+"_created", "checkout.session.created", l.ConvertedDay, s); err != nil {
		return err
	}
	s.Status = "complete"
	return emit(s.ID+"_completed", "checkout.session.completed", l.ConvertedDay, s)
}
