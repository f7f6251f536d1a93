package score

import (
	"context"
	"slices"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
)

// directory is what identity knows of the subjects one flush scores, read
// fresh from the store each time so scores never rest on a stale copy.
type directory struct {
	accounts map[string]store.Account // the accounts to score
	members  map[string][]string      // their users, sorted
	users    map[string]bool          // the users to score
	primary  map[string]string        // a user's main account
	business map[string]bool          // users with a company email address
	info     map[string]store.Account // every account read: scored ones and main ones
}

func (s *Service) directory(ctx context.Context) (*directory, error) {
	d := &directory{accounts: map[string]store.Account{}, members: map[string][]string{}, users: map[string]bool{},
		primary: map[string]string{}, business: map[string]bool{}}
	var links []store.Membership
	var err error
	if s.dirty.everyone {
		links, err = s.db.AllMemberships(ctx)
	} else {
		links, err = s.db.MembershipsOfUsers(ctx, sortedKeys(s.dirty.users))
	}
	if err != nil {
		return nil, err
	}
	toScore := map[string]bool{}
	for u := range s.dirty.users {
		d.users[u] = true
	}
	for a := range s.dirty.accounts {
		toScore[a] = true
	}
	for _, m := range links {
		d.users[m.UserID], toScore[m.AccountID] = true, true
	}
	if !s.dirty.everyone {
		if links, err = s.db.MembershipsOfAccounts(ctx, sortedKeys(toScore)); err != nil {
			return nil, err
		}
		mine, err := s.db.MembershipsOfUsers(ctx, sortedKeys(d.users))
		if err != nil {
			return nil, err
		}
		links = append(links, mine...)
	}
	best := map[string]store.Membership{}
	people := map[string]bool{}
	for _, m := range links {
		if toScore[m.AccountID] && !slices.Contains(d.members[m.AccountID], m.UserID) {
			d.members[m.AccountID] = append(d.members[m.AccountID], m.UserID)
			people[m.UserID] = true
		}
		if b, ok := best[m.UserID]; d.users[m.UserID] && (!ok || stronger(m, b)) {
			best[m.UserID] = m
		}
	}
	for a := range d.members {
		slices.Sort(d.members[a])
	}
	wanted := map[string]bool{}
	for a := range toScore {
		wanted[a] = true
	}
	for u, m := range best {
		d.primary[u], wanted[m.AccountID] = m.AccountID, true
		people[u] = true
	}
	for u := range d.users {
		people[u] = true
	}
	if err := s.readUsers(ctx, d, sortedKeys(people)); err != nil {
		return nil, err
	}
	accounts, err := s.db.AccountsIn(ctx, sortedKeys(wanted))
	if err != nil {
		return nil, err
	}
	info := map[string]store.Account{}
	for _, a := range accounts {
		info[a.ID] = a
	}
	for a := range toScore {
		d.accounts[a] = info[a] // an account gone since has no members: its scores are cleared
	}
	for u, a := range d.primary {
		if _, ok := info[a]; !ok {
			delete(d.primary, u)
		}
	}
	d.info = info
	return d, nil
}

func (s *Service) readUsers(ctx context.Context, d *directory, ids []string) error {
	users, err := s.db.UsersIn(ctx, ids)
	if err != nil {
		return err
	}
	for _, u := range users {
		d.business[u.ID] = u.EmailDomain != "" && !identity.IsPersonalDomain(u.EmailDomain)
	}
	return nil
}

// stronger orders a user's links: by method (group, domain, name,
// individual), then confidence, then account id, so the choice is stable.
func stronger(a, b store.Membership) bool {
	ra, rb := slices.Index(store.Methods, a.Method), slices.Index(store.Methods, b.Method)
	if ra != rb {
		return ra < rb
	}
	if a.Confidence != b.Confidence {
		return a.Confidence > b.Confidence
	}
	return a.AccountID < b.AccountID
}
