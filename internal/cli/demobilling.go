package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/sim"
	"github.com/beaconplg/beacon/internal/store"
)

// demoBilling sends the demo world's billing events through the path
// Stripe's webhooks take, each signed with a secret made for the demo, and
// configures the demo's server to receive more with it.
func (a *app) demoBilling(ctx context.Context, db *store.DB, world string) (secret string, err error) {
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	secret = "whsec_demo_" + hex.EncodeToString(raw)
	cfg := billing.StripeConfig{WebhookSecret: secret}
	a.cfg.Billing = &billing.Config{Stripe: &cfg}
	mux := http.NewServeMux()
	billing.NewStripe(cfg, billing.Deps{Store: db, Errors: httpjson.NewErrors(a.log), Log: a.log}).Register(mux)

	f, err := os.Open(filepath.Join(world, sim.BillingFile))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, billing.MaxBody)
	for n := 1; sc.Scan(); n++ {
		body := sc.Bytes()
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/billing/stripe", bytes.NewReader(body))
		req.Header.Set("Stripe-Signature", webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret}).Header)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return "", fmt.Errorf("%s line %d: the Stripe webhook answered %d: %s", sim.BillingFile, n, rec.Code, rec.Body.String())
		}
	}
	return secret, sc.Err()
}
