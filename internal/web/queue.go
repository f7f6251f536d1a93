package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// pageSize is how many accounts the queue shows at once.
const pageSize = 50

type queueData struct {
	chrome
	Back         string
	Card         string
	RulesVersion string
	Tiers        []score.TierSpec
	Tier         string
	Search       string
	Owner        string
	Segment      string
	Segments     []score.SegmentSpec
	People       []string
	Total        int
	From, To     int
	Prev, Next   string
	Rows         []queueRow
}

type queueRow struct {
	ID, Name, Owner string
	Score           float64
	Tier, TierLabel string
	Reasons         []score.Reason
	Segment, Zone   string
	Alert           *alertCell
}

type alertCell struct {
	ID         int64
	Age        string
	Band       string // good, warning, red: seed 004's response-time bands
	AckedBy    string
	AssignedTo string
}

func (w *Web) queue(rw http.ResponseWriter, r *http.Request, v viewer) {
	rules := w.rules.Rules()
	card := pqlCard(rules)
	if card == nil {
		http.Error(rw, "The rules have no account scorecard.", http.StatusServiceUnavailable)
		return
	}
	q := r.URL.Query()
	d := queueData{chrome: chromeOf(v), Back: r.URL.RequestURI(), Card: card.Label,
		RulesVersion: rules.Version, Tiers: card.Tiers, Tier: q.Get("tier")}
	if d.Card == "" {
		d.Card = card.Name
	}
	if _, ok := card.Tier(d.Tier); !ok {
		d.Tier = ""
	}
	d.Search, d.Owner, d.Segment = clipParam(q.Get("q")), clipParam(q.Get("owner")), clipParam(q.Get("segment"))
	if rules.Routing != nil {
		d.Segments = rules.Routing.Segments
	}
	people, err := w.db.ListPeople(r.Context())
	if err != nil {
		w.fail(rw, err)
		return
	}
	for _, p := range people {
		d.People = append(d.People, p.Email)
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = max(0, offset)
	ss, total, err := w.db.ListScores(r.Context(), store.ScoreQuery{Scorecard: card.Name, Kind: score.OfAccount, Tier: d.Tier,
		Search: d.Search, Owner: d.Owner, Segment: d.Segment, Sort: "-score", Limit: pageSize, Offset: offset})
	if err != nil {
		w.fail(rw, err)
		return
	}
	d.Total, d.From, d.To = total, min(offset+1, total), offset+len(ss)
	if offset > 0 {
		d.Prev = d.pageLink(max(0, offset-pageSize))
	}
	if offset+len(ss) < total {
		d.Next = d.pageLink(offset + pageSize)
	}
	if d.Rows, err = w.rows(r, rules, card, ss); err != nil {
		w.fail(rw, err)
		return
	}
	w.render(rw, http.StatusOK, "queue", d)
}

// pageLink is the queue at offset with the same filters.
func (d queueData) pageLink(offset int) string {
	v := url.Values{}
	for k, val := range map[string]string{"tier": d.Tier, "q": d.Search, "owner": d.Owner, "segment": d.Segment} {
		if val != "" {
			v.Set(k, val)
		}
	}
	v.Set("offset", strconv.Itoa(offset))
	return "/?" + v.Encode()
}

// clipParam bounds a filter typed into the page.
func clipParam(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "")
	}
	return s
}

// pqlCard is the card the queue shows: the routing card, else the first
// account card.
func pqlCard(r *score.Rules) *score.Card {
	if r.Routing != nil && r.Routing.Card != nil {
		return r.Routing.Card
	}
	for _, c := range r.Cards {
		if c.Of == score.OfAccount {
			return c
		}
	}
	return nil
}

func (w *Web) rows(r *http.Request, rules *score.Rules, card *score.Card, ss []store.Score) ([]queueRow, error) {
	segments := map[string]string{}
	if rules.Routing != nil {
		for _, sg := range rules.Routing.Segments {
			if sg.Label != "" {
				segments[sg.Name] = sg.Label
			}
		}
	}
	ids, byID, err := w.db.ScoredAccounts(r.Context(), ss)
	if err != nil {
		return nil, err
	}
	subjects := make([]string, len(ss))
	for i, s := range ss {
		subjects[i] = s.Subject
	}
	latest, err := w.db.LatestAlerts(r.Context(), subjects)
	if err != nil {
		return nil, err
	}
	now := w.clock()
	rows := make([]queueRow, len(ss))
	for i, s := range ss {
		a := byID[ids[i]]
		row := queueRow{ID: ids[i], Name: a.Name, Owner: a.Owner, Score: s.Score, Tier: s.Tier}
		if row.Name == "" {
			row.Name = ids[i]
		}
		if t, ok := card.Tier(s.Tier); ok {
			row.TierLabel = t.Label
		}
		var reasons []score.Reason
		_ = json.Unmarshal(s.Reasons, &reasons) // written by Beacon as JSON
		row.Reasons = score.TopReasons(reasons, 3)
		if al, ok := latest[s.Subject]; ok {
			row.Segment, row.Zone = al.Segment, strings.ReplaceAll(al.Zone, "_", "-")
			if label, ok := segments[al.Segment]; ok {
				row.Segment = label
			}
			if al.NeedsAck {
				cell := &alertCell{ID: al.ID, AckedBy: al.AckedBy, AssignedTo: al.AssignedTo}
				took := now.Sub(al.CreatedAt)
				if !al.AckedAt.IsZero() {
					took = al.AckedAt.Sub(al.CreatedAt)
				}
				cell.Age, cell.Band = since(took), route.Band(took)
				row.Alert = cell
			}
		}
		rows[i] = row
	}
	return rows, nil
}

// since says a duration the way a person reads it.
func since(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func (w *Web) fail(rw http.ResponseWriter, err error) {
	w.log.Error("page failed", "err", err)
	http.Error(rw, "Beacon could not read the store just now; reload in a moment.", http.StatusServiceUnavailable)
}

var funcs = template.FuncMap{
	"points": func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) },
}
