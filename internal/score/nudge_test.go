package score_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/store/storetest"
)

// A user is nudged by what holds for their account: seats at the plan's
// limit, and a trial once a self-serve account is warm; a user Beacon has
// not seen is nudged to nothing.
func TestNudges(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	db := storetest.SQLite(t)
	live := liveOn(t, db, now)
	scorer := live.scorer
	var lines []string
	for _, u := range []string{"u1", "u2", "u3"} {
		lines = append(lines, `{"type":"group","userId":"`+u+`","groupId":"tiny","traits":{"name":"Tiny","employees":10}}`,
			`{"type":"track","userId":"`+u+`","event":"Signed In","context":{"groupId":"tiny"}}`)
	}
	lines = append(lines, `{"type":"track","userId":"u1","event":"Project Created","context":{"groupId":"tiny"}}`,
		`{"type":"track","userId":"solo","event":"Signed In"}`)
	if _, err := live.AppendEvents(ctx, msgs(t, now, 0, lines...)); err != nil {
		t.Fatal(err)
	}
	live.settle(ctx)
	names := func(user string) string {
		ns, err := scorer.Nudges(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range ns {
			out = append(out, n.Name+": "+n.Message+" "+fmt.Sprint(n.Because))
		}
		return strings.Join(out, " | ")
	}
	// 3 of 3 seats, 30 + 20 (two users active) + 15 (quota) points: warm.
	want := "seat_limit: 100% of your plan's seats are in use: upgrade to add teammates map[seat_quota:1] | " +
		"premium_trial: Try the Team plan free for 14 days map[tier:warm zone:self_serve]"
	if got := names("u2"); got != want {
		t.Fatalf("u2:\n got %s\nwant %s", got, want)
	}
	if got := names("solo"); got != "" {
		t.Fatalf("a user in no account: %s", got)
	}
	if got := names("nobody"); got != "" {
		t.Fatalf("an unknown user: %s", got)
	}
}

// Nudges that could not be answered fail at load, naming the line.
func TestNudgeErrors(t *testing.T) {
	for _, tc := range []struct{ nudge, want string }{
		{"{name: n, kind: upgrade, when: invites > 1, message: '{{.invitez}}'}", `map has no entry for key "invitez"`},
		{"{name: n, kind: upgrade, when: invitez > 1, message: hi}", "unknown name invitez"},
		{"{name: n, when: invites > 1, message: hi}", "nudges[0].kind"},
		{"{name: n, kind: tip, when: 'tier == \"warm\"', message: '{{pct .invites'}", "nudges[0].message"},
	} {
		_, err := load(t, base+"  nudges:\n    - "+tc.nudge+"\n")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "beacon.yaml:") {
			t.Errorf("%s: %v, want an error with %q and its line", tc.nudge, err, tc.want)
		}
	}
}
