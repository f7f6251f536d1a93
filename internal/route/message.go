package route

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/alert"
	"github.com/beaconplg/beacon/internal/store"
)

// EventType is the type of the message every alert delivery carries.
const EventType = "alert.created"

// Message is the JSON body of a webhook delivery, in the shape Standard
// Webhooks recommends: a type, a timestamp, and the data.
type Message struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      AlertData `json:"data"`
}

// AlertData is an alert as destinations see it.
type AlertData struct {
	ID int64 `json:"id"`
	alert.Payload
}

// alertData reads a claimed delivery's alert.
func alertData(d store.Delivery) (AlertData, error) {
	if d.Alert == nil {
		return AlertData{}, fmt.Errorf("delivery %d: its alert %d is gone", d.ID, d.AlertID)
	}
	out := AlertData{ID: d.Alert.ID}
	if err := json.Unmarshal(d.Alert.Payload, &out.Payload); err != nil {
		return AlertData{}, fmt.Errorf("alert %d: payload: %w", d.Alert.ID, err)
	}
	return out, nil
}

// IdempotencyKey is the same on every attempt of one delivery, and differs
// between deliveries: receivers drop what they already have by it.
func IdempotencyKey(d store.Delivery) string { return fmt.Sprintf("msg_beacon_%d", d.ID) }

// Fields are the Beacon fields a CRM property can take, besides
// signals.NAME (a signal's value).
var Fields = []string{"score", "tier", "tier_label", "previous_tier", "segment", "zone", "reasons", "actions",
	"account_id", "account_name", "domain", "crm_id", "owner", "users", "rules_version", "alerted_at",
	"user_email", "user_id"}

func knownField(f string) bool {
	name, ok := strings.CutPrefix(f, "signals.")
	return slices.Contains(Fields, f) || (ok && name != "")
}

// fieldFor is field for one of the account's people: user_email and
// user_id are theirs, the rest the account's.
func (a AlertData) fieldFor(f string, p *alert.Person) any {
	switch {
	case p == nil && (f == "user_email" || f == "user_id"):
		return nil
	case f == "user_email":
		return p.Email
	case f == "user_id":
		return p.ID
	}
	return a.field(f)
}

// field is one Beacon field's value for a CRM property; absent signals are
// nil, which CRMs take as "leave empty".
func (a AlertData) field(f string) any {
	if name, ok := strings.CutPrefix(f, "signals."); ok {
		return a.Signals[name]
	}
	switch f {
	case "score":
		return a.Score
	case "tier":
		return a.Tier
	case "tier_label":
		return a.TierLabel
	case "previous_tier":
		return a.PreviousTier
	case "segment":
		return a.Segment
	case "zone":
		return a.Zone
	case "reasons":
		return a.reasonText(0)
	case "actions":
		labels := make([]string, len(a.Actions))
		for i, x := range a.Actions {
			labels[i] = x.Label
		}
		return strings.Join(labels, "; ")
	case "account_id":
		return a.Account.ID
	case "account_name":
		return a.Account.Name
	case "domain":
		if len(a.Account.Domains) == 0 {
			return nil
		}
		return a.Account.Domains[0]
	case "crm_id":
		if a.Account.CRMID == "" {
			return nil
		}
		return a.Account.CRMID
	case "owner":
		return a.Account.Owner
	case "users":
		return a.Account.Users
	case "rules_version":
		return a.RulesVersion
	case "alerted_at":
		return a.At.UTC().Format(time.RFC3339)
	}
	return nil
}

// reasonText lists the reasons, most points first, at most n of them (all
// when n is 0), as "Invited 2+ teammates (+25)".
func (a AlertData) reasonText(n int) string {
	rs := alert.TopReasons(a.Reasons, n)
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%s (%+g)", r.Label, r.Points)
	}
	return strings.Join(parts, "; ")
}
