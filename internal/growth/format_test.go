package growth

import "testing"

// Values read as seed 002's tables write them.
func TestFormatAsSeed002(t *testing.T) {
	cases := []struct {
		v    Value
		want string
	}{
		{Value{Unit: Count, Value: 12450, OK: true}, "12,450"},
		{Value{Unit: Split, Value: 65, OK: true}, "65/35"},
		{Value{Unit: Percent, Value: 3.2, OK: true}, "3.2%"},
		{Value{Unit: Seconds, Value: 45, OK: true}, "45 sec"},
		{Value{Unit: Seconds, Value: 8 * 60, OK: true}, "8 min"},
		{Value{Unit: Seconds, Value: 28 * 86400, OK: true}, "28 days"},
		{Value{Unit: PerWeek, Value: 4.2, OK: true}, "4.2/wk"},
		{Value{Unit: Breadth, Value: 2.8, OK: true, OutOf: 5}, "2.8/5"},
		{Value{Unit: Cents, Value: 184000, OK: true}, "$1,840"},
		{Value{Unit: Percent}, "—"},
	}
	for _, c := range cases {
		if got := c.v.Text(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.v, got, c.want)
		}
	}
	trend := Value{Unit: Seconds, Trend: -30, TrendOK: true}
	if got := trend.TrendText(); got != "−30 sec" {
		t.Errorf("trend %q, want −30 sec", got)
	}
	if got := (Value{Unit: Percent, Trend: 0.3, TrendOK: true}).TrendText(); got != "+0.3 pts" {
		t.Errorf("trend %q, want +0.3 pts", got)
	}
}
