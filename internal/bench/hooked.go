package bench

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// hookedProbe measures, beside a load, how long an event takes from being
// sent to the webhook of the alert it raises, received where the Beacon
// under load sends its alerts: one probe at a time, each a new mid-market
// workspace whose first project routes it.
type hookedProbe struct {
	client *http.Client
	base   string // where Beacon listens
	key    string // a write key
	run    string // tells this run's probes apart from earlier ones'
	rc     *receiver
}

// one sends probe i's events and waits for its workspace's webhook.
func (p hookedProbe) one(ctx context.Context, i int) (time.Duration, error) {
	return probeWebhook(ctx, p.client, p.base, p.key, p.rc, fmt.Sprintf("%s-%d", p.run, i))
}
