package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// scoredProbe measures, beside a load, how long an event takes from its
// acknowledgement to a score the API serves: one probe at a time, each a
// new workspace's first events (its group call and a view of the Pricing
// page, which the presets score), polled until the workspace has a score.
type scoredProbe struct {
	client *http.Client
	base   string // where Beacon listens
	key    string // a write key
	token  string // an admin token, to read scores
	run    string // tells this run's probes apart from earlier ones'
	poll   time.Duration
}

// latencyProbe sends probe i and waits for what it times: a score served,
// a webhook received.
type latencyProbe interface {
	one(ctx context.Context, i int) (time.Duration, error)
}

// warmUp sends one event from each of the generator's users and waits for
// a probe sent after them: the timed load is then a product's known users
// at work, not 40,000 sign-ups at once.
func warmUp(ctx context.Context, p latencyProbe, client *http.Client, base, key, run string) error {
	if err := sendKnown(ctx, client, base, key, "warm-up-"+run); err != nil {
		return err
	}
	if _, err := p.one(ctx, -1); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	return nil
}

// measure sends probes one after another until ctx ends and returns each
// one's latency, sorted. A probe cut off by ctx is not counted.
func measure(ctx context.Context, p latencyProbe) ([]time.Duration, error) {
	var lat []time.Duration
	for i := 0; ctx.Err() == nil; i++ {
		d, err := p.one(ctx, i)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("probe %d: %w", i, err)
		}
		lat = append(lat, d)
	}
	slices.Sort(lat)
	return lat, nil
}

// one sends probe i's event and waits for its workspace's score.
func (p scoredProbe) one(ctx context.Context, i int) (time.Duration, error) {
	group := fmt.Sprintf("probe-%s-%d", p.run, i)
	body := fmt.Sprintf(`{"batch":[{"type":"group","userId":"%[1]s-u","groupId":"%[1]s","messageId":"%[1]s-g","traits":{"name":"Probe %[2]d"}},`+
		`{"type":"page","userId":"%[1]s-u","name":"Pricing","messageId":"%[1]s-p","context":{"groupId":"%[1]s"}}]}`, group, i)
	if err := post(ctx, p.client, p.base+"/v1/batch", p.key, []byte(body)); err != nil {
		return 0, err
	}
	acked := time.Now()
	for {
		ok, err := p.scored(ctx, group)
		if err != nil || ok {
			return time.Since(acked), err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(p.poll):
		}
	}
}

// scored reports whether the account has a score yet.
func (p scoredProbe) scored(ctx context.Context, account string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/api/v1/accounts/"+account+"/score", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch resp.StatusCode {
	case http.StatusNotFound:
		return false, nil // identity has not made the account yet
	case http.StatusOK:
		return bytes.Contains(msg, []byte(`"scores":[{`)), nil
	}
	return false, fmt.Errorf("reading the score: status %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
}
