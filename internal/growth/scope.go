package growth

import (
	"time"

	"github.com/beaconplg/beacon/internal/revenue"
)

// scope is a period of the world, and the accounts (with their users)
// it counts: every one, or a segment's, a cohort's, a channel's.
type scope struct {
	w        *world
	from, to int64 // Unix ms, to excluded
	fd, td   int32 // their days
	all      bool  // unfiltered: visitors, people in no account, every customer
	accounts []*acct
	people   []*person
	// customers counted by revenue; nil when all are.
	customers map[string]bool
}

// newScope is the period [from, to) of w, over accounts that keep says
// (nil: all).
func (w *world) scope(from, to time.Time, keep func(*acct) bool) *scope {
	s := &scope{w: w, from: from.UnixMilli(), to: to.UnixMilli(), all: keep == nil}
	s.fd, s.td = day(s.from), day(s.to-1)+1
	if s.all {
		s.accounts, s.people = w.accounts, w.people
		return s
	}
	s.customers = map[string]bool{}
	for _, a := range w.accounts {
		if keep(a) {
			s.accounts = append(s.accounts, a)
			s.people = append(s.people, a.users...)
			for _, c := range a.customers {
				s.customers[c] = true
			}
		}
	}
	return s
}

func (s *scope) in(ms int64) bool      { return ms != 0 && ms >= s.from && ms < s.to }
func (s *scope) by(ms int64) bool      { return ms != 0 && ms < s.to }
func (s *scope) days() float64         { return float64(s.td - s.fd) }
func (s *scope) counts(c string) bool  { return s.customers == nil || s.customers[c] }
func pct(n, of int) (float64, bool)    { return float64(n) / float64(max(of, 1)) * 100, of > 0 }
func secs(ms int64) float64            { return float64(ms) / 1000 }
func (s *scope) active(p *person) bool { return p.active.any(s.fd, s.td) }

// signups are the accounts whose first user signed up in the period.
func (s *scope) signups() []*acct {
	var out []*acct
	for _, a := range s.accounts {
		if s.in(a.signup) {
			out = append(out, a)
		}
	}
	return out
}

// share is the percentage of the period's sign-ups that ok says.
func (s *scope) share(ok func(*acct) bool) (float64, bool) {
	c := s.signups()
	n := 0
	for _, a := range c {
		if ok(a) {
			n++
		}
	}
	return pct(n, len(c))
}

func (s *scope) monthlySignups() (float64, bool) {
	return float64(len(s.signups())) * 30 / s.days(), true
}

func (s *scope) organicSplit() (float64, bool) {
	org, paid := 0, 0
	for _, a := range s.signups() {
		switch a.channel {
		case "organic":
			org++
		case "paid", "cpc", "ppc":
			paid++
		}
	}
	return pct(org, org+paid)
}

// visits counts people: visitors first seen in the period who never
// signed up, and people whose first visit was in it; and of those, the
// ones signed up by its end. Visitors belong to no account: a scope of
// some accounts has none.
func (s *scope) visits() (visitors, signed int) {
	if !s.all {
		return 0, 0
	}
	for d := s.fd; d < s.td; d++ {
		visitors += s.w.visitors[d]
	}
	for _, p := range s.people {
		if s.in(p.visit) {
			visitors++
			if s.by(p.signup) {
				signed++
			}
		}
	}
	return visitors, signed
}

func (s *scope) signupConversion() (float64, bool) {
	visitors, signed := s.visits()
	return pct(signed, visitors)
}

func (s *scope) timeToSignup() (float64, bool) {
	var xs []float64
	for _, p := range s.people {
		if s.in(p.visit) && p.signup > p.visit && s.by(p.signup) {
			xs = append(xs, secs(p.signup-p.visit))
		}
	}
	return median(xs)
}

func (s *scope) day1Activation() (float64, bool) {
	return s.share(func(a *acct) bool { return a.activated != 0 && a.activated-a.signup <= 86_400_000 && s.by(a.activated) })
}

func (s *scope) activationRate() (float64, bool) {
	return s.share(func(a *acct) bool { return s.by(a.activated) })
}

func (s *scope) timeToAha() (float64, bool) {
	var xs []float64
	for _, a := range s.signups() {
		if s.by(a.activated) {
			xs = append(xs, secs(max(0, a.activated-a.signup)))
		}
	}
	return median(xs)
}

func (s *scope) coreAdoption() (float64, bool) {
	if len(s.w.cfg.CoreFeatures) == 0 {
		return 0, false
	}
	active, used := 0, 0
	for _, p := range s.people {
		if !s.active(p) {
			continue
		}
		active++
		for i := range p.core {
			if p.core[i].any(s.fd, s.td) {
				used++
				break
			}
		}
	}
	return pct(used, active)
}

func (s *scope) onboarding() (float64, bool) {
	if s.w.cfg.OnboardingEvent == "" {
		return 0, false
	}
	return s.share(func(a *acct) bool { return s.by(a.onboarded) })
}

func (s *scope) wau() (float64, bool) {
	n := 0
	for _, p := range s.people {
		if p.active.any(s.td-7, s.td) {
			n++
		}
	}
	return float64(n), true
}

// dauMAU walks each user's days once, from 29 days before the period.
func (s *scope) dauMAU() (float64, bool) {
	n := int(s.td - s.fd)
	dau, mau := make([]int, n), make([]int, n)
	for _, p := range s.people {
		if !p.active.any(s.fd-29, s.td) {
			continue
		}
		last := int32(-1 << 30)
		for d := s.fd - 29; d < s.td; d++ {
			if p.active.has(d) {
				last = d
			}
			if d >= s.fd && last >= d-29 {
				mau[d-s.fd]++
				if last == d {
					dau[d-s.fd]++
				}
			}
		}
	}
	sum, days := 0.0, 0
	for i := range n {
		if mau[i] > 0 {
			sum += float64(dau[i]) / float64(mau[i])
			days++
		}
	}
	return sum / float64(max(days, 1)) * 100, days > 0
}

func (s *scope) sessionFrequency() (float64, bool) {
	users, used := 0, 0
	for _, p := range s.people {
		if n := p.active.count(s.fd, s.td); n > 0 {
			users++
			used += n
		}
	}
	return float64(used) / float64(max(users, 1)) / (s.days() / 7), users > 0
}

func (s *scope) featureBreadth() (float64, bool) {
	if len(s.w.cfg.CoreFeatures) == 0 {
		return 0, false
	}
	from := max(s.fd, s.td-28)
	users, used := 0, 0
	for _, p := range s.people {
		if !p.active.any(from, s.td) {
			continue
		}
		users++
		for i := range p.core {
			if p.core[i].any(from, s.td) {
				used++
			}
		}
	}
	return float64(used) / float64(max(users, 1)), users > 0
}

func (s *scope) freeToPaid() (float64, bool) {
	return s.share(func(a *acct) bool { return s.by(a.paid) })
}

func (s *scope) timeToConversion() (float64, bool) {
	var xs []float64
	for _, a := range s.accounts {
		if s.in(a.paid) && a.signup != 0 {
			xs = append(xs, secs(max(0, a.paid-a.signup)))
		}
	}
	return median(xs)
}

func (s *scope) acv() (float64, bool) {
	var sum int64
	n := 0
	for _, m := range s.w.ledger.Movements {
		if m.Kind == revenue.New && s.in(m.At.UnixMilli()) && s.counts(m.Customer) {
			sum += m.After * 12
			n++
		}
	}
	return float64(sum) / float64(max(n, 1)), n > 0
}

// pqls are the accounts that became PQLs in the period, not paying then.
func (s *scope) pqls() []*acct {
	var out []*acct
	for _, a := range s.accounts {
		if s.in(a.pql) && (a.paid == 0 || a.paid > a.pql) {
			out = append(out, a)
		}
	}
	return out
}

func (s *scope) pqlToCustomer() (float64, bool) {
	ps, n := s.pqls(), 0
	for _, a := range ps {
		if s.by(a.paid) {
			n++
		}
	}
	return pct(n, len(ps))
}

func (s *scope) pqlPrecision() (float64, bool) {
	ps, n := s.pqls(), 0
	for _, a := range ps {
		if s.by(a.paid) || a.advanced {
			n++
		}
	}
	return pct(n, len(ps))
}

// mrrAt is what the counted customers paid a month at ms.
func (s *scope) mrrAt(ms int64) (total int64, paying map[string]int64) {
	paying = map[string]int64{}
	for _, m := range s.w.ledger.Movements {
		if m.At.UnixMilli() < ms && s.counts(m.Customer) {
			paying[m.Customer] = m.After
		}
	}
	for c, v := range paying {
		if v == 0 {
			delete(paying, c)
		}
		total += v
	}
	return total, paying
}

func (s *scope) mrr() (float64, bool) {
	t, _ := s.mrrAt(s.to)
	return float64(t), true
}

func (s *scope) arr() (float64, bool) {
	t, _ := s.mrrAt(s.to)
	return float64(t * 12), true
}

// moved sums the movements of a kind in the period, as positive amounts.
func moved(kind revenue.Kind) func(*scope) (float64, bool) {
	return func(s *scope) (float64, bool) {
		var sum int64
		for _, m := range s.w.ledger.Movements {
			if m.Kind == kind && s.in(m.At.UnixMilli()) && s.counts(m.Customer) {
				sum += abs(m.After - m.Before)
			}
		}
		return float64(sum), true
	}
}

func (s *scope) retention() revenue.Period {
	// The ledger counts movements up to and at an instant; the period's
	// last millisecond is its end.
	return s.w.ledger.Period(time.UnixMilli(s.from-1), time.UnixMilli(s.to-1), s.counts)
}

func (s *scope) nrr() (float64, bool) { return s.retention().NRR() }
func (s *scope) grr() (float64, bool) { return s.retention().GRR() }

func (s *scope) logoChurn() (float64, bool) {
	_, start := s.mrrAt(s.from)
	_, end := s.mrrAt(s.to)
	gone := 0
	for c := range start {
		if end[c] == 0 {
			gone++
		}
	}
	return pct(gone, len(start))
}

func (s *scope) invitesSent() (float64, bool) {
	n := 0
	for _, p := range s.people {
		for _, d := range p.invites {
			if d >= s.fd && d < s.td {
				n++
			}
		}
	}
	return float64(n), true
}

// signedUp counts the users who signed up in the period, by invitation or
// not, and the invited ones activated by its end.
func (s *scope) signedUp() (invited, other, activated int) {
	for _, p := range s.people {
		switch {
		case !s.in(p.signup):
		case p.invited:
			invited++
			if s.by(p.activated) {
				activated++
			}
		default:
			other++
		}
	}
	return invited, other, activated
}

func (s *scope) inviteeSignups() (float64, bool) { i, _, _ := s.signedUp(); return float64(i), true }
func (s *scope) inviteesActivated() (float64, bool) {
	_, _, a := s.signedUp()
	return float64(a), true
}

func (s *scope) viralK() (float64, bool) {
	i, o, _ := s.signedUp()
	return float64(i) / float64(max(o, 1)), o > 0
}

func (s *scope) referralSignups() (float64, bool) {
	n := 0
	for _, a := range s.signups() {
		if a.channel == "referral" {
			n++
		}
	}
	return float64(n), true
}

func (s *scope) checkout() (float64, bool) {
	if !s.all {
		return 0, false
	}
	made, done := 0, 0
	for _, c := range s.w.ledger.Checkouts {
		if s.in(c.At.UnixMilli()) {
			made++
			if c.Completed {
				done++
			}
		}
	}
	return pct(done, made)
}

func (s *scope) identityMatch() (float64, bool) {
	active, matched := 0, 0
	for _, a := range s.accounts {
		for _, p := range a.users {
			if s.active(p) {
				active++
				if a.crm {
					matched++
				}
			}
		}
	}
	if s.all {
		for _, p := range s.w.alone {
			if s.active(p) {
				active++
			}
		}
	}
	return pct(matched, active)
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func (s *scope) alertToOutreach() (float64, bool) {
	if !s.all {
		return 0, false
	}
	var xs []float64
	for _, a := range s.w.src.Alerts {
		if s.in(a.Created.UnixMilli()) && !a.Outreach.IsZero() {
			xs = append(xs, a.Outreach.Sub(a.Created).Seconds())
		}
	}
	return median(xs)
}

func (s *scope) selfServeShare() (float64, bool) {
	paid, self := 0, 0
	for _, a := range s.accounts {
		if s.in(a.paid) {
			paid++
			if a.motion == SelfServe {
				self++
			}
		}
	}
	return pct(self, paid)
}

func (s *scope) crmLatency() (float64, bool) {
	if !s.all {
		return 0, false
	}
	var xs []float64
	for _, d := range s.w.src.CRMWrites {
		if s.in(d.Created.UnixMilli()) {
			xs = append(xs, max(0, d.DeliveredAt.Sub(d.Created).Seconds()))
		}
	}
	return median(xs)
}
