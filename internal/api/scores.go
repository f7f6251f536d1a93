package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// RulesSource gives the rules in force; they change on SIGHUP.
type RulesSource interface {
	Rules() *score.Rules
}

// Queue page sizes.
const (
	defaultLimit = 50
	maxLimit     = 500
	historyLimit = 100
)

// QueueView is the body of GET /api/v1/accounts: the PQL queue.
type QueueView struct {
	Scorecard    string      `json:"scorecard"`
	RulesVersion string      `json:"rules_version"`
	Total        int         `json:"total"`
	Limit        int         `json:"limit"`
	Offset       int         `json:"offset"`
	Accounts     []QueueItem `json:"accounts"`
}

// QueueItem is one account in the queue.
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

func (a *API) queue(r *http.Request) (any, error) {
	rules := a.rules.Rules()
	q := r.URL.Query()
	card, err := cardParam(rules, q.Get("scorecard"), score.OfAccount)
	if err != nil {
		return nil, err
	}
	sq := store.ScoreQuery{Scorecard: card.Name, Kind: score.OfAccount, Tier: q.Get("tier"), Sort: q.Get("sort")}
	if sq.Tier != "" {
		if _, ok := card.Tier(sq.Tier); !ok {
			return nil, badParam("tier", "tier %q: %s has %s", sq.Tier, card.Name, strings.Join(tierNames(card), ", "))
		}
	}
	if sq.Sort == "" {
		sq.Sort = "-score"
	}
	if _, ok := store.ScoreSorts[sq.Sort]; !ok {
		return nil, badParam("sort", "sort %q: want one of %s", sq.Sort, strings.Join(sortKeys(), ", "))
	}
	if sq.Limit, sq.Offset, err = page(q); err != nil {
		return nil, err
	}
	ss, total, err := a.db.ListScores(r.Context(), sq)
	if err != nil {
		return nil, err
	}
	ids, byID, err := a.db.ScoredAccounts(r.Context(), ss)
	if err != nil {
		return nil, err
	}
	v := QueueView{Scorecard: card.Name, RulesVersion: rules.Version, Total: total, Limit: sq.Limit, Offset: sq.Offset,
		Accounts: []QueueItem{}}
	for i, s := range ss {
		acc := byID[ids[i]]
		t, _ := card.Tier(s.Tier)
		item := QueueItem{ID: ids[i], Name: acc.Name, Owner: acc.Owner, Score: s.Score, Tier: s.Tier, Route: t.Route,
			TierSince: s.TierSince, UpdatedAt: s.UpdatedAt}
		if err := json.Unmarshal(s.Reasons, &item.Reasons); err != nil {
			return nil, err
		}
		v.Accounts = append(v.Accounts, item)
	}
	return v, nil
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

func sortKeys() []string {
	keys := make([]string, 0, len(store.ScoreSorts))
	for k := range store.ScoreSorts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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
