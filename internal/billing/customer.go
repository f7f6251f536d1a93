package billing

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

// AccountKey is the metadata key that names, on a Stripe customer or
// subscription, the Beacon account it belongs to (the product's workspace
// id, as its group calls send it).
const AccountKey = "beacon_account_id"

// crmKeys are metadata keys that name the customer's CRM record.
var crmKeys = []string{"crm_id", "hubspot_company_id", "salesforce_account_id"}

// Customer is what the ledger knows of one billing customer: how it ties
// to an account, and its subscription as it stands.
type Customer struct {
	ID string
	// Account is from the metadata (AccountKey); Email and CRMID are what
	// a link by domain or CRM record reads when it is empty.
	Account, Email, CRMID string
	Plan                  string // the price's nickname, lookup key or id
	Seats                 int64
	MRR                   int64 // cents
	TrialEnd              time.Time
	PayingSince           time.Time // zero unless paying now
	FirstPaid             time.Time // zero if never paid
}

// Link ties a customer to an account, and says how.
type Link struct {
	Account string
	Method  string // metadata, domain, crm
}

// The methods of a customer's link, as the account page shows them.
const (
	ByMetadata = "metadata"
	ByDomain   = "domain"
	ByCRM      = "crm"
)

// customerFields reads, from a customer.created/updated event, its email
// and metadata.
func customerFields(body []byte) (email string, meta map[string]string) {
	var ev struct {
		Data struct {
			Object struct {
				Email    string            `json:"email"`
				Metadata map[string]string `json:"metadata"`
			} `json:"object"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &ev) != nil {
		return "", nil
	}
	return ev.Data.Object.Email, ev.Data.Object.Metadata
}

// note records what a customer's or a subscription's metadata says of the
// account and the CRM record; a key absent leaves what was known.
func (c *Customer) note(meta map[string]string) {
	if v := strings.TrimSpace(meta[AccountKey]); v != "" {
		c.Account = v
	}
	for _, k := range crmKeys {
		if v := strings.TrimSpace(meta[k]); v != "" {
			c.CRMID = v
		}
	}
}

// Links ties every customer to an account: its metadata's account id
// first, then the account whose CRM record its metadata names, then the
// account holding its email's domain. Where a workspace and a CRM record
// both match, the workspace wins: it is the account Beacon scores, linked
// to its CRM record. A customer none of these ties is left out.
func (l *Ledger) Links(accounts []store.Account) map[string]Link {
	byCRM, byDomain := map[string]string{}, map[string]string{}
	for _, pass := range []bool{true, false} {
		for _, a := range accounts {
			if (a.Kind == "group") != pass {
				continue
			}
			if a.CRMID != "" && byCRM[a.CRMID] == "" {
				byCRM[a.CRMID] = a.ID
			}
			for _, d := range a.Domains {
				if byDomain[d] == "" {
					byDomain[d] = a.ID
				}
			}
		}
	}
	out := make(map[string]Link, len(l.custs))
	for id, c := range l.custs {
		_, domain, _ := strings.Cut(strings.ToLower(c.Email), "@")
		switch {
		case c.Account != "":
			out[id] = Link{Account: c.Account, Method: ByMetadata}
		case byCRM[c.CRMID] != "":
			out[id] = Link{Account: byCRM[c.CRMID], Method: ByCRM}
		case domain != "" && byDomain[domain] != "":
			out[id] = Link{Account: byDomain[domain], Method: ByDomain}
		}
	}
	return out
}

// Customer returns what the ledger knows of a customer.
func (l *Ledger) Customer(id string) (Customer, bool) {
	c, ok := l.custs[id]
	if !ok {
		return Customer{}, false
	}
	return *c, true
}

func (l *Ledger) customer(id string) *Customer {
	c := l.custs[id]
	if c == nil {
		c = &Customer{ID: id}
		l.custs[id] = c
	}
	return c
}

// eventCustomer applies a customer.created/updated event.
func (l *Ledger) eventCustomer(e store.BillingEvent) {
	email, meta := customerFields(e.Body)
	c := l.customer(e.Customer)
	if email != "" {
		c.Email = email
	}
	c.note(meta)
}
