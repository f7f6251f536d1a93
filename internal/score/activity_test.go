package score_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// Each account score keeps the account's activity: its active users a day
// for two weeks, this week's against the week before, when one was last
// active and who was most active, and its momentum as a column to sort by.
func TestAccountActivity(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	onEachEngine(t, now, func(t *testing.T, db *store.DB, live stepping) {
		used := func(user string, daysAgo ...int) {
			for _, d := range daysAgo {
				live.send(ctx, msgs(t, now, d, fmt.Sprintf(
					`{"type":"track","userId":%q,"event":"Project Created","context":{"groupId":"acme"}}`, user)))
			}
		}
		// ana: the last week and the one before; bo: only the week
		// before; cy and eve: only this week, cy most recently; dee
		// never.
		used("ana", 1, 3, 8, 12)
		used("bo", 9, 10, 11)
		used("cy", 0)
		used("eve", 2)
		live.send(ctx, msgs(t, now, 0, `{"type":"group","userId":"dee","groupId":"acme"}`))
		ss, err := db.ScoresIn(ctx, "pql", []string{"account:acme"})
		if err != nil || len(ss) != 1 {
			t.Fatalf("scores: %+v (%v)", ss, err)
		}
		a, err := score.ParseActivity(ss[0].Activity)
		if err != nil {
			t.Fatal(err)
		}
		wantUsers := make([]int, score.ActivityDays)
		for _, d := range []int{1, 3, 8, 12, 9, 10, 11, 0, 2} {
			wantUsers[score.ActivityDays-1-d]++
		}
		if a.To != "2026-11-23" || !slices.Equal(a.Users, wantUsers) || a.Week != 3 || a.PriorWeek != 2 || a.Momentum() != 1 {
			t.Fatalf("activity %+v, want users %v, 3 this week and 2 the week before", a, wantUsers)
		}
		if got := fmt.Sprint(a.People); got != "[{ana 4} {bo 3} {cy 1}]" {
			t.Fatalf("most active people %s", got)
		}
		// cy's event, sent 0 days ago, is the latest.
		if !ss[0].LastActive.Equal(now) || ss[0].Momentum != 1 || ss[0].ActiveUsers != 3 {
			t.Fatalf("last active %v, momentum %v, active users %d: want %v, 1 and 3", ss[0].LastActive, ss[0].Momentum, ss[0].ActiveUsers, now)
		}
		// Read two days later, the two days since count no one.
		if got := a.On(now.AddDate(0, 0, 2), 4); !slices.Equal(got, []int{wantUsers[12], wantUsers[13], 0, 0}) {
			t.Fatalf("two days on: %v", got)
		}
	})
}
