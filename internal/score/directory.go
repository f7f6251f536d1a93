package score

import (
	"context"
	"maps"
	"slices"
	"time"

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

// primary is a user's main account, "" if none.
func (d *directory) primary(user string) string {
	if p := d.users[user]; p != nil && len(p.links) > 0 {
		return p.links[0].AccountID
	}
	return ""
}

// readDirectory reads everything: whole tables, read in order, far cheaper
// than looking each id up. With asOf, links made after it are left out.
func readDirectory(ctx context.Context, db Store, asOf time.Time) (*directory, error) {
	links, err := db.AllMemberships(ctx)
	if err != nil {
		return nil, err
	}
	links = linksAsOf(links, asOf)
	domains, err := db.EmailDomains(ctx)
	if err != nil {
		return nil, err
	}
	all, err := db.AllAccounts(ctx)
	if err != nil {
		return nil, err
	}
	d := &directory{users: make(map[string]*person, len(domains)), accounts: make(map[string]*company, len(all))}
	for _, m := range links {
		if d.users[m.UserID] == nil {
			d.users[m.UserID] = newPerson(domains[m.UserID])
		}
		if d.accounts[m.AccountID] == nil {
			d.accounts[m.AccountID] = &company{}
		}
	}
	linkUsers(d.users, links)
	linkAccounts(d.accounts, all, links)
	return d, nil
}

// refresh reads again the users and accounts given.
func (s *Service) refresh(ctx context.Context, users, accounts []string) error {
	if len(users) > 0 {
		links, err := s.db.MembershipsIn(ctx, users)
		if err != nil {
			return err
		}
		links = linksAsOf(links, s.asOf)
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
	domains := make(map[string]string, len(rows))
	for _, u := range rows {
		domains[u.ID] = u.EmailDomain
	}
	d.setUsers(ids, domains, links)
	return nil
}

// setUsers replaces the entries of ids; domains holds (at least) their
// email domains, links (at least) their memberships.
func (d *directory) setUsers(ids []string, domains map[string]string, links []store.Membership) {
	fresh := make(map[string]*person, len(ids))
	for _, id := range ids {
		fresh[id] = newPerson(domains[id])
	}
	linkUsers(fresh, links)
	maps.Copy(d.users, fresh)
}

func newPerson(domain string) *person {
	return &person{business: domain != "" && !identity.IsPersonalDomain(domain)}
}

// linkUsers gives the people of users their links, strongest first.
func linkUsers(users map[string]*person, links []store.Membership) {
	for _, m := range links {
		if p := users[m.UserID]; p != nil {
			p.links = append(p.links, m)
		}
	}
	for _, p := range users {
		slices.SortFunc(p.links, store.ByStrength)
	}
}

// readAccounts replaces the entries of ids; links are the memberships of
// (at least) those accounts.
func (d *directory) readAccounts(ctx context.Context, db Store, ids []string, links []store.Membership) error {
	rows, err := db.AccountsIn(ctx, ids)
	if err != nil {
		return err
	}
	d.setAccounts(ids, rows, links)
	return nil
}

// setAccounts replaces the entries of ids; rows holds (at least) those
// accounts, links (at least) their memberships.
func (d *directory) setAccounts(ids []string, rows []store.Account, links []store.Membership) {
	fresh := make(map[string]*company, len(ids))
	for _, id := range ids {
		fresh[id] = &company{}
	}
	linkAccounts(fresh, rows, links)
	maps.Copy(d.accounts, fresh)
}

// linkAccounts gives the companies of accounts what rows hold of them, and
// their members.
func linkAccounts(accounts map[string]*company, rows []store.Account, links []store.Membership) {
	for _, a := range rows {
		if c := accounts[a.ID]; c != nil {
			c.info = a
		}
	}
	for _, m := range links {
		if c := accounts[m.AccountID]; c != nil {
			c.members = append(c.members, m.UserID)
		}
	}
	for _, c := range accounts {
		slices.Sort(c.members)
		c.members = slices.Compact(c.members)
	}
}

// linksAsOf leaves out the links made after asOf (none, if it is zero): a
// user who joined an account later was not among its members then.
func linksAsOf(links []store.Membership, asOf time.Time) []store.Membership {
	if asOf.IsZero() {
		return links
	}
	return slices.DeleteFunc(links, func(m store.Membership) bool { return m.CreatedAt.After(asOf) })
}
