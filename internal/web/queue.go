package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/queue"
	"github.com/beaconplg/beacon/internal/score"
)

type queueData struct {
	chrome
	Back         string
	Query        queue.Query
	Error        string
	Raw          url.Values // what was asked, to show back when it was refused
	Tabs         []tab
	Views        []tab // all, mine, held
	Card         string
	RulesVersion string
	Tiers        []score.TierSpec
	Segments     []score.SegmentSpec
	// SegmentLabels and ZoneLabels name segments and zones for people.
	SegmentLabels, ZoneLabels map[string]string
	Sorts                     []queue.Sort
	SortLabel                 string
	TieBreak                  string
	People                    []string
	Total                     int
	From, To                  int
	Prev, Next                string
	Export                    string
	Now                       time.Time
	Rows                      []queue.Row
}

// tab is a link among the queue's views.
type tab struct {
	Label, Href string
	Current     bool
}

func (w *Web) queue(rw http.ResponseWriter, r *http.Request, v viewer) {
	rules := w.rules.Rules()
	d := queueData{chrome: chromeOf(v), Back: r.URL.RequestURI(), RulesVersion: rules.Version, Sorts: queue.Sorts,
		Raw: r.URL.Query(), Now: w.clock()}
	q, err := queue.Parse(rules, r.URL.Query(), v.person.Email)
	var bad *queue.ParamError
	switch {
	case errors.As(err, &bad):
		d.Error = bad.Message
		// The tabs and the form stay, for the default view.
		q, _ = queue.Parse(rules, url.Values{}, v.person.Email)
	case err != nil:
		w.fail(rw, err)
		return
	}
	if q.Card == nil {
		http.Error(rw, "The rules have no account scorecard.", http.StatusServiceUnavailable)
		return
	}
	d.fill(rules, q)
	people, err := w.db.ListPeople(r.Context())
	if err != nil {
		w.fail(rw, err)
		return
	}
	for _, p := range people {
		d.People = append(d.People, p.Email)
	}
	if d.Error != "" {
		w.render(rw, http.StatusBadRequest, "queue", d)
		return
	}
	page, err := w.queues.Page(r.Context(), rules, q)
	if err != nil {
		w.fail(rw, err)
		return
	}
	d.Total, d.Rows = page.Total, page.Rows
	d.From, d.To = min(q.Offset+1, page.Total), q.Offset+len(page.Rows)
	if q.Offset > 0 {
		d.Prev = "/?" + q.Values(map[string]string{"offset": offset(max(0, q.Offset-q.Limit))}).Encode()
	}
	if q.Offset+len(page.Rows) < page.Total {
		d.Next = "/?" + q.Values(map[string]string{"offset": offset(q.Offset + q.Limit)}).Encode()
	}
	w.render(rw, http.StatusOK, "queue", d)
}

func offset(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

// fill sets what the page shows of the view q, whatever its rows.
func (d *queueData) fill(rules *score.Rules, q queue.Query) {
	d.Query, d.Card, d.Tiers = q, cmp.Or(q.Card.Label, q.Card.Name), q.Card.Tiers
	d.SegmentLabels, d.ZoneLabels = routingLabels(rules)
	if rules.Routing != nil && rules.Routing.Card == q.Card {
		d.Segments = rules.Routing.Segments
	}
	for _, name := range queue.AccountCards(rules) {
		c, _ := rules.Card(name)
		d.Tabs = append(d.Tabs, tab{Label: cmp.Or(c.Label, c.Name) + " queue", Current: c == q.Card,
			Href: "/?" + queue.Query{Card: c, Sort: queue.DefaultSort(c), Mine: q.Mine}.Values(nil).Encode()})
	}
	base := queue.Query{Card: q.Card, Sort: q.Sort}
	d.Views = []tab{
		{Label: "All accounts", Href: "/?" + base.Values(nil).Encode(), Current: !q.Mine && !q.Held},
		{Label: "My accounts", Href: "/?" + base.Values(map[string]string{"mine": "1"}).Encode(), Current: q.Mine && !q.Held},
		{Label: "Snoozed and disqualified", Href: "/?" + base.Values(map[string]string{"held": "1"}).Encode(), Current: q.Held},
	}
	for _, s := range queue.Sorts {
		if s.Key == q.Sort {
			d.SortLabel = s.Label
		}
	}
	d.TieBreak = tieBreaks[q.Sort]
	d.Export = "/queue.csv?" + q.Values(map[string]string{"offset": "", "limit": ""}).Encode()
}

// routingLabels name the routing's segments and zones for people: their
// labels, else their names as words.
func routingLabels(rules *score.Rules) (segments, zones map[string]string) {
	segments, zones = map[string]string{}, map[string]string{}
	for _, z := range score.Zones {
		zones[z] = queue.ZoneLabel(z)
	}
	rt := rules.Routing
	if rt == nil {
		return segments, zones
	}
	for _, sg := range rt.Segments {
		segments[sg.Name] = cmp.Or(sg.Label, sg.Name)
	}
	for name, z := range rt.Zones {
		if z.Label != "" {
			zones[name] = z.Label
		}
	}
	return segments, zones
}

// tieBreaks say, for each sort, how the page orders equal rows: the
// store's ScoreSorts, in words.
var tieBreaks = map[string]string{
	"-score":       "then rising momentum, more users active this week, the newest in the tier, the latest activity",
	"score":        "then falling momentum, fewer users active this week, the quietest",
	"-momentum":    "then the highest score, more users active this week, the latest activity",
	"momentum":     "then the lowest score, fewer users active this week, the quietest",
	"-tier_since":  "then the highest score, rising momentum, more users active this week, the latest activity",
	"tier_since":   "then the highest score, rising momentum, more users active this week, the latest activity",
	"-last_active": "then the highest score",
	"last_active":  "then the lowest score",
	"-updated":     "then by id",
}

// queueCSV exports the view as CSV: every row, in the page's order.
func (w *Web) queueCSV(rw http.ResponseWriter, r *http.Request, v viewer) {
	rules := w.rules.Rules()
	q, err := queue.Parse(rules, r.URL.Query(), v.person.Email)
	var bad *queue.ParamError
	if errors.As(err, &bad) {
		http.Error(rw, bad.Message, http.StatusBadRequest)
		return
	}
	if err != nil {
		w.fail(rw, err)
		return
	}
	name := q.Card.Name
	if q.Tier != "" {
		name += "-" + q.Tier
	}
	rw.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rw.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="beacon-%s-%s.csv"`, name, w.clock().Format("2006-01-02")))
	if err := w.queues.WriteCSV(r.Context(), rw, rules, q); err != nil {
		w.log.Error("queue export failed", "err", err)
	}
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

// ago says how long before now t was; "never" for the zero time.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	if t.After(now) {
		return "just now"
	}
	return since(now.Sub(t)) + " ago"
}

func (w *Web) fail(rw http.ResponseWriter, err error) {
	w.log.Error("page failed", "err", err)
	http.Error(rw, "Beacon could not read the store just now; reload in a moment.", http.StatusServiceUnavailable)
}

// signed writes a change with its sign: +3, −2, 0.
func signed(f float64) string {
	switch {
	case f > 0:
		return "+" + points(f)
	case f < 0:
		return "−" + points(-f)
	}
	return "0"
}

// trend names the direction of a change, for its style.
func trend(f float64) string {
	switch {
	case f > 0:
		return "up"
	case f < 0:
		return "down"
	}
	return "flat"
}

// joinInts writes numbers for people: "0, 1, 2".
func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ", ")
}
