package score

import (
	"cmp"
	"context"
	"slices"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
)

// directory is what identity knows of the subjects scoring reads: users'
// links and email, accounts and their users. It is kept in memory and
// refreshed from the store for exactly what identity reports changed, so a
// rescore reads nothing but the rollups.
type directory struct {
	users    map[string]*person
	accounts map[string]*company
}

type person struct {
	business bool               // a company email address
	links    []store.Membership // strongest first
}

type company struct {
	info    store.Account // zero when the account is gone
	members []string      // sorted
}

func newDirectory() *directory {
	return &directory{users: map[string]*person{}, accounts: map[string]*company{}}
}

// primary is a user's main account, "" if none.
func (d *directory) primary(user string) string {
	if p := d.users[user]; p != nil && len(p.links) > 0 {
		return p.links[0].AccountID
	}
	return ""
}

// load reads everything.
func (s *Service) loadDirectory(ctx context.Context) error {
	links, err := s.db.AllMemberships(ctx)
	if err != nil {
		return err
	}
	d := newDirectory()
	users, accounts := map[string]bool{}, map[string]bool{}
	for _, m := range links {
		users[m.UserID], accounts[m.AccountID] = true, true
	}
	if err := d.readUsers(ctx, s.db, sortedKeys(users), links); err != nil {
		return err
	}
	if err := d.readAccounts(ctx, s.db, sortedKeys(accounts), links); err != nil {
		return err
	}
	s.dir = d
	return nil
}

// refresh reads again the users and accounts given.
func (s *Service) refresh(ctx context.Context, users, accounts []string) error {
	if len(users) > 0 {
		links, err := s.db.MembershipsIn(ctx, users)
		if err != nil {
			return err
		}
		// Accounts a user joined or left: their member lists change too.
		touched := map[string]bool{}
		for _, u := range users {
			if p := s.dir.users[u]; p != nil {
				for _, m := range p.links {
					touched[m.AccountID] = true
				}
			}
		}
		for _, m := range links {
			touched[m.AccountID] = true
		}
		for _, a := range accounts {
			touched[a] = true
		}
		accounts = sortedKeys(touched)
		if err := s.dir.readUsers(ctx, s.db, users, links); err != nil {
			return err
		}
	}
	if len(accounts) == 0 {
		return nil
	}
	links, err := s.db.MembershipsOfAccounts(ctx, accounts)
	if err != nil {
		return err
	}
	return s.dir.readAccounts(ctx, s.db, accounts, links)
}

// readUsers replaces the entries of ids with what the store holds; links are
// the memberships of (at least) those users.
func (d *directory) readUsers(ctx context.Context, db Store, ids []string, links []store.Membership) error {
	rows, err := db.UsersIn(ctx, ids)
	if err != nil {
		return err
	}
	fresh := make(map[string]*person, len(ids))
	for _, id := range ids {
		fresh[id] = &person{}
	}
	for _, u := range rows {
		fresh[u.ID].business = u.EmailDomain != "" && !identity.IsPersonalDomain(u.EmailDomain)
	}
	for _, m := range links {
		if p := fresh[m.UserID]; p != nil {
			p.links = append(p.links, m)
		}
	}
	for id, p := range fresh {
		slices.SortFunc(p.links, byStrength)
		d.users[id] = p
	}
	return nil
}

// readAccounts replaces the entries of ids; links are the memberships of
// (at least) those accounts.
func (d *directory) readAccounts(ctx context.Context, db Store, ids []string, links []store.Membership) error {
	rows, err := db.AccountsIn(ctx, ids)
	if err != nil {
		return err
	}
	fresh := make(map[string]*company, len(ids))
	for _, id := range ids {
		fresh[id] = &company{}
	}
	for _, a := range rows {
		fresh[a.ID].info = a
	}
	for _, m := range links {
		if c := fresh[m.AccountID]; c != nil {
			c.members = append(c.members, m.UserID)
		}
	}
	for id, c := range fresh {
		slices.Sort(c.members)
		c.members = slices.Compact(c.members)
		d.accounts[id] = c
	}
	return nil
}

// byStrength orders a user's links, strongest first: by method (group,
// domain, name, individual), then confidence, then account id, so the
// choice is stable.
func byStrength(a, b store.Membership) int {
	return cmp.Or(
		cmp.Compare(slices.Index(store.Methods, a.Method), slices.Index(store.Methods, b.Method)),
		cmp.Compare(b.Confidence, a.Confidence),
		cmp.Compare(a.AccountID, b.AccountID))
}
