package score

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/signal"
)

func compiled(t *testing.T, sp *Spec, err error) *Rules {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Compile(*sp)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func rulesOf(t *testing.T, preset string) *Rules {
	t.Helper()
	sp, err := Preset(preset)
	return compiled(t, sp, err)
}

func rulesFrom(t *testing.T, src string) *Rules {
	t.Helper()
	sp, err := ParseFile([]byte(src), "beacon.yaml")
	return compiled(t, sp, err)
}

func needed(r *Rules, kind string) []string {
	var names []string
	for i, d := range r.Signals.Defs {
		if need, ok := r.need[kind]; ok && need[i] {
			names = append(names, d.Name)
		}
	}
	return names
}

const needRules = `scoring:
  plans:
    free: {seats: 3}
  default_plan: free
  signals:
    - name: invites
      measure: count
      events: [Invite Sent]
    - name: members
      measure: members
    - name: seat_quota
      measure: quota
      used: members
      limit: seats
    - name: views
      measure: count
      events: [Page Viewed]
  scorecards:
    - name: pql
      of: account
      when: views >= 0
      rules:
        - name: seats
          label: Most seats used
          when: seat_quota > 0.5
          points: 10
      tiers:
        - name: hot
          min: 10
    - name: champion
      of: user
      rules:
        - name: invited
          label: Invited someone
          when: READ >= 1
          points: 5
      tiers:
        - name: engaged
          min: 5
`

// Scoring computes only the signals the conditions of a kind of subject
// read: a quota brings its used signal, and a condition reading variables
// by name ($env) brings every one.
func TestNeeds(t *testing.T) {
	r := rulesFrom(t, strings.Replace(needRules, "READ", "invites", 1))
	if got, want := needed(r, OfAccount), []string{"members", "seat_quota", "views"}; !slices.Equal(got, want) {
		t.Errorf("account needs %v, want %v", got, want)
	}
	if got, want := needed(r, OfUser), []string{"invites"}; !slices.Equal(got, want) {
		t.Errorf("user needs %v, want %v", got, want)
	}
	r = rulesFrom(t, strings.Replace(needRules, "READ", `$env["invites"]`, 1))
	if _, ok := r.need[OfUser]; ok {
		t.Errorf("a user's rule reads $env, yet users need %v", needed(r, OfUser))
	}

	preset := rulesOf(t, "pql-150")
	want := []string{"projects_created", "active_days_first_14d", "teammates_invited", "pricing_views"}
	if got := needed(preset, OfUser); !slices.Equal(got, want) {
		t.Errorf("the default rules' users need %v, want %v", got, want)
	}
}

// three users of one account, active over three weeks, and what the
// default rules know of them.
func threeUsers(t *testing.T, r *Rules) ([]*signal.Actor, Facts, int32) {
	t.Helper()
	now := time.Date(2026, 2, 5, 12, 0, 0, 0, time.UTC)
	roll := signal.NewRollups(r.Signals)
	names := []string{"Invite Sent", "Project Created", "Report Viewed", "Page Viewed", "API Calls Metered"}
	for i := range 90 {
		e := event.Event{Type: event.Track, Name: names[i%len(names)], Timestamp: now.AddDate(0, 0, -i/4),
			Properties: []byte(`{"project_count":3,"calls":400,"name":"Pricing"}`)}
		roll.Add([]string{"u1", "u2", "u3"}[i%3], &e)
	}
	return []*signal.Actor{roll.Actor("u1"), roll.Actor("u2"), roll.Actor("u3")}, Facts{Members: 3, BusinessEmail: true}, signal.Day(now)
}

// What is scored with only the signals needed is what is scored with all.
func TestNeedsScoreAsAll(t *testing.T) {
	r, all := rulesOf(t, "pql-150"), rulesOf(t, "pql-150")
	all.need = nil
	actors, f, today := threeUsers(t, r)
	for kind, n := range map[string]int{OfAccount: 3, OfUser: 1} {
		some, err := r.Evaluate(kind, actors[:n], today, f)
		if err != nil {
			t.Fatal(err)
		}
		every, err := all.Evaluate(kind, actors[:n], today, f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(some, every) {
			t.Errorf("%s: scored with the signals needed %+v, with all %+v", kind, some, every)
		}
		if some[0].Score == 0 {
			t.Errorf("%s: nothing scored; the test's events count for no rule", kind)
		}
	}
}

// A result in short encodes as it does with its maps made.
func TestShortEncodesAsFilled(t *testing.T) {
	r := rulesOf(t, "pql-150")
	actors, f, today := threeUsers(t, r)
	for kind, n := range map[string]int{OfAccount: 3, OfUser: 1} {
		short, err := r.evaluate(kind, actors[:n], today, f)
		if err != nil {
			t.Fatal(err)
		}
		filled := slices.Clone(short)
		for i := range filled {
			filled[i].fill()
			if filled[i].short() || filled[i].Signals == nil {
				t.Fatalf("%s: result %d not filled", kind, i)
			}
		}
		var e encoder
		got := e.encode(short)
		for i := range got {
			got[i] = got[i].own() // the next encode writes over the room
		}
		for i := range short {
			if !short[i].short() && short[i].Card != GradeCard { // the grade is made whole: it reads no signal
				t.Fatalf("%s: result %d was not in short", kind, i)
			}
		}
		want := e.encode(filled)
		for i := range want {
			if !bytes.Equal(got[i].reasons, want[i].reasons) || !bytes.Equal(got[i].signals, want[i].signals) {
				t.Errorf("%s %s: in short %s %s, filled %s %s", kind, short[i].Card, got[i].reasons, got[i].signals,
					want[i].reasons, want[i].signals)
			}
		}
	}
}
