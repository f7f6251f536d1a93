package sim_test

import (
	"slices"
	"testing"

	"github.com/beaconplg/beacon/internal/sim"
)

// A world with drivers, read from the files it wrote: each seed draws its
// own drivers and noise, the truth names them, and what the events show
// is what the plan says. An account that did a driver in the HazardDays
// before a day converts on it far more often than one that did not; a
// noise behaviour is done as often by accounts that go on to convert as
// by those that do not.
func TestDriversWorld(t *testing.T) {
	p := sim.DefaultParams()
	p.Accounts, p.Days, p.Drivers = 600, 90, 3
	dir := t.TempDir()
	if _, err := p.Simulate(dir); err != nil {
		t.Fatal(err)
	}
	truth, err := sim.ReadTruth(dir)
	if err != nil {
		t.Fatal(err)
	}
	plan := truth.Plan
	if plan == nil || len(plan.Drivers) != 3 || len(plan.Noise) != 2 {
		t.Fatalf("truth's plan %+v: want 3 drivers and 2 noise behaviours", plan)
	}
	for _, n := range plan.Noise {
		if slices.Contains(plan.Drivers, n) {
			t.Fatalf("%s is both a driver and noise", n)
		}
	}
	other := p
	other.Seed = 2
	if slices.Equal(other.DriverPlan().Drivers, plan.Drivers) {
		t.Errorf("seeds 1 and 2 drew the same drivers %v", plan.Drivers)
	}
	// days[group][event] is the days (of the world) the account did it.
	days := map[string]map[string][]int{}
	eachEvent(t, dir, func(m map[string]any) {
		ctx, _ := m["context"].(map[string]any)
		g, _ := ctx["groupId"].(string)
		name, _ := m["event"].(string)
		if g == "" || !slices.Contains(sim.Behaviours, name) {
			return
		}
		if days[g] == nil {
			days[g] = map[string][]int{}
		}
		ts, _ := m["timestamp"].(string)
		days[g][name] = append(days[g][name], dayOf(t, ts))
	})
	did := func(g, event string, day int) bool {
		return slices.ContainsFunc(days[g][event], func(d int) bool { return d <= day && d > day-sim.HazardDays })
	}
	converted := 0
	for _, a := range truth.Accounts {
		if a.Converted {
			converted++
		}
	}
	// The funnel of a PLG product: a fifth of sign-ups convert in 90 days.
	if share := float64(converted) / float64(len(truth.Accounts)); share < 0.12 || share > 0.35 {
		t.Errorf("%d of %d accounts converted (%.0f %%): want 12-35 %%", converted, len(truth.Accounts), 100*share)
	}
	// Per account-day at risk: the conversion rate with and without each
	// behaviour in the window.
	for _, name := range sim.Behaviours {
		var with, without [2]int // days at risk, conversions
		for _, a := range truth.Accounts {
			last := p.Days - 1
			if a.Converted {
				last = a.ConvertedDay
			}
			for d := a.SignupDay; d <= last; d++ {
				x := &without
				if did(a.GroupID, name, d) {
					x = &with
				}
				x[0]++
				if a.Converted && d == a.ConvertedDay {
					x[1]++
				}
			}
		}
		ratio := (float64(with[1]) / float64(with[0])) / (float64(without[1]) / float64(without[0]))
		t.Logf("%-22s rate ratio %.2f (%d/%d with, %d/%d without)", name, ratio, with[1], with[0], without[1], without[0])
		switch {
		case plan.IsDriver(name) && ratio < 2:
			t.Errorf("driver %s: conversion with it in the window only %.2f times as likely", name, ratio)
		case plan.IsNoise(name) && (with[0] < 3*without[0] || ratio > 2):
			t.Errorf("noise %s: %d account-days with it against %d without, rate ratio %.2f; want it popular and meaningless", name, with[0], without[0], ratio)
		}
	}
}
