package queue

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// Store is what the queue reads.
type Store interface {
	ListScores(ctx context.Context, q store.ScoreQuery) ([]store.Score, int, error)
	ScoredAccounts(ctx context.Context, ss []store.Score) ([]string, map[string]store.Account, error)
	LatestAlerts(ctx context.Context, subjects []string) (map[string]store.Alert, error)
	ScoresAt(ctx context.Context, scorecard string, subjects []string, at time.Time) (map[string]float64, error)
	MembershipsOfAccounts(ctx context.Context, accountIDs []string) ([]store.Membership, error)
	People
}

// People is what naming an account's people reads.
type People interface {
	UsersIn(ctx context.Context, ids []string) ([]store.User, error)
	ScoresIn(ctx context.Context, scorecard string, subjects []string) ([]store.Score, error)
}

// Reader reads queues.
type Reader struct {
	db    Store
	clock func() time.Time
}

// New returns a Reader over db; clock says when now is.
func New(db Store, clock func() time.Time) *Reader {
	if clock == nil {
		clock = time.Now
	}
	return &Reader{db: db, clock: clock}
}

// Page is one page of a queue.
type Page struct {
	Query Query
	Total int
	Now   time.Time
	Rows  []Row
}

// ChangeDays is the span of a row's score change.
const ChangeDays = 7

// Row is one account in a queue: enough for a rep to know whom to call and
// why, without opening it.
type Row struct {
	ID, Name, Owner string
	Score           float64
	Tier, TierLabel string
	TierSince       time.Time
	UpdatedAt       time.Time      // when it was last rescored
	Reasons         []score.Reason // the top three
	// Change is the score's change over ChangeDays; nil when it was not
	// scored then.
	Change *float64
	// Propensity is a model's probability (a model: section), as of the
	// scoring; nil without one.
	Propensity *float64
	// Activity: users active each of the last score.ActivityDays days up to
	// today, oldest first; this week's and the week before's; the last
	// activity Beacon scored.
	Activity        []int
	Week, PriorWeek int
	LastActive      time.Time
	// Segment and Zone are the routing of its latest alert.
	Segment, Zone string
	Alert         *store.Alert // its latest alert, when that needs a person
	Champion      *Person      // the user who scores highest on the user scorecard
	People        []Person     // its most active users
}

// Momentum is the growth of the account's active users, this week on the
// week before.
func (r Row) Momentum() int { return r.Week - r.PriorWeek }

// Page reads one page of a queue.
func (rd *Reader) Page(ctx context.Context, rules *score.Rules, q Query) (Page, error) {
	p := Page{Query: q, Now: rd.clock()}
	ss, total, err := rd.db.ListScores(ctx, rd.storeQuery(q, p.Now))
	if err != nil {
		return p, err
	}
	p.Total = total
	p.Rows, err = rd.rows(ctx, rules, q.Card, ss, p.Now)
	return p, err
}

// Each calls fn with every row of a queue in order, reading a page of
// MaxLimit at a time from q.Offset, up to most rows.
func (rd *Reader) Each(ctx context.Context, rules *score.Rules, q Query, most int, fn func(Row) error) error {
	now := rd.clock()
	for seen := 0; seen < most; {
		q.Limit = min(MaxLimit, most-seen)
		ss, _, err := rd.db.ListScores(ctx, rd.storeQuery(q, now))
		if err != nil || len(ss) == 0 {
			return err
		}
		rows, err := rd.rows(ctx, rules, q.Card, ss, now)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		seen += len(rows)
		q.Offset += len(rows)
	}
	return nil
}

func (rd *Reader) storeQuery(q Query, now time.Time) store.ScoreQuery {
	sq := store.ScoreQuery{Scorecard: q.Card.Name, Kind: score.OfAccount, Tier: q.Tier, Search: q.Search,
		Owner: q.Owner, Segment: q.Segment, Held: q.Held, Now: now, Sort: q.Sort, Limit: q.Limit, Offset: q.Offset}
	if q.Mine {
		sq.Mine = q.Viewer
	}
	return sq
}

func (rd *Reader) rows(ctx context.Context, rules *score.Rules, card *score.Card, ss []store.Score, now time.Time) ([]Row, error) {
	ids, byID, err := rd.db.ScoredAccounts(ctx, ss)
	if err != nil {
		return nil, err
	}
	subjects := make([]string, len(ss))
	for i, s := range ss {
		subjects[i] = s.Subject
	}
	latest, err := rd.db.LatestAlerts(ctx, subjects)
	if err != nil {
		return nil, err
	}
	before, err := rd.db.ScoresAt(ctx, card.Name, subjects, now.AddDate(0, 0, -ChangeDays))
	if err != nil {
		return nil, err
	}
	rows := make([]Row, len(ss))
	acts := make([]score.Activity, len(ss))
	for i, s := range ss {
		a := byID[ids[i]]
		rows[i] = Row{ID: ids[i], Name: cmp.Or(a.Name, ids[i]), Owner: a.Owner, Score: s.Score, Tier: s.Tier,
			TierSince: s.TierSince, UpdatedAt: s.UpdatedAt, LastActive: s.LastActive}
		if t, ok := card.Tier(s.Tier); ok {
			rows[i].TierLabel = cmp.Or(t.Label, t.Name)
		}
		var reasons []score.Reason
		_ = json.Unmarshal(s.Reasons, &reasons) // written by Beacon as JSON
		rows[i].Reasons = score.TopReasons(reasons, 3)
		var kept struct {
			Propensity *float64 `json:"propensity"` // score.Propensity
		}
		if json.Unmarshal(s.Signals, &kept) == nil {
			rows[i].Propensity = kept.Propensity
		}
		if then, ok := before[s.Subject]; ok {
			change := s.Score - then
			rows[i].Change = &change
		}
		acts[i], _ = score.ParseActivity(s.Activity) // written by Beacon; an old row has none
		rows[i].Activity = acts[i].On(now, score.ActivityDays)
		rows[i].Week, rows[i].PriorWeek = acts[i].Week, acts[i].PriorWeek
		if al, ok := latest[s.Subject]; ok {
			rows[i].Segment, rows[i].Zone = al.Segment, al.Zone
			if al.NeedsAck {
				rows[i].Alert = &al
			}
		}
	}
	return rows, rd.namePeople(ctx, rules, rows, acts)
}

// Person is someone at an account a rep may call.
type Person struct {
	ID, Name, Title, Email string
	LastSeen               time.Time
	// ActiveDays are their active days of the account's last
	// score.ActivityDays.
	ActiveDays int
	// Score and Tier are on the user scorecard (the champion score), if any.
	Score     float64
	Tier      string
	TierLabel string
}

// Label is how a page names the person: their name, else their email, else
// their id.
func (p Person) Label() string { return cmp.Or(p.Name, p.Email, p.ID) }

// namePeople gives each row its champion and most active users, reading
// every row's members, users and user scores at once.
func (rd *Reader) namePeople(ctx context.Context, rules *score.Rules, rows []Row, acts []score.Activity) error {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	links, err := rd.db.MembershipsOfAccounts(ctx, ids)
	if err != nil {
		return err
	}
	champions, users, err := Champions(ctx, rd.db, rules, links)
	if err != nil {
		return err
	}
	var want []string
	for _, a := range acts {
		for _, p := range a.People {
			if _, ok := users[p.ID]; !ok {
				want = append(want, p.ID)
			}
		}
	}
	more, err := rd.db.UsersIn(ctx, want)
	if err != nil {
		return err
	}
	for _, u := range more {
		users[u.ID] = personOf(u)
	}
	for i := range rows {
		if c, ok := champions[rows[i].ID]; ok {
			rows[i].Champion = &c
		}
		for _, ap := range acts[i].People {
			p, ok := users[ap.ID]
			if !ok {
				continue // gone since it was scored
			}
			p.ActiveDays = ap.Days
			if c := rows[i].Champion; c != nil && c.ID == p.ID {
				c.ActiveDays = ap.Days
			}
			rows[i].People = append(rows[i].People, p)
		}
	}
	return nil
}

// Champions returns, for each account in links (its memberships), its
// champion: the member who scores highest on the rules' user scorecard (a
// tier first, then points); and every member read, as people. Accounts
// whose members have no such score have none, and rules without a user
// scorecard name no champion: their people are still named.
func Champions(ctx context.Context, db People, rules *score.Rules, links []store.Membership) (map[string]Person, map[string]Person, error) {
	card := UserCard(rules)
	out, people := map[string]Person{}, map[string]Person{}
	if len(links) == 0 {
		return out, people, nil
	}
	var ids, subjects []string
	for _, m := range links {
		ids = append(ids, m.UserID)
		subjects = append(subjects, score.Subject(score.OfUser, m.UserID))
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	slices.Sort(subjects)
	subjects = slices.Compact(subjects)
	users, err := db.UsersIn(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	for _, u := range users {
		people[u.ID] = personOf(u)
	}
	if card == nil {
		return out, people, nil
	}
	ss, err := db.ScoresIn(ctx, card.Name, subjects)
	if err != nil {
		return nil, nil, err
	}
	for _, s := range ss {
		_, id := store.SubjectID(s.Subject)
		p, ok := people[id]
		if !ok {
			continue
		}
		p.Score, p.Tier = s.Score, s.Tier
		if t, ok := card.Tier(s.Tier); ok {
			p.TierLabel = cmp.Or(t.Label, t.Name)
		}
		people[id] = p
	}
	for _, m := range links {
		p := people[m.UserID]
		if p.Score == 0 && p.Tier == "" {
			continue
		}
		if cur, ok := out[m.AccountID]; !ok || stronger(card, p, cur) {
			out[m.AccountID] = p
		}
	}
	return out, people, nil
}

// stronger orders champions: a higher tier, then more points, then the
// latest seen, then the id.
func stronger(card *score.Card, a, b Person) bool {
	rank := func(t string) int {
		return slices.IndexFunc(card.Tiers, func(x score.TierSpec) bool { return x.Name == t })
	}
	if c := cmp.Compare(rank(a.Tier), rank(b.Tier)); c != 0 {
		return c > 0
	}
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	if !a.LastSeen.Equal(b.LastSeen) {
		return a.LastSeen.After(b.LastSeen)
	}
	return a.ID < b.ID
}

// UserCard is the rules' user scorecard (the champion score), or nil.
func UserCard(rules *score.Rules) *score.Card {
	for _, c := range rules.Cards {
		if c.Of == score.OfUser {
			return c
		}
	}
	return nil
}

func personOf(u store.User) Person {
	return Person{ID: u.ID, Name: identity.PersonName(u.Traits), Title: identity.PersonTitle(u.Traits),
		Email: u.Email, LastSeen: u.LastSeen}
}

// Band is the response-time band of an alert (seed 004) as of now, and how
// long it has waited or took.
func Band(al store.Alert, now time.Time) (band string, took time.Duration) {
	took = now.Sub(al.CreatedAt)
	if !al.AckedAt.IsZero() {
		took = al.AckedAt.Sub(al.CreatedAt)
	}
	return route.Band(took), took
}

// ZoneLabel spells a zone for people.
func ZoneLabel(z string) string { return strings.ReplaceAll(z, "_", "-") }
