package growth

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// What people read of metrics, as seed 002's tables write them.

// Text writes a metric's value in its unit, as seed 002's tables
// do: 12,450; 42%; 45 sec; $1,840; 4.2/wk; 2.8/5; 65/35.
func (v Value) Text() string {
	if !v.OK {
		return "—"
	}
	return FormatIn(v.Unit, v.Value, v.OutOf)
}

// TargetText writes a metric's target, if it has one.
func (v Value) TargetText() string {
	if !v.HasTarget {
		return "—"
	}
	return FormatIn(v.Unit, v.Target, v.OutOf)
}

// TrendText writes the change from the period before, with its sign.
func (v Value) TrendText() string {
	if !v.TrendOK {
		return "—"
	}
	sign := "+"
	if v.Trend < 0 {
		sign = "−"
	}
	d := math.Abs(v.Trend)
	switch v.Unit {
	case Percent, Split:
		return sign + round2(math.Round(d*10)/10) + " pts"
	}
	return sign + FormatIn(v.Unit, d, 0)
}

// FormatIn writes f in unit; outOf is what a breadth is out of.
func FormatIn(unit string, f float64, outOf int) string {
	switch unit {
	case Count:
		return thousands(math.Round(f))
	case Percent:
		return round2(math.Round(f*10)/10) + "%"
	case Split:
		o := math.Round(f)
		return fmt.Sprintf("%.0f/%.0f", o, 100-o)
	case Seconds:
		return Duration(f)
	case Cents:
		return "$" + thousands(math.Round(f/100))
	case PerWeek:
		return round2(math.Round(f*10)/10) + "/wk"
	case Breadth:
		if outOf == 0 {
			return round2(math.Round(f*10) / 10)
		}
		return fmt.Sprintf("%s/%d", round2(math.Round(f*10)/10), outOf)
	}
	return round2(f)
}

// Duration writes seconds as the unit a reader expects: 45 sec, 8 min,
// 5.2 h, 28 days.
func Duration(s float64) string {
	switch {
	case s < 120:
		return round2(math.Round(s)) + " sec"
	case s < 2*3600:
		return round2(math.Round(s/60)) + " min"
	case s < 2*86400:
		return round2(math.Round(s/360)/10) + " h"
	}
	return round2(math.Round(s/8640)/10) + " days"
}

// thousands writes a whole number with commas.
func thousands(f float64) string {
	neg := f < 0
	s := fmt.Sprintf("%.0f", math.Abs(f))
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}

// round2 writes a value with at most two decimals, none when whole.
func round2(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}
