package web

import (
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/growth"
	"github.com/beaconplg/beacon/internal/queue"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// What pages show of numbers and times, for people: 2.6666666666666665
// reads "2.67", a quota of 2.67 reads "267 %".

// number writes a value with at most two decimals, none when whole.
func number(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

// points writes a score or its points.
func points(f float64) string { return number(f) }

// percent writes a share (1 = 100 %) as a whole percentage.
func percent(f float64) string { return strconv.FormatFloat(math.Round(f*100), 'f', -1, 64) + " %" }

// isShare reports whether a signal's value is a share better read as a
// percentage: quotas (used / limit) and trends (against a baseline).
func isShare(name string) bool {
	return strings.HasSuffix(name, "_quota") || strings.HasSuffix(name, "_trend") || name == score.Propensity
}

// signalValue writes a signal's value for people.
func signalValue(name string, v any) string {
	switch x := v.(type) {
	case float64:
		if isShare(name) {
			return percent(x)
		}
		return number(x)
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case string:
		return short(x, 60)
	case nil:
		return "none"
	}
	return propValue(v)
}

// signalLabel writes a signal's name for people: seat_quota → seat quota.
func signalLabel(name string) string { return strings.ReplaceAll(name, "_", " ") }

func date(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

var funcs = template.FuncMap{
	"metricValue":  growth.Value.Text,
	"metricTarget": growth.Value.TargetText,
	"metricTrend":  growth.Value.TrendText,
	"cents":        cents,
	"heat":         heat,
	"duration":     growth.Duration,
	"pct":          func(f float64) string { return number(math.Round(f*10)/10) + "%" },
	"points":       points,
	"number":       number,
	"percent":      percent,
	"rate":         func(f float64) string { return strconv.FormatFloat(math.Round(f*1000)/10, 'f', -1, 64) + " %" },
	"signed":       signed,
	"trend":        trend,
	"since":        since,
	"ago":          ago,
	"date":         date,
	"stamp":        stamp,
	"sparkline":    sparkline,
	"signalValue":  signalValue,
	"signalLabel":  signalLabel,
	"deref":        func(f *float64) float64 { return *f },
	"seconds":      seconds,
	"float":        func(n int) float64 { return float64(n) },
	// band is an alert's response-time band and how long it waited or
	// took, for a page.
	"band": func(al store.Alert, now time.Time) []string {
		b, took := queue.Band(al, now)
		return []string{b, since(took)}
	},
}
