package billing

import (
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/revenue"
)

// A subscription as Stripe's API documents it: a yearly price, a lasting
// coupon, a trial that ended, an expanded customer, a legacy plan beside
// the price.
const yearlyUpdated = `{"id":"evt_2","object":"event","type":"customer.subscription.updated","created":1767225600,
"data":{"object":{"id":"sub_2","object":"subscription","customer":{"id":"cus_2","object":"customer"},"status":"active",
"trial_end":1767000000,"metadata":{"beacon_account_id":"acme"},
"discount":{"object":"discount","coupon":{"id":"co_1","object":"coupon","percent_off":25,"amount_off":null,"duration":"forever"}},
"items":{"object":"list","data":[{"id":"si_2","object":"subscription_item","quantity":10,
"plan":{"id":"plan_old","object":"plan","amount":99999,"interval":"month","interval_count":1},
"price":{"id":"price_2","object":"price","unit_amount":24000,"unit_amount_decimal":"24000","recurring":{"interval":"year","interval_count":1}}}]}}}}`

// A subscription's items, discount, trial and ties are read from its event
// as Stripe sends them; its MRR follows.
func TestParseSubscription(t *testing.T) {
	s, err := ParseSubscription([]byte(yearlyUpdated))
	if err != nil {
		t.Fatal(err)
	}
	want := revenue.Subscription{Status: "active", Items: []revenue.Item{{UnitAmount: 24000, Quantity: 10, Interval: "year", IntervalCount: 1}},
		Discount: &revenue.Coupon{PercentOff: 25, Duration: "forever"}}
	if s.ID != "sub_2" || s.Customer != "cus_2" || s.Metadata["beacon_account_id"] != "acme" || !s.TrialEnd.Equal(time.Unix(1767000000, 0)) ||
		s.Status != want.Status || len(s.Items) != 1 || s.Items[0] != want.Items[0] || *s.Discount != *want.Discount {
		t.Fatalf("parsed %+v, want %+v", s, want)
	}
	// 10 seats at $240 a year, 25% off: $150 a month.
	if mrr, err := revenue.MRR(s.Subscription); err != nil || mrr != 15000 {
		t.Fatalf("MRR %d (%v), want 15000", mrr, err)
	}
	for _, c := range []struct{ body, want string }{
		{`{"data":{"object":{"id":"in_1","object":"invoice"}}}`, `got object "invoice"`},
		{`{"data":{"object":{"id":"sub_1","object":"subscription","items":{"data":[{"quantity":1}]}}}}`, "items.data[0]: neither a price nor a plan"},
		{`{"data":{"object":{"id":"sub_1","object":"subscription","items":{"data":[{"price":{"unit_amount":5}}]}}}}`, "items.data[0]: the price is not recurring"},
		{`{"data":{"object":{"id":"sub_1","object":"subscription","items":{"data":[{"price":{"recurring":{"interval":"month"}}}]}}}}`, "has no amount"},
	} {
		if _, err := ParseSubscription([]byte(c.body)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.body, err, c.want)
		}
	}
}

// No body makes the subscription decoder panic.
func FuzzParseSubscription(f *testing.F) {
	f.Add([]byte(yearlyUpdated))
	f.Add([]byte(`{"data":{"object":{"id":"s","object":"subscription","items":{"data":[{"price":{"unit_amount_decimal":"1e400","recurring":{"interval":"day"}}}]}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if s, err := ParseSubscription(body); err == nil && s.ID == "" {
			t.Fatalf("accepted %q without an id", body)
		}
	})
}
