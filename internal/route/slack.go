package route

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beaconplg/beacon/internal/alert"
	"github.com/beaconplg/beacon/internal/store"
)

// slack posts each alert to a Slack incoming webhook: the account, its tier
// and score, the top reasons, the owner, what to do, and a link to the
// account in Beacon.
type slack struct {
	url    string
	link   string // Beacon's public URL; "" for no links
	client *http.Client
	ua     string
	pace   *pacer
}

// slackRate is how many messages a second an incoming webhook takes
// (Slack's rate limits: one a second, short bursts allowed) when the
// destination sets no rate_limit of its own.
const slackRate = 1.0

// slackMessage is the incoming-webhook payload: text is the notification's
// fallback, blocks the message itself.
type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type string     `json:"type"`
	Text *slackText `json:"text,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// slackEscape escapes what Slack's mrkdwn reads as control characters.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func (s *slack) message(a AlertData) slackMessage {
	if a.Metric != nil {
		return s.metricMessage(a.Metric)
	}
	name := a.Account.Name
	if name == "" {
		name = a.Account.ID
	}
	tier := a.TierLabel
	if tier == "" {
		tier = a.Tier
	}
	title := fmt.Sprintf("%s: %s (%g points)", tier, name, a.Score)
	head := "*" + slackEscape(name) + "*"
	if s.link != "" {
		head = fmt.Sprintf("*<%s/accounts/%s|%s>*", s.link, url.PathEscape(a.Account.ID), slackEscape(name))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s is now *%s* with %g points", head, slackEscape(tier), a.Score)
	if a.PreviousTier != "" {
		fmt.Fprintf(&b, " (was %s)", slackEscape(a.PreviousTier))
	}
	fmt.Fprintf(&b, ".\nSegment %s, zone %s", slackEscape(a.Segment), strings.ReplaceAll(a.Zone, "_", "-"))
	if a.Account.Owner != "" {
		fmt.Fprintf(&b, ", owner %s", slackEscape(a.Account.Owner))
	}
	fmt.Fprintf(&b, ", %d users.", a.Account.Users)
	if r := a.reasonText(3); r != "" {
		fmt.Fprintf(&b, "\n*Why:* %s", slackEscape(r))
	}
	var todo []string
	for _, x := range a.Actions {
		todo = append(todo, slackEscape(x.Label))
	}
	if len(todo) > 0 {
		fmt.Fprintf(&b, "\n*Next:* %s", strings.Join(todo, "; "))
	}
	return slackMessage{Text: cut(title, slackTextMax),
		Blocks: []slackBlock{{Type: "section", Text: &slackText{Type: "mrkdwn", Text: cut(b.String(), slackTextMax)}}}}
}

// metricMessage says which metric crossed into which band, and where it
// moved most.
func (s *slack) metricMessage(m *alert.Metric) slackMessage {
	title := fmt.Sprintf("%s is %s: %s", m.Label, m.Level, m.Text)
	head := "*" + slackEscape(m.Label) + "*"
	if s.link != "" {
		head = fmt.Sprintf("*<%s/dashboard?names=%s&by=segment|%s>*", s.link, url.QueryEscape(m.Name), slackEscape(m.Label))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s is *%s* over the %s to %s: %s", head, m.Level, strings.TrimSuffix(m.Window, "d")+" days",
		m.To.AddDate(0, 0, -1).Format(time.DateOnly), slackEscape(m.Text))
	if m.PreviousLevel != "" {
		fmt.Fprintf(&b, " (was %s)", m.PreviousLevel)
	}
	fmt.Fprintf(&b, ".\n%s", slackEscape(m.Band))
	if mm := m.MovedMost; mm != nil {
		fmt.Fprintf(&b, "\n*Moved most:* %s %s, %s → %s", mm.By, slackEscape(mm.Group), slackEscape(mm.Before), slackEscape(mm.After))
	}
	return slackMessage{Text: cut(title, slackTextMax),
		Blocks: []slackBlock{{Type: "section", Text: &slackText{Type: "mrkdwn", Text: cut(b.String(), slackTextMax)}}}}
}

// slackTextMax is the most characters a section block's text takes (Block
// Kit reference, "Section block"): a longer one fails the whole message.
// The notification's text is held to it too.
const slackTextMax = 3000

// cut shortens s to n characters, the last an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func (s *slack) Send(ctx context.Context, ds []store.Delivery) []error {
	return each(ctx, s.pace, ds, func(ctx context.Context, d store.Delivery) error {
		data, err := alertData(d)
		if err != nil {
			return &SendError{Permanent: true, Err: err}
		}
		body, err := json.Marshal(s.message(data))
		if err != nil {
			return &SendError{Permanent: true, Err: err}
		}
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("User-Agent", s.ua)
		return post(ctx, s.client, http.MethodPost, s.url, h, body, nil)
	})
}
