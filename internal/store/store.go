// Package store owns Beacon's durable state and is the only package that speaks
// SQL: the storage contract (Store), its two engines (embedded SQLite, the
// default, and PostgreSQL for production and several nodes), and their
// numbered, embedded migrations. Both engines share one implementation over
// database/sql; a dialect holds what differs between them.
package store

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/beaconplg/beacon/internal/event"
)

// Sentinel errors; callers test them with errors.Is and the API maps them to
// HTTP statuses in one place.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Store is the storage contract both engines fulfil, proven by one contract
// test suite.
type Store interface {
	Migrate(ctx context.Context) error
	Ping(ctx context.Context) error
	Close() error
	Engine() string

	CreateKey(ctx context.Context, k Key) (Key, error)
	KeyByHash(ctx context.Context, hash []byte) (Key, error)

	// AppendEvents stores events whose messageId is new and returns how many
	// were new; it returns only once they are durable.
	AppendEvents(ctx context.Context, evs []event.Event) (int, error)
	// EventsAfter returns committed events in commit order after c.
	EventsAfter(ctx context.Context, c Cursor, limit int) ([]event.Event, Cursor, error)
	UserEvents(ctx context.Context, userID string, limit int) ([]event.Event, error)

	// Project runs fn in one transaction with the identity tables; what fn
	// writes, cursor included, commits or rolls back together.
	Project(ctx context.Context, fn func(IdentityTx) error) error
	CRMAccounts(ctx context.Context) ([]Account, error)

	Stats(ctx context.Context) (Stats, error)
	Account(ctx context.Context, id string) (Account, error)
	AccountUsers(ctx context.Context, id string) ([]Membership, error)
	User(ctx context.Context, id string) (User, error)
	UserAccounts(ctx context.Context, id string) ([]Membership, error)
}

// IdentityTx is what identity resolution may read and write inside one
// transaction.
type IdentityTx interface {
	Cursor(ctx context.Context, name string) (Cursor, error)
	SetCursor(ctx context.Context, name string, c Cursor) error

	User(ctx context.Context, id string) (User, error)
	// UsersIn, AliasesIn and MembershipsIn read many at once; ids not found
	// are absent from the result.
	UsersIn(ctx context.Context, ids []string) ([]User, error)
	AliasesIn(ctx context.Context, anonymousIDs []string) (map[string]string, error)
	MembershipsIn(ctx context.Context, userIDs []string) ([]Membership, error)
	PutUser(ctx context.Context, u User) error
	PutUsers(ctx context.Context, us []User) error
	AliasOf(ctx context.Context, anonymousID string) (string, error)
	PutAlias(ctx context.Context, anonymousID, userID string) error
	PutAliases(ctx context.Context, aliases map[string]Alias) error
	UsersWithEmailDomain(ctx context.Context, domain string) ([]string, error)
	UsersWithoutGroup(ctx context.Context) ([]string, error)

	Account(ctx context.Context, id string) (Account, error)
	PutAccount(ctx context.Context, a Account) error
	DeleteAccount(ctx context.Context, id string) error
	DomainOwner(ctx context.Context, domain string) (string, error)
	SetDomainOwner(ctx context.Context, domain, accountID string) error
	AccountsOfKind(ctx context.Context, kind string) ([]Account, error)

	// IndexEvents records whom events belong to, for timelines.
	IndexEvents(ctx context.Context, refs []EventRef) error

	Memberships(ctx context.Context, userID string) ([]Membership, error)
	PutMembership(ctx context.Context, m Membership) error
	PutMemberships(ctx context.Context, ms []Membership) error
	DeleteMembership(ctx context.Context, userID, accountID string) error
	MemberCount(ctx context.Context, accountID string) (int, error)
	// MemberEmailDomains lists the email domains of an account's users.
	MemberEmailDomains(ctx context.Context, accountID string) ([]string, error)

	// Quarantine sets aside an event the pass could not apply;
	// ResolveQuarantined marks one a retry applied.
	Quarantine(ctx context.Context, q Quarantined) error
	ResolveQuarantined(ctx context.Context, id int64, at time.Time) error
}

// EventRef says that the event seq (at ts) belongs to key: "user:<userId>"
// or "anon:<anonymousId>".
type EventRef struct {
	Key string
	TS  time.Time
	Seq int64
}

// Key kinds.
const (
	WriteKey = "write"
	AdminKey = "admin"
)

// Key is a write key or an admin token; only its SHA-256 hash is stored.
type Key struct {
	ID        int64
	Kind      string
	Name      string
	Hash      []byte
	Prefix    string // first characters of the secret, to tell keys apart
	CreatedAt time.Time
	// RevokedAt is when the key stops working (zero: it does not; ahead:
	// a rotation's grace); LastUsedAt when it last let a request in, to
	// within half a minute.
	RevokedAt  time.Time
	LastUsedAt time.Time
}

// Usable reports whether the key lets requests in at now.
func (k Key) Usable(now time.Time) bool { return k.RevokedAt.IsZero() || now.Before(k.RevokedAt) }

// Cursor is a position in the committed event stream. Seq alone orders
// SQLite's single writer; PostgreSQL also needs the inserting transaction id,
// because sequence numbers are not handed out in commit order there.
type Cursor struct {
	Tx  uint64
	Seq int64
}

// Account kinds: how an account came to exist.
const (
	KindGroup      = "group"      // the product's own workspace, from a group call
	KindCRM        = "crm"        // imported from the CRM
	KindDomain     = "domain"     // inferred from a business email domain
	KindIndividual = "individual" // a user with a personal address and no company
)

// Match methods, strongest first.
const (
	MethodGroup      = "group"
	MethodDomain     = "domain"
	MethodName       = "name"
	MethodIndividual = "individual"
)

// Methods lists the match methods in order of precedence.
var Methods = []string{MethodGroup, MethodDomain, MethodName, MethodIndividual}

// ByStrength orders a user's links, strongest first: by method (group,
// domain, name, individual), then confidence, then account id, so the
// choice is stable.
func ByStrength(a, b Membership) int {
	return cmp.Or(
		cmp.Compare(slices.Index(Methods, a.Method), slices.Index(Methods, b.Method)),
		cmp.Compare(b.Confidence, a.Confidence),
		cmp.Compare(a.AccountID, b.AccountID))
}

// User is a known person: someone the product identified with a userId.
type User struct {
	ID          string
	Email       string
	EmailDomain string
	Company     string // company name from traits, for name matching
	Traits      map[string]any
	TraitsAt    time.Time
	FirstSeen   time.Time
	LastSeen    time.Time
}

// Account is a company (or an individual) that users belong to.
type Account struct {
	ID              string
	Kind            string
	Name            string
	Domains         []string
	Traits          map[string]any
	TraitsAt        time.Time
	Owner           string
	Employees       int
	Industry        string
	OpenOpportunity bool
	Named           bool // on the named-accounts list
	CRMID           string
	CRMMethod       string
	CRMConfidence   float64
	CreatedAt       time.Time
}

// Alias ties an anonymous id to a user from the time of the event that
// tied them (zero for ties stored before times were: always in force).
type Alias struct {
	UserID string
	At     time.Time
}

// Membership links a user to an account and says how the link was made.
type Membership struct {
	UserID     string
	AccountID  string
	Method     string
	Confidence float64
	CreatedAt  time.Time
}

// Stats summarises what the store holds.
type Stats struct {
	Events        int64
	Users         int64
	Accounts      map[string]int64 // by kind
	UsersByMethod map[string]int64 // by strongest membership method
	Unresolved    int64            // users with no account yet
	CRMMatched    int64            // users whose account is, or is linked to, a CRM account
}
