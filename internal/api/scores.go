package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/queue"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// RulesSource gives the rules in force; they change on SIGHUP.
type RulesSource interface {
	Rules() *score.Rules
}

// Page sizes of the API's lists (the queue's are the queue package's).
const (
	defaultLimit = 50
	maxLimit     = 500
	historyLimit = 100
)

// QueueView is the body of GET /api/v1/accounts: a work queue.
type QueueView struct {
	Scorecard    string      `json:"scorecard"`
	RulesVersion string      `json:"rules_version"`
	Sort         string      `json:"sort"`
	Total        int         `json:"total"`
	Limit        int         `json:"limit"`
	Offset       int         `json:"offset"`
	Accounts     []QueueItem `json:"accounts"`
}

// QueueItem is one account in the queue: its score and why, how its
// activity moves, and who to call.
type QueueItem struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Owner     string         `json:"owner,omitempty"`
	Score     float64        `json:"score"`
	Tier      string         `json:"tier"`
	Route     string         `json:"route,omitempty"`
	Reasons   []score.Reason `json:"reasons"`
	TierSince time.Time      `json:"tier_since"`
	UpdatedAt time.Time      `json:"updated_at"`
	// ScoreChange is the change over the last 7 days; null when it was not
	// scored then.
	ScoreChange *float64 `json:"score_change_7d"`
	// Momentum is this week's active users less the week before's.
	Momentum     int          `json:"momentum"`
	ActiveUsers  int          `json:"active_users_7d"`
	PriorActive  int          `json:"active_users_prior_7d"`
	Activity     []int        `json:"active_users_daily"`
	LastActive   *time.Time   `json:"last_active"`
	Segment      string       `json:"segment,omitempty"`
	Zone         string       `json:"zone,omitempty"`
	OpenAlert    *int64       `json:"open_alert_id,omitempty"`
	Champion     *PersonView  `json:"champion"`
	ActivePeople []PersonView `json:"active_people"`
}

// PersonView is someone at an account to call.
type PersonView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name,omitempty"`
	Title      string     `json:"title,omitempty"`
	Email      string     `json:"email,omitempty"`
	LastSeen   *time.Time `json:"last_seen,omitempty"`
	ActiveDays int        `json:"active_days_14d"`
	Score      float64    `json:"champion_score,omitempty"`
	Tier       string     `json:"champion_tier,omitempty"`
}

func personView(p queue.Person) PersonView {
	return PersonView{ID: p.ID, Name: p.Name, Title: p.Title, Email: p.Email, LastSeen: timePtr(p.LastSeen),
		ActiveDays: p.ActiveDays, Score: p.Score, Tier: p.Tier}
}

// page reads limit and offset.
func page(q url.Values) (limit, offset int, err error) {
	if limit, err = intParam(q.Get("limit"), "limit", defaultLimit, 1, maxLimit); err != nil {
		return 0, 0, err
	}
	offset, err = intParam(q.Get("offset"), "offset", 0, 0, 1<<31-1)
	return limit, offset, err
}

func badParam(field, format string, args ...any) *Problem {
	return &Problem{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: field, Message: fmt.Sprintf(format, args...)}
}

// queue answers with a page of a work queue: the parameters, sorts and
// errors of the web app's queue.
func (a *API) queue(r *http.Request) (any, error) {
	rules := a.rules.Rules()
	q, err := queue.Parse(rules, r.URL.Query(), "")
	if err != nil {
		return nil, err
	}
	p, err := a.queues.Page(r.Context(), rules, q)
	if err != nil {
		return nil, err
	}
	v := QueueView{Scorecard: q.Card.Name, RulesVersion: rules.Version, Sort: q.Sort, Total: p.Total, Limit: q.Limit,
		Offset: q.Offset, Accounts: []QueueItem{}}
	for _, row := range p.Rows {
		t, _ := q.Card.Tier(row.Tier)
		item := QueueItem{ID: row.ID, Name: row.Name, Owner: row.Owner, Score: row.Score, Tier: row.Tier, Route: t.Route,
			Reasons: nonNilReasons(row.Reasons), TierSince: row.TierSince, UpdatedAt: row.UpdatedAt, ScoreChange: row.Change, Momentum: row.Momentum(),
			ActiveUsers: row.Week, PriorActive: row.PriorWeek, Activity: row.Activity, LastActive: timePtr(row.LastActive),
			Segment: row.Segment, Zone: row.Zone, ActivePeople: []PersonView{}}
		if row.Alert != nil && row.Alert.AckedAt.IsZero() {
			item.OpenAlert = &row.Alert.ID
		}
		if row.Champion != nil {
			c := personView(*row.Champion)
			item.Champion = &c
		}
		for _, p := range row.People {
			item.ActivePeople = append(item.ActivePeople, personView(p))
		}
		v.Accounts = append(v.Accounts, item)
	}
	return v, nil
}

func nonNilReasons(rs []score.Reason) []score.Reason {
	if rs == nil {
		return []score.Reason{}
	}
	return rs
}

func cardParam(rules *score.Rules, name, kind string) (*score.Card, error) {
	if name == "" {
		for _, c := range rules.Cards {
			if c.Of == kind {
				return c, nil
			}
		}
		return nil, badParam("scorecard", "the rules have no scorecard of %ss", kind)
	}
	c, ok := rules.Card(name)
	if !ok || c.Of != kind {
		var names []string
		for _, c := range rules.Cards {
			if c.Of == kind {
				names = append(names, c.Name)
			}
		}
		return nil, badParam("scorecard", "scorecard %q: want one of %s", name, strings.Join(names, ", "))
	}
	return c, nil
}

func tierNames(c *score.Card) []string {
	var names []string
	for _, t := range c.Tiers {
		names = append(names, t.Name)
	}
	return names
}

func intParam(s, field string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, &Problem{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: field, Limit: hi,
			Message: fmt.Sprintf("%s %q: want a whole number from %d to %d", field, s, lo, hi)}
	}
	return n, nil
}

// ScoreView is one scorecard's score of a subject, with why and how it moved.
type ScoreView struct {
	Scorecard    string         `json:"scorecard"`
	Score        float64        `json:"score"`
	Tier         string         `json:"tier"`
	TierLabel    string         `json:"tier_label,omitempty"`
	Route        string         `json:"route,omitempty"`
	Reasons      []score.Reason `json:"reasons"`
	Signals      map[string]any `json:"signals"`
	RulesVersion string         `json:"rules_version"`
	UpdatedAt    time.Time      `json:"updated_at"`
	TierSince    time.Time      `json:"tier_since"`
	History      []HistoryView  `json:"history"`
}

// HistoryView is one change of score or tier.
type HistoryView struct {
	At           time.Time `json:"at"`
	Score        float64   `json:"score"`
	Tier         string    `json:"tier"`
	PreviousTier string    `json:"previous_tier"`
	RulesVersion string    `json:"rules_version"`
}

// SubjectScores is the body of GET /api/v1/{accounts,users}/{id}/score.
type SubjectScores struct {
	Subject string      `json:"subject"`
	Scores  []ScoreView `json:"scores"`
}

func (a *API) subjectScore(kind string) func(*http.Request) (any, error) {
	return func(r *http.Request) (any, error) {
		ctx, id := r.Context(), r.PathValue("id")
		if kind == score.OfAccount {
			if _, err := a.db.Account(ctx, id); err != nil {
				return nil, err
			}
		} else if _, err := a.db.User(ctx, id); err != nil {
			return nil, err
		}
		subject := score.Subject(kind, id)
		ss, err := a.db.SubjectScores(ctx, subject)
		if err != nil {
			return nil, err
		}
		rules := a.rules.Rules()
		v := SubjectScores{Subject: subject, Scores: []ScoreView{}}
		for _, s := range ss {
			sv, err := a.scoreView(r, rules, s)
			if err != nil {
				return nil, err
			}
			v.Scores = append(v.Scores, sv)
		}
		return v, nil
	}
}

func (a *API) scoreView(r *http.Request, rules *score.Rules, s store.Score) (ScoreView, error) {
	sv := ScoreView{Scorecard: s.Scorecard, Score: s.Score, Tier: s.Tier, RulesVersion: s.RulesVersion,
		UpdatedAt: s.UpdatedAt, TierSince: s.TierSince, History: []HistoryView{}}
	if c, ok := rules.Card(s.Scorecard); ok {
		t, _ := c.Tier(s.Tier)
		sv.TierLabel, sv.Route = t.Label, t.Route
	}
	if err := json.Unmarshal(s.Reasons, &sv.Reasons); err != nil {
		return sv, err
	}
	if err := json.Unmarshal(s.Signals, &sv.Signals); err != nil {
		return sv, err
	}
	hist, err := a.db.ScoreHistory(r.Context(), s.Scorecard, s.Subject, historyLimit)
	if err != nil {
		return sv, err
	}
	for _, h := range hist {
		sv.History = append(sv.History, HistoryView{At: h.At, Score: h.Score, Tier: h.Tier, PreviousTier: h.PreviousTier,
			RulesVersion: h.RulesVersion})
	}
	slices.Reverse(sv.History) // oldest first reads as a story
	return sv, nil
}
