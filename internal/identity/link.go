package identity

import (
	"errors"
	"slices"
	"strings"

	"github.com/beaconplg/beacon/internal/store"
)

// linkCRM links a workspace to the CRM record that owns one of its domains,
// or else whose name matches while no domain says otherwise, and gives it
// what that record says of it (inherit).
func (p *pass) linkCRM(a *store.Account) error {
	if a.Kind != store.KindGroup {
		return nil
	}
	id, method, conf, err := p.crmLink(a)
	if err != nil {
		return err
	}
	if id != a.CRMID || method != a.CRMMethod || conf != a.CRMConfidence {
		a.CRMID, a.CRMMethod, a.CRMConfidence = id, method, conf
		p.dirtyAccounts[a.ID] = true
	}
	var rec *store.Account
	if a.CRMID != "" {
		if rec, err = p.account(a.CRMID); errors.Is(err, store.ErrNotFound) {
			rec, err = nil, nil
		}
		if err != nil {
			return err
		}
	}
	if inherit(a, rec) {
		p.dirtyAccounts[a.ID] = true
	}
	return nil
}

// crmLink finds the CRM record of a workspace: by a domain the record owns,
// else by name. Without the CRM's names at hand (nil index) a name link
// stands as it is.
func (p *pass) crmLink(a *store.Account) (id, method string, conf float64, err error) {
	for _, d := range a.Domains {
		owner, err := p.owner(d)
		if err != nil {
			return "", "", 0, err
		}
		if owner != nil && owner.Kind == store.KindCRM {
			return owner.ID, store.MethodDomain, confidenceDomain, nil
		}
	}
	if p.crm == nil {
		if a.CRMMethod == store.MethodName {
			return a.CRMID, a.CRMMethod, a.CRMConfidence, nil
		}
		return "", "", 0, nil
	}
	if a.Name == "" {
		return "", "", 0, nil
	}
	cand, sim, ok := p.crm.match(a.Name)
	if !ok {
		return "", "", 0, nil
	}
	ours := a.Domains
	if len(ours) == 0 {
		if ours, err = p.memberDomains(a.ID); err != nil {
			return "", "", 0, err
		}
	}
	if conflict, err := p.domainsConflict(ours, cand); err != nil || conflict {
		return "", "", 0, err
	}
	return cand, store.MethodName, sim, nil
}

// memberDomains lists the business email domains of an account's users.
func (p *pass) memberDomains(accountID string) ([]string, error) {
	all, err := p.tx.MemberEmailDomains(p.ctx, accountID)
	return slices.DeleteFunc(all, IsPersonalDomain), err
}

// domainsConflict reports whether business domains ours and those of the
// CRM record id are both known and share none: then the two are different
// companies, however alike their names ("Aperture Piper BV" at
// aperturepiper.example is not "AperturePied GmbH" at aperturepied.example).
func (p *pass) domainsConflict(ours []string, id string) (bool, error) {
	if len(ours) == 0 {
		return false, nil
	}
	rec, err := p.account(id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return disjoint(ours, rec.Domains), nil
}

// disjoint reports whether two non-empty lists of domains share no
// organisation: no domain of one is, or is under, a domain of the other.
func disjoint(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	for _, x := range a {
		for _, y := range b {
			if x == y || strings.HasSuffix(x, "."+y) || strings.HasSuffix(y, "."+x) {
				return false
			}
		}
	}
	return true
}

// inherit gives a workspace what its linked CRM record (nil: none) says of
// it, and reports whether that changed anything. The CRM is sales' system of
// record: a linked workspace's owner, open opportunity and place on the
// named list are the record's (the product sends none of them). Size and
// industry are the workspace's own traits where it sends them, the
// record's where it does not.
func inherit(a, rec *store.Account) bool {
	owner, open, named := "", false, false
	employees, industry := max(0, number(a.Traits, employeeTraits...)), str(a.Traits, "industry")
	if rec != nil {
		owner, open, named = rec.Owner, rec.OpenOpportunity, rec.Named
		if employees == 0 {
			employees = rec.Employees
		}
		if industry == "" {
			industry = rec.Industry
		}
	}
	changed := owner != a.Owner || open != a.OpenOpportunity || named != a.Named ||
		employees != a.Employees || industry != a.Industry
	a.Owner, a.OpenOpportunity, a.Named, a.Employees, a.Industry = owner, open, named, employees, industry
	return changed
}

// employeeTraits are the group traits that may carry a company's size.
var employeeTraits = []string{"employees", "employee_count", "size"}
