package queue

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/score"
)

// MaxExport bounds the rows one export writes.
const MaxExport = 50_000

// csvHeader names the export's columns.
var csvHeader = []string{"account_id", "account_name", "owner", "scorecard", "score", "tier", "tier_since",
	"score_change_7d", "active_users_7d", "active_users_prior_7d", "momentum", "last_active", "segment", "zone",
	"champion", "champion_email", "champion_title", "active_people", "reasons"}

// WriteCSV writes every row of a queue view, in its order from its first
// row (its offset and page size aside), up to MaxExport, as CSV with a
// header. A cell a spreadsheet would run as a formula is quoted with a
// leading apostrophe.
func (rd *Reader) WriteCSV(ctx context.Context, w io.Writer, rules *score.Rules, q Query) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	q.Offset = 0
	err := rd.Each(ctx, rules, q, MaxExport, func(r Row) error {
		return cw.Write(csvRow(q.Card, r))
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func csvRow(card *score.Card, r Row) []string {
	change := ""
	if r.Change != nil {
		change = strconv.FormatFloat(*r.Change, 'f', -1, 64)
	}
	var champ Person
	if r.Champion != nil {
		champ = *r.Champion
	}
	people := make([]string, len(r.People))
	for i, p := range r.People {
		people[i] = fmt.Sprintf("%s <%s> (%d days)", p.Label(), p.Email, p.ActiveDays)
	}
	reasons := make([]string, len(r.Reasons))
	for i, x := range r.Reasons {
		reasons[i] = fmt.Sprintf("%s (+%s)", x.Label, strconv.FormatFloat(x.Points, 'f', -1, 64))
	}
	row := []string{r.ID, r.Name, r.Owner, card.Name, strconv.FormatFloat(r.Score, 'f', -1, 64), r.Tier,
		stamp(r.TierSince), change, strconv.Itoa(r.Week), strconv.Itoa(r.PriorWeek), strconv.Itoa(r.Momentum()),
		stamp(r.LastActive), r.Segment, r.Zone, champ.Name, champ.Email, champ.Title, strings.Join(people, "; "),
		strings.Join(reasons, "; ")}
	for i, c := range row {
		row[i] = defuse(c)
	}
	return row
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// defuse keeps a cell from being read as a formula by a spreadsheet
// (names and traits come from users).
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + s
		}
	}
	return s
}
