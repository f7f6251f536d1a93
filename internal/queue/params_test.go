package queue_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/queue"
	"github.com/beaconplg/beacon/internal/score"
)

func rules(t *testing.T) *score.Rules {
	t.Helper()
	sp, err := score.Preset("pql-150")
	if err != nil {
		t.Fatal(err)
	}
	r, err := score.Compile(*sp)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Every parameter the queue cannot take is refused, naming it: the web page
// and the API give the same answer.
func TestParseRefuses(t *testing.T) {
	r := rules(t)
	for _, tc := range []struct{ query, field, says string }{
		{"tier=bogus", "tier", `tier "bogus": pql has watching, warm, hot`},
		{"offset=-1", "offset", "from 0 to 2147483647"},
		{"offset=abc", "offset", `offset "abc"`},
		{"offset=999999999999999999999", "offset", "whole number"},
		{"limit=0", "limit", "from 1 to 500"},
		{"limit=501", "limit", "from 1 to 500"},
		{"sort=name", "sort", "want one of -score, score, -momentum"},
		{"scorecard=champion", "scorecard", "want one of pql, fit, health, expansion, grade"},
		{"scorecard=nope", "scorecard", `scorecard "nope"`},
		{"segment=galactic", "segment", "want one of smb, mid_market, enterprise"},
		{"scorecard=health&segment=smb", "segment", "health has none"},
		{"q=" + strings.Repeat("x", 201), "q", "at most 200 bytes"},
		{"owner=" + strings.Repeat("o", 201), "owner", "at most 200 bytes"},
		{"mine=maybe", "mine", `mine "maybe": want 1 or 0`},
		{"mine=1", "mine", "owner=EMAIL"}, // through the API, there is no "me"
		{"held=2", "held", "want 1 or 0"},
		{"q=a%00b", "q", "at most 200 bytes"},
		{"colour=red", "colour", `unknown parameter "colour"`},
	} {
		v, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		_, err = queue.Parse(r, v, "")
		var bad *queue.ParamError
		if !errors.As(err, &bad) || !errors.Is(err, queue.ErrBadParam) || bad.Field != tc.field || !strings.Contains(bad.Message, tc.says) {
			t.Errorf("%s: %v, want the field %s and %q", tc.query, err, tc.field, tc.says)
		}
	}
}

// What the queue takes, and the defaults: the routing scorecard, its order
// (the health score's lowest first), 50 a page.
func TestParse(t *testing.T) {
	r := rules(t)
	for _, tc := range []struct {
		query, viewer string
		check         func(q queue.Query) bool
	}{
		{"", "", func(q queue.Query) bool {
			return q.Card.Name == "pql" && q.Sort == "-score" && q.Limit == 50 && q.Offset == 0 && !q.Mine
		}},
		{"scorecard=health", "", func(q queue.Query) bool { return q.Card.Name == "health" && q.Sort == "score" }},
		{"scorecard=health&sort=-momentum", "", func(q queue.Query) bool { return q.Sort == "-momentum" }},
		{"tier=hot&q=+Acme+&owner=ana%40x.example&segment=smb&offset=50&limit=10", "", func(q queue.Query) bool {
			return q.Tier == "hot" && q.Search == "Acme" && q.Owner == "ana@x.example" && q.Segment == "smb" && q.Offset == 50 && q.Limit == 10
		}},
		{"mine=1", "ana@x.example", func(q queue.Query) bool { return q.Mine && q.Viewer == "ana@x.example" }},
		{"held=true", "", func(q queue.Query) bool { return q.Held }},
	} {
		v, _ := url.ParseQuery(tc.query)
		q, err := queue.Parse(r, v, tc.viewer)
		if err != nil || !tc.check(q) {
			t.Errorf("%q: %+v (%v)", tc.query, q, err)
		}
	}
	// A view's link carries only what differs from the defaults.
	q, _ := queue.Parse(r, url.Values{"tier": {"hot"}, "sort": {"-score"}, "offset": {"0"}}, "")
	if got := q.Values(map[string]string{"offset": "50"}).Encode(); got != "offset=50&scorecard=pql&tier=hot" {
		t.Fatalf("values: %s", got)
	}
}
