package billing

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

const secret = "whsec_test_beacon"

// subscriptionCreated is a Stripe event as its API sends one (trimmed).
const subscriptionCreated = `{"id":"evt_1","object":"event","api_version":"2024-06-20","created":1767225600,
"type":"customer.subscription.created","livemode":false,"pending_webhooks":1,
"data":{"object":{"id":"sub_1","object":"subscription","customer":"cus_1","status":"active",
"items":{"object":"list","data":[{"id":"si_1","object":"subscription_item","quantity":5,
"price":{"id":"price_1","object":"price","unit_amount":2000,"currency":"usd","recurring":{"interval":"month","interval_count":1}}}]}}}}`

// A delivery signed with the endpoint's secret is stored once, however
// often it is retried; a tampered, unsigned, late, foreign or oversized
// one is refused with its reason and stores nothing.
func TestStripeWebhooks(t *testing.T) {
	now := time.Now()
	sign := func(body string, at time.Time, key string) string {
		return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(body), Secret: key, Timestamp: at}).Header
	}
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			db := eng.Open(t)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			mux := http.NewServeMux()
			NewStripe(StripeConfig{WebhookSecret: secret}, Deps{Store: db, Errors: httpjson.NewErrors(log), Log: log,
				Clock: func() time.Time { return now }}).Register(mux)
			post := func(body, signature string) (int, map[string]any) {
				req := httptest.NewRequest(http.MethodPost, "/v1/billing/stripe", strings.NewReader(body))
				if signature != "" {
					req.Header.Set("Stripe-Signature", signature)
				}
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				var out map[string]any
				_ = json.Unmarshal(rec.Body.Bytes(), &out)
				return rec.Code, out
			}
			tampered := strings.Replace(subscriptionCreated, `"quantity":5`, `"quantity":50`, 1)
			notEvent := `{"id":"cus_1","object":"customer","created":1767225600,"type":"x"}`
			big := `{"id":"evt_big","object":"event","type":"x","created":1,"pad":"` + strings.Repeat("a", MaxBody) + `"}`
			for _, c := range []struct {
				name, body, signature string
				status                int
				want                  string // in the answer
			}{
				{"signed", subscriptionCreated, sign(subscriptionCreated, now, secret), 200, `"new":true`},
				{"retried", subscriptionCreated, sign(subscriptionCreated, now.Add(time.Minute), secret), 200, `"new":false`},
				{"tampered", tampered, sign(subscriptionCreated, now, secret), 400, "no signature matches"},
				{"another secret", subscriptionCreated, sign(subscriptionCreated, now, "whsec_other"), 400, "no signature matches"},
				{"replayed late", subscriptionCreated, sign(subscriptionCreated, now.Add(-10*time.Minute), secret), 400, "older than 5m0s"},
				{"unsigned", subscriptionCreated, "", 400, "header is missing"},
				{"bad header", subscriptionCreated, "t=yesterday,v1=00", 400, "t=TIMESTAMP"},
				{"not an event", notEvent, sign(notEvent, now, secret), 400, `"field":"object"`},
				{"too large", big, sign(big, now, secret), 413, `"limit":1048576`},
			} {
				code, out := post(c.body, c.signature)
				answer, _ := json.Marshal(out)
				if code != c.status || !bytes.Contains(answer, []byte(c.want)) {
					t.Errorf("%s: %d %s, want %d with %s", c.name, code, answer, c.status, c.want)
				}
			}
			got, err := db.BillingEvents(context.Background(), 10)
			if err != nil || len(got) != 1 {
				t.Fatalf("stored %d events (%v), want the signed one once", len(got), err)
			}
			e := got[0]
			want := store.BillingEvent{ID: "evt_1", Source: "stripe", Type: "customer.subscription.created", Customer: "cus_1",
				Created: time.Unix(1767225600, 0).UTC(), ReceivedAt: time.UnixMilli(now.UnixMilli()).UTC()}
			if e.ID != want.ID || e.Source != want.Source || e.Type != want.Type || e.Customer != want.Customer ||
				!e.Created.Equal(want.Created) || !e.ReceivedAt.Equal(want.ReceivedAt) || string(e.Body) != subscriptionCreated {
				t.Fatalf("stored %+v, want %+v with the body as sent", e, want)
			}
		})
	}
}

// Every event's customer is found where Stripe puts it: the object itself
// for customer events, its customer field (an id, or expanded) for the
// others, none for events about no customer.
func TestEventCustomer(t *testing.T) {
	for _, c := range []struct{ object, want string }{
		{`{"id":"cus_9","object":"customer"}`, "cus_9"},
		{`{"id":"in_1","object":"invoice","customer":"cus_2"}`, "cus_2"},
		{`{"id":"sub_1","object":"subscription","customer":{"id":"cus_3","object":"customer"}}`, "cus_3"},
		{`{"id":"prod_1","object":"product"}`, ""},
	} {
		body := `{"id":"evt_1","object":"event","type":"t","created":1,"data":{"object":` + c.object + `}}`
		e, err := ParseEvent([]byte(body), time.Now())
		if err != nil || e.Customer != c.want {
			t.Errorf("%s: customer %q (%v), want %q", c.object, e.Customer, err, c.want)
		}
	}
}

// No body, however malformed, makes the decoder panic; what it accepts has
// an id, a type and a time.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(subscriptionCreated))
	f.Add([]byte(`{"id":"evt_1","object":"event","type":"t","created":1,"data":{"object":{"customer":{"id":7}}}}`))
	f.Add([]byte(`{"object":"event"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := ParseEvent(body, time.Now())
		if err == nil && (e.ID == "" || e.Type == "" || e.Created.Unix() <= 0) {
			t.Fatalf("accepted %q as %+v", body, e)
		}
	})
}
