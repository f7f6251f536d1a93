package sim

import (
	"fmt"
	"strings"
)

// User is one person of an account.
type User struct {
	ID          string
	AnonymousID string
	Account     int
	Email       string
	Name        string
	Title       string // "" for a user whose product never asked
	Personal    bool   // signed up with a free-mail address
	Admin       bool   // the account's first user
	JoinDay     int
}

var (
	firstNames = []string{"ana", "ben", "chloe", "dev", "emma", "farid", "grace", "hugo", "ines", "jamal", "kai", "lena", "mateo", "nora", "omar", "priya", "quinn", "rosa", "sam", "tara"}
	lastNames  = []string{"adams", "baker", "costa", "diaz", "evans", "fischer", "garcia", "haddad", "ito", "jensen", "kim", "lopez", "meyer", "nguyen", "okoro", "patel", "rossi", "smith", "tanaka", "weber"}
	titles     = []string{"Founder", "CTO", "Head of Engineering", "Engineering Manager", "Software Engineer",
		"Product Manager", "Head of Operations", "Data Analyst", "Designer", "VP Sales", "Marketing Lead", "Customer Success Manager"}
	freeMail     = []string{"gmail.com", "gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com", "protonmail.com"}
	maxUsersSeen = 1 << 16
)

// NewUser draws user j of account a.
func (p Params) NewUser(a Account, j int) User {
	r := p.rng(streamUsers, uint64(a.Index)*uint64(maxUsersSeen)+uint64(j))
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	r.Uint32() // the anonymous id's old draw, kept so that later draws stay as they were
	entity := uint64(a.Index)*uint64(maxUsersSeen) + uint64(j)
	u := User{ID: fmt.Sprintf("usr-%05d-%02d", a.Index+1, j+1), AnonymousID: p.anonID(entity),
		Account: a.Index, Admin: j == 0, JoinDay: a.SignupDay}
	if j > 0 {
		u.JoinDay = min(p.Days-1, a.SignupDay+r.IntN(max(1, p.Days/3)))
	}
	if r.Float64() < p.PersonalEmailShare {
		u.Personal = true
		u.Email = fmt.Sprintf("%s.%s%d@%s", first, last, r.IntN(100), freeMail[r.IntN(len(freeMail))])
	} else {
		u.Email = first + "." + last + "@" + a.Domains[r.IntN(len(a.Domains))]
	}
	u.Email = strings.ToLower(u.Email)
	u.Name = capital(first) + " " + capital(last)
	// Drawn after everything else, so that the draws before stay as they were.
	if t := r.IntN(len(titles) * 5 / 3); t < len(titles) {
		u.Title = titles[t]
	}
	return u
}

func capital(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// Never is the JoinDay of a teammate who never joins.
const Never = -1

// teamJoinLean is, for an account that never activates, the chance that a
// teammate joins anyway, times the account's intent lean.
const teamJoinLean = 0.3

// joinTeams decides when teammates really join. Collaboration follows value:
// in an activated account they join after its activation milestone; in one
// that never activates few do, and those lean on intent. So team signals
// (invites, several users active) carry intent, as they do in products where
// working together is the value, rather than company size alone.
func (p Params) joinTeams(a Account, l Lifecycle, users []User) {
	r := p.rng(streamTeams, uint64(a.Index))
	lean := a.Intent / meanIntent
	for j := 1; j < len(users); j++ {
		u := &users[j]
		switch {
		case l.Activated:
			u.JoinDay = max(u.JoinDay, l.ActivatedDay+r.IntN(7))
			if u.JoinDay >= p.Days {
				u.JoinDay = Never
			}
		case r.Float64() >= teamJoinLean*lean:
			u.JoinDay = Never
		}
	}
}

// joined reports whether u has joined by day d.
func (u User) joined(d int) bool { return u.JoinDay != Never && u.JoinDay <= d }
