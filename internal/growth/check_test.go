package growth_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/alert"
	"github.com/beaconplg/beacon/internal/growth"
	"github.com/beaconplg/beacon/internal/store"
)

// At the demo world's last close, every banded metric the world defines
// has a level, and each in warning or red raised one alert, carried to the
// named destination, with its band and the part that moved most. Checked
// again at the same close, nothing more; at the next close, only the
// levels that got worse.
func TestBandAlerts(t *testing.T) {
	w := newWorld(t, 400, 90)
	ctx := context.Background()
	w.onEachEngine(t, func(t *testing.T, db *store.DB, m *growth.Service) {
		notified := 0
		c := growth.NewChecker(m, db, []string{"growth-slack"}, func() { notified++ }, slog.New(slog.NewTextHandler(io.Discard, nil)))
		at := w.p.Start.AddDate(0, 0, w.p.Days)
		n, err := c.Check(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		levels, err := db.MetricLevels(ctx)
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for key, l := range levels {
			if !l.CheckedAt.Equal(at) || !strings.HasSuffix(key, "/30d") && !strings.HasSuffix(key, "/7d") {
				t.Fatalf("%s: %+v", key, l)
			}
			if l.Level == "warning" || l.Level == "red" {
				bad++
			}
		}
		if n == 0 || n != bad || notified != 1 {
			t.Fatalf("%d alerts, %d levels in warning or red (%v), notified %d", n, bad, levels, notified)
		}
		all, _, err := db.ListAlerts(ctx, store.AlertQuery{Limit: 100_000})
		if err != nil {
			t.Fatal(err)
		}
		var als []store.Alert // scoring raised its own
		for _, a := range all {
			if a.Scorecard == growth.AlertScorecard {
				als = append(als, a)
			}
		}
		if len(als) != n {
			t.Fatalf("%d band alerts stored, want %d", len(als), n)
		}
		for _, a := range als {
			var p alert.Payload
			if err := json.Unmarshal(a.Payload, &p); err != nil || p.Metric == nil {
				t.Fatalf("alert %s: %s (%v)", a.Subject, a.Payload, err)
			}
			if a.Scorecard != growth.AlertScorecard || a.Tier != p.Metric.Level || p.Metric.Band == "" || p.Metric.Text == "" {
				t.Fatalf("alert %+v: %+v", a, p.Metric)
			}
		}
		ds, err := db.ListDeliveries(ctx, store.DeliveryQuery{Destination: "growth-slack", Limit: 100})
		if err != nil || len(ds) != n {
			t.Fatalf("%d deliveries to growth-slack (%v), want %d", len(ds), err, n)
		}
		if again, err := c.Check(ctx, at); err != nil || again != 0 {
			t.Fatalf("checked again at the same close: %d alerts (%v)", again, err)
		}
		// The next close: the windows slide a day; a level that got worse
		// is raised, one that did not is not.
		next, err := c.Check(ctx, at.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		after, err := db.MetricLevels(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rank := map[string]int{"": 0, "good": 1, "warning": 2, "red": 3}
		worse := 0
		for key, l := range after {
			if l.Level != "good" && rank[l.Level] > rank[levels[key].Level] {
				worse++
			}
		}
		if next != worse {
			t.Fatalf("the next close: %d alerts, %d levels worse (before %v, after %v)", next, worse, levels, after)
		}
	})
}
