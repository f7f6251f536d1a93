package score

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/beaconplg/beacon/internal/signal"
)

// ActivityDays is how many days of an account's activity its scores keep:
// two weeks, for the queue's sparkline and a week against the week before.
const ActivityDays = 14

// ActivePeople is how many of an account's most active users its scores
// name.
const ActivePeople = 3

// Activity is what the queue ranks and shows an account by besides its
// score, as of its last rescore (at least daily, and whenever one of its
// users is active on a new day): how many of its users were active each of
// the last ActivityDays days, whether that is growing, and who was most
// active. It is kept with each of the account's scores, as JSON, beside
// the time one of its users last used the product (a column of its own,
// which the JSON leaves out: a score whose only change is that time is not
// written again for it, which would rewrite an account's row with most
// events of its users).
type Activity struct {
	// To is the last day of Users, YYYY-MM-DD (UTC).
	To string `json:"to"`
	// Users are the account's active users each day up to To, oldest first.
	Users []int `json:"users"`
	// Week and PriorWeek are the users active in the last 7 days and in the
	// 7 before them; Momentum is the difference.
	Week      int `json:"week"`
	PriorWeek int `json:"prior_week"`
	// People are its most active users over the ActivityDays, most active
	// first, with their active days.
	People []ActivePerson `json:"people"`
}

// ActivePerson is one of an account's most active users.
type ActivePerson struct {
	ID   string `json:"id"`
	Days int    `json:"days"`
}

// Momentum is the growth of the account's active users: this week's minus
// the week before's.
func (a Activity) Momentum() int { return a.Week - a.PriorWeek }

// ParseActivity reads an account's activity as a score keeps it; an empty
// one (users' scores, scores from before it was kept) is the zero Activity.
func ParseActivity(b []byte) (Activity, error) {
	var a Activity
	if len(b) == 0 {
		return a, nil
	}
	err := json.Unmarshal(b, &a)
	return a, err
}

// On returns the active users a day for the n days up to day to, oldest
// first: a score kept before to counts no one on the days after it, since
// any user active on a new day rescores the account.
func (a Activity) On(to time.Time, n int) []int {
	out := make([]int, n)
	last, err := time.Parse(time.DateOnly, a.To)
	if err != nil {
		return out
	}
	shift := int(to.UTC().Truncate(24*time.Hour).Sub(last).Hours() / 24)
	for i := range n {
		j := len(a.Users) - n + i + shift // the index in Users of out[i]
		if j >= 0 && j < len(a.Users) {
			out[i] = a.Users[j]
		}
	}
	return out
}

// activityOf measures an account's activity on day today from its members'
// rollups, and returns it encoded as scores keep it.
func activityOf(members []string, actors []*signal.Actor, today int32) (momentum float64, active int, last time.Time, enc []byte) {
	var users [ActivityDays]int
	var top [ActivePeople]ActivePerson // the most active, most first
	week, prior := 0, 0
	for i, a := range actors {
		days, inWeek, inPrior := 0, false, false
		for d := range ActivityDays {
			if !a.ActiveOn(today - int32(ActivityDays-1-d)) {
				continue
			}
			users[d]++
			days++
			if d >= ActivityDays-7 {
				inWeek = true
			} else {
				inPrior = true
			}
		}
		if inWeek {
			week++
		}
		if inPrior {
			prior++
		}
		if t := a.LastTime(); t.After(last) {
			last = t
		}
		// Members come sorted: among equals, the first stays first.
		for j := range top {
			if days > top[j].Days {
				copy(top[j+1:], top[j:])
				top[j] = ActivePerson{ID: members[i], Days: days}
				break
			}
		}
	}
	n := 0
	for n < len(top) && top[n].Days > 0 {
		n++
	}
	enc = appendActivity(make([]byte, 0, 128+40*n), signal.DayTime(today), users[:], week, prior, top[:n])
	return float64(week - prior), week, last, enc
}

// appendActivity writes an Activity's JSON as encoding/json would, without
// reflection: a pass encodes one for every account it scores.
func appendActivity(b []byte, to time.Time, users []int, week, prior int, people []ActivePerson) []byte {
	b = append(b, `{"to":"`...)
	b = to.AppendFormat(b, time.DateOnly)
	b = append(b, `","users":[`...)
	for i, n := range users {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	b = append(b, `],"week":`...)
	b = strconv.AppendInt(b, int64(week), 10)
	b = append(b, `,"prior_week":`...)
	b = strconv.AppendInt(b, int64(prior), 10)
	b = append(b, `,"people":[`...)
	for i, p := range people {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, p.ID)
		b = append(b, `,"days":`...)
		b = strconv.AppendInt(b, int64(p.Days), 10)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
