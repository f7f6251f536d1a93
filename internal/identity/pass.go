package identity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/store"
)

// pass is the working set of one transaction: rows are read once, changed in
// memory by every event of the batch, and written once at flush.
type pass struct {
	ctx context.Context
	tx  store.IdentityTx
	crm *crmIndex

	c             *cache
	dirtyUsers    map[string]bool
	dirtyAccounts map[string]bool
	resolve       map[string]bool
	maybeOrphan   map[string]bool
	refs          []store.EventRef
	// users is each applied event's user, "" for a visitor not yet tied
	// to one, for the next stage.
	users []string
	// aliases and links are written at the end of the pass, many to a
	// statement; a nil link is one to delete.
	aliases map[string]store.Alias
	links   map[[2]string]*store.Membership
	// tied are all the aliases the pass made, for the next stage.
	tied   map[string]string
	absent map[string]bool // users known not to be stored yet
	// visits are when visitors not yet tied to a user were first active,
	// for the first_seen of the users they turn out to be.
	visits map[string]time.Time
	// domainMoved are the users whose email domain the pass changed: their
	// workspaces' CRM links may move with it.
	domainMoved map[string]bool
	// relinked are the users whose memberships the pass changed, and their
	// accounts, old and new: scores downstream depend on them.
	relinked, relinkedAccounts map[string]bool
}

func newPass(ctx context.Context, tx store.IdentityTx, crm *crmIndex, c *cache) *pass {
	return &pass{ctx: ctx, tx: tx, crm: crm, c: c, dirtyUsers: map[string]bool{}, dirtyAccounts: map[string]bool{},
		resolve: map[string]bool{}, maybeOrphan: map[string]bool{}, absent: map[string]bool{}, domainMoved: map[string]bool{},
		visits:   map[string]time.Time{},
		relinked: map[string]bool{}, relinkedAccounts: map[string]bool{}, aliases: map[string]store.Alias{},
		tied: map[string]string{}, links: map[[2]string]*store.Membership{}}
}

// prefetch reads, a few queries for the whole batch, the aliases, users and
// links its events need and the cache lacks, instead of a round trip each.
// It reads from r before the pass takes the writer.
func (p *pass) prefetch(r batchReader, evs []event.Event) error {
	anons, seenAnon := []string{}, map[string]bool{}
	for _, e := range evs {
		for _, a := range []string{e.AnonymousID, e.PreviousID} {
			if _, cached := p.c.aliases[a]; a != "" && !cached && !seenAnon[a] {
				seenAnon[a] = true
				anons = append(anons, a)
			}
		}
	}
	aliases, err := r.AliasesIn(p.ctx, anons)
	if err != nil {
		return err
	}
	for _, a := range anons {
		p.c.aliases[a] = aliases[a]
	}
	if err := p.prefetchVisits(r, evs); err != nil {
		return err
	}
	uids, seenUser := []string{}, map[string]bool{}
	for _, e := range evs {
		for _, u := range []string{e.UserID, p.c.aliases[e.AnonymousID]} {
			if _, cached := p.c.users[u]; u != "" && !cached && !seenUser[u] {
				seenUser[u] = true
				uids = append(uids, u)
			}
		}
	}
	users, err := r.UsersIn(p.ctx, uids)
	if err != nil {
		return err
	}
	for _, u := range uids {
		p.absent[u] = true
	}
	for i := range users {
		p.c.users[users[i].ID] = &users[i]
		delete(p.absent, users[i].ID)
	}
	ms, err := r.MembershipsIn(p.ctx, uids)
	if err != nil {
		return err
	}
	for _, u := range uids {
		p.c.members[u] = []store.Membership{}
	}
	for _, m := range ms {
		p.c.members[m.UserID] = append(p.c.members[m.UserID], m)
	}
	return nil
}

// prefetchVisits reads when the visitors this batch may tie to users were
// first seen, in passes before it: a user's first_seen is the earliest of
// all their events, pre-signup page views included.
func (p *pass) prefetchVisits(r batchReader, evs []event.Event) error {
	var keys []string
	seen := map[string]bool{}
	for _, e := range evs {
		for _, a := range []string{e.AnonymousID, e.PreviousID} {
			if a == "" || seen[a] || p.c.aliases[a] != "" || (e.UserID == "" && a == e.AnonymousID) {
				continue
			}
			seen[a] = true
			keys = append(keys, "anon:"+a)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	first, err := r.FirstEventTimes(p.ctx, keys)
	for k, t := range first {
		p.visited(strings.TrimPrefix(k, "anon:"), t)
	}
	return err
}

// visited notes that visitor anon was active at t.
func (p *pass) visited(anon string, t time.Time) {
	if cur, ok := p.visits[anon]; !ok || t.Before(cur) {
		p.visits[anon] = t
	}
}

// applyAll folds evs into the working set and writes it.
func (p *pass) applyAll(evs []event.Event) error {
	for _, e := range evs {
		if err := p.apply(e); err != nil {
			return fmt.Errorf("event %s (seq %d): %w", e.MessageID, e.Seq, err)
		}
	}
	return p.flush()
}

// apply folds one event into the working set.
func (p *pass) apply(e event.Event) error {
	if e.UserID != "" {
		p.refs = append(p.refs, store.EventRef{Key: "user:" + e.UserID, TS: e.Timestamp, Seq: e.Seq})
	}
	if e.UserID == "" && e.AnonymousID != "" {
		// Only an anonymous event needs its anonymous id in the timeline, to
		// be found once the id is tied to a user; an identified event is the
		// user's, whoever else once used the device.
		p.refs = append(p.refs, store.EventRef{Key: "anon:" + e.AnonymousID, TS: e.Timestamp, Seq: e.Seq})
	}
	uid := e.UserID
	if uid == "" {
		var err error
		uid, err = p.aliasOf(e.AnonymousID)
		p.users = append(p.users, uid)
		if err != nil || uid == "" {
			if err == nil && e.AnonymousID != "" {
				p.visited(e.AnonymousID, e.Timestamp)
			}
			return err // an anonymous visitor not yet identified: nothing to project
		}
	} else {
		p.users = append(p.users, uid)
	}
	u, err := p.user(uid, e.Timestamp)
	if err != nil {
		return err
	}
	p.seen(u, e.Timestamp)
	if e.UserID != "" && e.AnonymousID != "" {
		if err := p.alias(e.AnonymousID, u, e.Timestamp); err != nil {
			return err
		}
	}
	switch e.Type {
	case event.Identify:
		p.identify(u, e)
	case event.Alias:
		if err := p.alias(e.PreviousID, u, e.Timestamp); err != nil {
			return err
		}
	case event.Group:
		a, err := p.groupAccount(e.GroupID, e.Timestamp)
		if err != nil {
			return err
		}
		p.groupTraits(a, e)
	}
	if e.GroupID != "" {
		return p.join(uid, e.GroupID, e.Timestamp)
	}
	return nil
}

func (p *pass) aliasOf(anon string) (string, error) {
	if anon == "" {
		return "", nil
	}
	if uid, ok := p.c.aliases[anon]; ok {
		return uid, nil
	}
	uid, err := p.tx.AliasOf(p.ctx, anon)
	if errors.Is(err, store.ErrNotFound) {
		err = nil
	}
	p.c.aliases[anon] = uid
	return uid, err
}

// alias merges an anonymous id into a user at the time of the event that
// tied them: the first user it is seen with keeps it, as Segment's identity
// graph does, and the visits made under it count for the user's first_seen.
func (p *pass) alias(anon string, u *store.User, at time.Time) error {
	cur, err := p.aliasOf(anon)
	if err != nil || cur != "" || anon == u.ID {
		return err
	}
	p.c.aliases[anon], p.aliases[anon], p.tied[anon] = u.ID, store.Alias{UserID: u.ID, At: at}, u.ID
	if t, ok := p.visits[anon]; ok && t.Before(u.FirstSeen) {
		u.FirstSeen, p.dirtyUsers[u.ID] = t, true
	}
	return nil
}

func (p *pass) user(uid string, at time.Time) (*store.User, error) {
	if u, ok := p.c.users[uid]; ok {
		return u, nil
	}
	var u store.User
	err := store.ErrNotFound
	if !p.absent[uid] {
		u, err = p.tx.User(p.ctx, uid)
	}
	if errors.Is(err, store.ErrNotFound) {
		u, err = store.User{ID: uid, Traits: map[string]any{}, FirstSeen: at, LastSeen: at}, nil
		p.resolve[uid] = true
		p.dirtyUsers[uid] = true
	}
	if err != nil {
		return nil, err
	}
	p.c.users[uid] = &u
	return &u, nil
}

// LastSeenGrain is how far a user's last_seen may lag behind their latest
// event. Writing it for every event would rewrite a user's row with each one
// they send; scoring reads activity from the rollups, not from this column.
const LastSeenGrain = time.Minute

func (p *pass) seen(u *store.User, at time.Time) {
	if at.Before(u.FirstSeen) {
		u.FirstSeen, p.dirtyUsers[u.ID] = at, true
	}
	if at.Sub(u.LastSeen) >= LastSeenGrain {
		u.LastSeen, p.dirtyUsers[u.ID] = at, true
	}
}

func (p *pass) identify(u *store.User, e event.Event) {
	u.Traits, u.TraitsAt = mergeTraits(u.Traits, u.TraitsAt, e.Traits, e.Timestamp)
	p.dirtyUsers[u.ID] = true
	email := str(u.Traits, "email")
	domain, company := EmailDomain(email), companyName(u.Traits)
	if domain != u.EmailDomain || company != u.Company {
		p.resolve[u.ID] = true
		p.relinked[u.ID] = true
	}
	if domain != u.EmailDomain {
		p.domainMoved[u.ID] = true
	}
	u.Email, u.EmailDomain, u.Company = email, domain, company
}

func (p *pass) account(id string) (*store.Account, error) {
	if a, ok := p.c.accounts[id]; ok {
		return a, nil
	}
	a, err := p.tx.Account(p.ctx, id)
	if err != nil {
		return nil, err
	}
	p.c.accounts[id] = &a
	return &a, nil
}

func (p *pass) groupAccount(id string, at time.Time) (*store.Account, error) {
	a, err := p.account(id)
	if errors.Is(err, store.ErrNotFound) {
		a = &store.Account{ID: id, Kind: store.KindGroup, Traits: map[string]any{}, CreatedAt: at}
		p.c.accounts[id], p.dirtyAccounts[id], err = a, true, nil
	}
	return a, err
}

// groupTraits folds a group call's traits into its workspace. Size and
// industry are settled with the CRM link at flush (inherit).
func (p *pass) groupTraits(a *store.Account, e event.Event) {
	a.Traits, a.TraitsAt = mergeTraits(a.Traits, a.TraitsAt, e.Traits, e.Timestamp)
	if n := str(a.Traits, "name"); n != "" {
		a.Name = n
	}
	for _, d := range accountDomains(a.Traits) {
		if !contains(a.Domains, d) {
			a.Domains = append(a.Domains, d)
		}
	}
	p.dirtyAccounts[a.ID] = true
}

// join links a user to the account of an explicit group.
func (p *pass) join(uid, groupID string, at time.Time) error {
	ms, err := p.memberships(uid)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.AccountID == groupID && m.Method == store.MethodGroup {
			return nil
		}
	}
	if _, err := p.groupAccount(groupID, at); err != nil {
		return err
	}
	p.resolve[uid] = true // its inferred links give way to the group
	p.putMembership(store.Membership{UserID: uid, AccountID: groupID,
		Method: store.MethodGroup, Confidence: confidenceGroup, CreatedAt: at})
	return nil
}

// memberships returns a user's links, read once and then kept in the cache.
func (p *pass) memberships(uid string) ([]store.Membership, error) {
	if ms, ok := p.c.members[uid]; ok {
		return ms, nil
	}
	ms, err := p.tx.Memberships(p.ctx, uid)
	if err != nil {
		return nil, err
	}
	if ms == nil {
		ms = []store.Membership{}
	}
	p.c.members[uid] = ms
	return ms, nil
}

func (p *pass) putMembership(m store.Membership) {
	p.links[[2]string{m.UserID, m.AccountID}] = &m
	p.c.setMember(m)
	p.relinked[m.UserID], p.relinkedAccounts[m.AccountID] = true, true
}

func (p *pass) deleteMembership(userID, accountID string) {
	p.links[[2]string{userID, accountID}] = nil
	p.c.dropMember(userID, accountID)
	p.relinked[userID], p.relinkedAccounts[accountID] = true, true
}

// writeLinks writes the pass's aliases and links: what is read from the
// store after it (member counts) sees them.
func (p *pass) writeLinks() error {
	if err := p.tx.PutAliases(p.ctx, p.aliases); err != nil {
		return err
	}
	var put []store.Membership
	byUserAccount := func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) }
	for _, k := range slices.SortedFunc(maps.Keys(p.links), byUserAccount) {
		if m := p.links[k]; m != nil {
			put = append(put, *m)
		} else if err := p.tx.DeleteMembership(p.ctx, k[0], k[1]); err != nil {
			return err
		}
	}
	clear(p.aliases)
	clear(p.links)
	return p.tx.PutMemberships(p.ctx, put)
}

// flush writes what the pass changed and re-resolves the users it touched.
func (p *pass) flush() error {
	defer p.noteChanges()
	// Sorted, the timeline index is written leaf by leaf rather than at random.
	sort.Slice(p.refs, func(i, j int) bool { return p.refs[i].Key < p.refs[j].Key })
	if err := p.tx.IndexEvents(p.ctx, p.refs); err != nil {
		return err
	}
	for _, id := range sortedKeys(p.dirtyAccounts) {
		if err := p.claimDomains(p.c.accounts[id]); err != nil {
			return err
		}
	}
	users := make([]store.User, 0, len(p.dirtyUsers))
	for _, id := range sortedKeys(p.dirtyUsers) {
		users = append(users, *p.c.users[id])
	}
	if err := p.tx.PutUsers(p.ctx, users); err != nil {
		return err
	}
	for _, id := range sortedKeys(p.resolve) {
		if err := p.resolveUser(id); err != nil {
			return err
		}
	}
	if err := p.writeLinks(); err != nil {
		return err
	}
	// Linked once the pass's users and links are written: a workspace's
	// link reads its users' email domains.
	if err := p.relinkWorkspaces(); err != nil {
		return err
	}
	for _, id := range sortedKeys(p.dirtyAccounts) {
		if err := p.tx.PutAccount(p.ctx, *p.c.accounts[id]); err != nil {
			return err
		}
	}
	return p.dropOrphans()
}

// relinkWorkspaces links to the CRM again the workspaces the pass changed
// and those of users whose email domain moved.
func (p *pass) relinkWorkspaces() error {
	ids := maps.Clone(p.dirtyAccounts)
	for uid := range p.domainMoved {
		ms, err := p.memberships(uid)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.Method == store.MethodGroup {
				ids[m.AccountID] = true
			}
		}
	}
	for _, id := range sortedKeys(ids) {
		a, err := p.account(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := p.linkCRM(a); err != nil {
			return err
		}
	}
	return nil
}

// noteChanges adds to the relinked sets what flush changed besides links
// and email domains (which identify notes): accounts whose traits moved.
// Users merely seen again are not changes: their last_seen is not scored.
func (p *pass) noteChanges() {
	for id := range p.dirtyAccounts {
		p.relinkedAccounts[id] = true
	}
}

// resolved is what the pass hands to the next stage.
func (p *pass) resolved(from, to store.Cursor, evs []event.Event, bodies store.Bodies) Resolved {
	return Resolved{From: from, To: to, Events: evs, Users: p.users, Aliased: p.tied, Bodies: bodies,
		Changes: Changes{Users: sortedKeys(p.relinked), Accounts: sortedKeys(p.relinkedAccounts)}}
}

// claimDomains gives a workspace the domains it declares unless the CRM or
// another workspace has them; it takes them over from inferred accounts.
func (p *pass) claimDomains(a *store.Account) error {
	if a.Kind != store.KindGroup {
		return nil
	}
	for _, d := range a.Domains {
		owner, err := p.owner(d)
		if err != nil {
			return err
		}
		if owner != nil && owner.Kind != store.KindDomain {
			continue
		}
		if err := p.setOwner(d, a.ID); err != nil {
			return err
		}
	}
	return nil
}

func (p *pass) owner(domain string) (*store.Account, error) {
	id, err := p.tx.DomainOwner(p.ctx, domain)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a, err := p.account(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return a, err
}

// setOwner hands a domain to an account and queues its users to re-resolve.
func (p *pass) setOwner(domain, accountID string) error {
	if err := p.tx.SetDomainOwner(p.ctx, domain, accountID); err != nil {
		return err
	}
	users, err := p.tx.UsersWithEmailDomain(p.ctx, domain)
	for _, u := range users {
		p.resolve[u] = true
	}
	return err
}

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }
