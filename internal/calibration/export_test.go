package calibration

// HoldsOn reports whether finding f holds for account a over the window
// of days ending on day, as discovery counts it: what the proposed rule
// must say too.
func (d *Discovery) HoldsOn(f Finding, a *Account, day int32, names int) bool {
	var t Tally
	a.tally(day-int32(d.Options.Window)+1, day, names, &t)
	return f.holds(a, &t)
}
