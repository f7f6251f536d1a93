package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// kill -9 while deliveries are in flight: after a restart every one of them
// arrives, signed, with the id it had before (at least once; receivers drop
// the repeat by it), and the outbox says delivered.
func TestKill9MidDeliveryLosesNothing(t *testing.T) {
	secret, err := route.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("BEACON_TEST_KILL_SECRET", secret)
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			const alerts = 20
			var mu sync.Mutex
			hang := true
			firstSeen := make(chan struct{}, 1)
			ids := map[string]int{} // webhook-id → requests answered 2xx
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if err := wh.Verify(body, r.Header); err != nil {
					t.Errorf("unverified delivery: %v", err)
				}
				mu.Lock()
				hanging := hang
				mu.Unlock()
				if hanging {
					select {
					case firstSeen <- struct{}{}:
					default:
					}
					<-r.Context().Done() // until the sender dies
					return
				}
				mu.Lock()
				ids[r.Header.Get("webhook-id")]++
				mu.Unlock()
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()

			dsn := e.DSN(t)
			db, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			var batch store.ScoreBatch
			for i := range alerts {
				batch.Alerts = append(batch.Alerts, store.Alert{Scorecard: "pql", Subject: fmt.Sprint("account:k", i),
					Tier: "hot", Payload: []byte(fmt.Sprintf(`{"account":{"id":"k%d"},"tier":"hot"}`, i)), CreatedAt: now,
					Destinations: []string{"hook"}})
			}
			if err := db.SaveScores(context.Background(), batch); err != nil {
				t.Fatal(err)
			}
			conf := filepath.Join(t.TempDir(), "beacon.yaml")
			yaml := fmt.Sprintf("destinations:\n  - {name: hook, type: webhook, url: %q, secret_env: BEACON_TEST_KILL_SECRET, timeout: 1s}\n", srv.URL)
			if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}

			cmd, _ := beaconProcess(t, dsn, "--config", conf)
			select {
			case <-firstSeen:
			case <-time.After(storetest.HangGuard):
				t.Fatal("no delivery attempt")
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_, _ = cmd.Process.Wait()
			mu.Lock()
			hang = false
			mu.Unlock()

			restarted := time.Now()
			beaconProcess(t, dsn, "--config", conf)
			t.Logf("restarted in %s", time.Since(restarted))
			deadline := time.Now().Add(storetest.HangGuard)
			for {
				ds, err := db.ListDeliveries(context.Background(), store.DeliveryQuery{State: store.Delivered, Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				if len(ds) == alerts {
					t.Logf("all delivered %s after the restart", time.Since(restarted))
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d delivered a minute after the restart", len(ds), alerts)
				}
				time.Sleep(100 * time.Millisecond)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(ids) != alerts {
				t.Fatalf("%d distinct deliveries received, want %d: %v", len(ids), alerts, ids)
			}
		})
	}
}
