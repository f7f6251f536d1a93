package growth

import (
	"encoding/json"
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/beaconplg/beacon/internal/event"
)

// Book holds, for every user, what the metrics read: when they first
// visited, signed up, were activated and onboarded, their channel, the
// days they were active, the days they used each core feature, and the
// invitations they sent; and how many visitors were first seen each day
// who have not signed up. The signal stage hands it every event it takes
// (Took), in its own goroutine; reports read it under a lock.
type Book struct {
	cfg Config
	mu  sync.RWMutex
	// users by id; an event of a user not seen before makes one.
	users map[string]*person
	// visitors are the anonymous ids seen and not tied to a user, with
	// their first event's time, for VisitorDays after it; visitorDays
	// counts them by the day they were first seen, and keeps the count
	// after they are forgotten.
	visitors    map[uint64]int64 // by a hash of the anonymous id: a key of 8 bytes, not a string
	seed        maphash.Seed
	visitorDays map[int32]int
	swept       int32
	peak        int // the most visitors the map has held since it was made
	channels    []string
	core        map[string]int // core feature → its bit
}

// VisitorDays is how long a visitor who has not signed up is remembered:
// one who signs up later than that is counted twice, as a visitor and as
// a person who visited, which the signal stage's own forgetting matches.
const VisitorDays = 30

// person is one user's facts. Times are Unix milliseconds, 0 for never.
type person struct {
	first, visit, signup, activated, onboarded int64
	group                                      string  // the latest groupId of their events
	channel                                    int16   // into Book.channels; -1 unknown
	invited                                    bool    // signed up by invitation
	invites                                    []int32 // days they sent an invitation
	active                                     days
	core                                       []days // by core feature
}

// NewBook returns an empty book for cfg's events.
func NewBook(cfg Config) *Book {
	b := &Book{cfg: cfg, core: map[string]int{}}
	for i, f := range cfg.CoreFeatures {
		b.core[f] = i
	}
	b.Reset()
	return b
}

// Names are the events whose properties the book reads.
func (b *Book) Names() []string { return []string{b.cfg.SignUpEvent} }

// Reset empties the book: the stage is about to replay the stream.
func (b *Book) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.users, b.visitors, b.visitorDays, b.swept, b.channels, b.peak = map[string]*person{}, map[uint64]int64{}, map[int32]int{}, 0, nil, 0
	b.seed = maphash.MakeSeed()
}

// Took takes the events a batch added to the rollups: users[i] is event
// i's user ("" for a visitor), passed the indexes of those passed over,
// merges the anonymous ids tied to a user as it was resolved. What it
// keeps of an event's strings it copies: they point into the buffers a
// replay reads the log into, which a kept substring would keep whole.
func (b *Book) Took(evs []event.Event, users []string, passed []int, merges map[string]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	latest := int64(0)
	for i := range evs {
		if len(passed) > 0 && slices.Contains(passed, i) {
			continue
		}
		e := &evs[i]
		ms := e.Timestamp.UnixMilli()
		latest = max(latest, ms)
		switch uid := users[i]; {
		case uid != "":
			b.user(uid, e, ms)
		case e.AnonymousID != "" && isUsage(e.Type):
			k := b.visitor(e.AnonymousID)
			if v, ok := b.visitors[k]; !ok || ms < v {
				if ok {
					b.visitorDays[day(v)]--
				}
				b.visitors[k] = ms
				b.visitorDays[day(ms)]++
			}
		}
	}
	for anon, uid := range merges {
		if v, ok := b.visitors[b.visitor(anon)]; ok {
			b.visitorDays[day(v)]--
			delete(b.visitors, b.visitor(anon))
			p := b.person(uid)
			p.visit = earliest(p.visit, v)
			p.first = earliest(p.first, v)
		}
	}
	b.sweep(day(latest))
}

// user takes one event of a user's.
func (b *Book) user(uid string, e *event.Event, ms int64) {
	p := b.person(uid)
	if e.GroupID != "" && e.GroupID != p.group {
		p.group = strings.Clone(e.GroupID)
	}
	if !isUsage(e.Type) {
		return
	}
	p.first = earliest(p.first, ms)
	if e.UserID == "" && (p.signup == 0 || ms < p.signup) {
		// Before they signed up, they were visiting: a visit, not yet
		// use, whether the alias was known (a replay) or not (live, where
		// the visitor is merged).
		p.visit = earliest(p.visit, ms)
		return
	}
	d := day(ms)
	p.active.add(d)
	if e.Type != event.Track {
		return
	}
	switch e.Name {
	case b.cfg.SignUpEvent:
		if p.signup == 0 || ms < p.signup {
			p.signup = ms
			b.signedUp(p, e.Properties)
		}
	case b.cfg.InviteEvent:
		p.invites = append(p.invites, d)
	}
	if e.Name == b.cfg.ActivationEvent && e.Name != "" {
		p.activated = earliest(p.activated, ms)
	}
	if e.Name == b.cfg.OnboardingEvent && e.Name != "" {
		p.onboarded = earliest(p.onboarded, ms)
	}
	if f, ok := b.core[e.Name]; ok {
		if p.core == nil {
			p.core = make([]days, len(b.cfg.CoreFeatures))
		}
		p.core[f].add(d)
	}
}

// signedUp reads the sign-up's channel and whether it came by invitation.
func (b *Book) signedUp(p *person, props json.RawMessage) {
	var sp struct {
		Channel   string `json:"channel"`
		UTMMedium string `json:"utm_medium"`
		UTMSource string `json:"utm_source"`
		Referrer  string `json:"referrer"`
		Invited   bool   `json:"invited"`
	}
	if json.Unmarshal(props, &sp) != nil {
		return
	}
	p.invited = sp.Invited
	ch := strings.ToLower(strings.TrimSpace(firstOf(sp.Channel, sp.UTMMedium, sp.UTMSource)))
	if ch == "" && sp.Referrer != "" {
		ch = "referral"
	}
	if ch == "" {
		return
	}
	i := slices.Index(b.channels, ch)
	if i < 0 && len(b.channels) < math.MaxInt16 {
		b.channels, i = append(b.channels, strings.Clone(ch)), len(b.channels)
	}
	p.channel = int16(i)
}

func (b *Book) person(uid string) *person {
	p := b.users[uid]
	if p == nil {
		p = &person{channel: -1}
		b.users[strings.Clone(uid)] = p
	}
	return p
}

// sweep forgets, once a day, the visitors first seen more than
// VisitorDays before today; their day's count stays. A Go map keeps its
// room when entries go, so once most have gone it is built anew: a replay
// of months would otherwise hold room for every visitor it ever met.
func (b *Book) sweep(today int32) {
	if today <= b.swept {
		return
	}
	b.swept = today
	gone := 0
	for anon, ms := range b.visitors {
		if day(ms) < today-VisitorDays {
			delete(b.visitors, anon)
			gone++
		}
	}
	if b.peak = max(b.peak, len(b.visitors)+gone); b.peak > 2*len(b.visitors)+1024 {
		fresh := make(map[uint64]int64, len(b.visitors))
		for anon, ms := range b.visitors {
			fresh[anon] = ms
		}
		b.visitors, b.peak = fresh, len(fresh)
	}
}

// visitor is the key of an anonymous id: a 64-bit hash, whose collisions
// among the visitors of 30 days are too rare to count.
func (b *Book) visitor(anon string) uint64 { return maphash.String(b.seed, anon) }

// isUsage: track, page and screen calls are a person's use of the
// product; identify, group and alias are not.
func isUsage(typ string) bool { return typ == event.Track || typ == event.Page || typ == event.Screen }

// day is the day of a Unix millisecond time.
func day(ms int64) int32 { return int32(math.Floor(float64(ms) / 86_400_000)) }

func earliest(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
