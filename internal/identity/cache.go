package identity

import (
	"github.com/beaconplg/beacon/internal/store"
)

// cache keeps what the projection read and wrote across passes, so that an
// event from a known user in a known workspace costs no reads, only the
// user's last-seen write. It is trusted only while nothing else has written
// the identity tables: the pass checks that the cursor is where this process
// left it and that the epoch (bumped by every other identity writer, such as a
// CRM import) has not moved.
type cache struct {
	valid  bool
	cursor store.Cursor
	epoch  int64

	users    map[string]*store.User
	aliases  map[string]string // anonymous id → user id ("" = none)
	accounts map[string]*store.Account
	members  map[string][]store.Membership // by user id
}

// maxCachedUsers bounds the cache; past it the cache starts over.
const maxCachedUsers = 2_000_000

func newCache() *cache {
	c := &cache{}
	c.reset(0)
	return c
}

func (c *cache) reset(epoch int64) {
	*c = cache{epoch: epoch, users: map[string]*store.User{}, aliases: map[string]string{},
		accounts: map[string]*store.Account{}, members: map[string][]store.Membership{}}
}

// usable reports whether the cache still describes the store as it is.
func (c *cache) usable(cursor store.Cursor, epoch int64) bool {
	return c.valid && c.cursor == cursor && c.epoch == epoch && len(c.users) < maxCachedUsers
}

// committed records where the store is after a pass this process committed.
func (c *cache) committed(cursor store.Cursor) {
	c.valid, c.cursor = true, cursor
}

func (c *cache) setMember(m store.Membership) {
	ms := c.members[m.UserID]
	for i := range ms {
		if ms[i].AccountID == m.AccountID {
			ms[i] = m
			return
		}
	}
	c.members[m.UserID] = append(ms, m)
}

func (c *cache) dropMember(userID, accountID string) {
	ms := c.members[userID]
	for i := range ms {
		if ms[i].AccountID == accountID {
			c.members[userID] = append(ms[:i:i], ms[i+1:]...)
			return
		}
	}
}
