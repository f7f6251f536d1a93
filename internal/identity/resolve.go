package identity

import (
	"errors"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

// resolveUser settles a user's inferred link. A user with an explicit group
// keeps only its groups; any other user gets exactly one inferred account.
func (p *pass) resolveUser(uid string) error {
	ms, err := p.memberships(uid)
	if err != nil {
		return err
	}
	ms = append([]store.Membership(nil), ms...) // the loop below changes the cached list
	var inferred []store.Membership
	hasGroup := false
	for _, m := range ms {
		if m.Method == store.MethodGroup {
			hasGroup = true
		} else {
			inferred = append(inferred, m)
		}
	}
	want := store.Membership{}
	if !hasGroup {
		u, err := p.user(uid, time.Time{})
		if err != nil {
			return err
		}
		if want, err = p.infer(u); err != nil {
			return err
		}
	}
	keep := false
	for _, m := range inferred {
		if m.AccountID == want.AccountID && m.Method == want.Method && m.Confidence == want.Confidence {
			keep = true
			continue
		}
		p.deleteMembership(uid, m.AccountID)
		p.maybeOrphan[m.AccountID] = true
	}
	if want.AccountID != "" && !keep {
		p.putMembership(want)
	}
	return nil
}

// infer applies the resolution order after an explicit group: the account
// owning the email domain; the CRM account matching the company name, unless
// its domains and the user's business address disagree; a new
// account for a business domain; an account of the user's own.
func (p *pass) infer(u *store.User) (store.Membership, error) {
	m := store.Membership{UserID: u.ID, CreatedAt: u.FirstSeen}
	business := u.EmailDomain != "" && !IsPersonalDomain(u.EmailDomain)
	if business {
		owner, err := p.owner(u.EmailDomain)
		if err != nil {
			return m, err
		}
		if owner != nil {
			m.AccountID, m.Method, m.Confidence = owner.ID, store.MethodDomain, confidenceDomain
			if owner.Kind == store.KindDomain {
				m.Confidence = confidenceNewDomain
			}
			return m, nil
		}
	}
	if p.crm != nil && u.Company != "" {
		if id, sim, ok := p.crm.match(u.Company); ok {
			var ours []string
			if business {
				ours = []string{u.EmailDomain}
			}
			conflict, err := p.domainsConflict(ours, id)
			if err != nil {
				return m, err
			}
			if !conflict {
				m.AccountID, m.Method, m.Confidence = id, store.MethodName, sim
				return m, nil
			}
		}
	}
	if business {
		a, err := p.inferredAccount(store.Account{ID: "domain:" + u.EmailDomain, Kind: store.KindDomain,
			Name: u.EmailDomain, Domains: []string{u.EmailDomain}, CreatedAt: u.FirstSeen})
		if err != nil {
			return m, err
		}
		if err := p.tx.SetDomainOwner(p.ctx, u.EmailDomain, a.ID); err != nil {
			return m, err
		}
		m.AccountID, m.Method, m.Confidence = a.ID, store.MethodDomain, confidenceNewDomain
		return m, nil
	}
	a, err := p.inferredAccount(store.Account{ID: "user:" + u.ID, Kind: store.KindIndividual,
		Name: firstNonEmpty(u.Email, u.ID), CreatedAt: u.FirstSeen})
	if err != nil {
		return m, err
	}
	m.AccountID, m.Method, m.Confidence = a.ID, store.MethodIndividual, confidenceIndividual
	return m, nil
}

// inferredAccount returns the stored account with a's id, or creates a.
func (p *pass) inferredAccount(a store.Account) (*store.Account, error) {
	cur, err := p.account(a.ID)
	if err == nil {
		return cur, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	a.Traits = map[string]any{}
	p.c.accounts[a.ID], p.dirtyAccounts[a.ID] = &a, true
	return &a, nil
}

// dropOrphans deletes inferred accounts left with no users: an individual
// account whose user joined a company, or a domain account whose domain a
// workspace or the CRM took over.
func (p *pass) dropOrphans() error {
	for _, id := range sortedKeys(p.maybeOrphan) {
		a, err := p.account(id)
		if err != nil || (a.Kind != store.KindIndividual && a.Kind != store.KindDomain) {
			continue
		}
		n, err := p.tx.MemberCount(p.ctx, id)
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		if a.Kind == store.KindDomain && len(a.Domains) > 0 {
			if owner, err := p.owner(a.Domains[0]); err != nil || (owner != nil && owner.ID == id) {
				continue
			}
		}
		if err := p.tx.DeleteAccount(p.ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// putCRM writes one CRM record; the CRM's word on a domain beats a
// workspace's, and the workspace is linked to the CRM account instead.
func (p *pass) putCRM(r CRMAccount) error {
	id := CRMAccountID(r.ID)
	a, err := p.account(id)
	if errors.Is(err, store.ErrNotFound) {
		a, err = &store.Account{ID: id, Kind: store.KindCRM, Traits: map[string]any{}, CreatedAt: time.Now().UTC()}, nil
		p.c.accounts[id] = a
	}
	if err != nil {
		return err
	}
	a.Name, a.Owner, a.Employees, a.Industry = Storable(r.Name), Storable(r.Owner), r.Employees, Storable(r.Industry)
	a.OpenOpportunity, a.Named, a.CRMID = r.OpenOpportunity, r.Named, r.ID
	a.Domains = a.Domains[:0]
	for _, d := range r.Domains {
		if d = NormalizeDomain(d); d != "" && !contains(a.Domains, d) {
			a.Domains = append(a.Domains, d)
		}
	}
	if err := p.tx.PutAccount(p.ctx, *a); err != nil {
		return err
	}
	for _, d := range a.Domains {
		prev, err := p.owner(d)
		if err != nil {
			return err
		}
		if prev != nil && prev.ID == id {
			continue
		}
		if prev != nil && prev.Kind == store.KindDomain {
			p.maybeOrphan[prev.ID] = true
		}
		if err := p.setOwner(d, id); err != nil {
			return err
		}
	}
	return nil
}

// relinkAll, after a CRM import, links every workspace to the CRM again and
// re-resolves every user without an explicit group.
func (p *pass) relinkAll() error {
	groups, err := p.tx.AccountsOfKind(p.ctx, store.KindGroup)
	if err != nil {
		return err
	}
	for i := range groups {
		a := &groups[i]
		if cached, ok := p.c.accounts[a.ID]; ok {
			a = cached
		}
		p.c.accounts[a.ID] = a
		if err := p.linkCRM(a); err != nil {
			return err
		}
	}
	users, err := p.tx.UsersWithoutGroup(p.ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		p.resolve[u] = true
	}
	return p.flush()
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
