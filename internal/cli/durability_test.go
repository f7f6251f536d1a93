package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// beaconProcess runs `beacon serve` as a real child process, with extra
// arguments if given.
func beaconProcess(t *testing.T, dsn string, extra ...string) (*exec.Cmd, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BEACON_TEST_ARGS="+strings.Join(
		append([]string{"serve", "--db", dsn, "--addr", addr, "--log-level", "error"}, extra...), "\x1f"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	url := "http://" + addr
	for deadline := time.Now().Add(storetest.HangGuard); ; {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd, url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("beacon serve did not become ready: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A 2xx means committed: kill -9 while clients are posting, and every
// acknowledged event is in the store after a restart.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			dsn := e.DSN(t)
			setup, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			if err := setup.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			key := createKey(t, setup, false)
			setup.Close()

			cmd, url := beaconProcess(t, dsn)
			var mu sync.Mutex
			var acked []string
			var wg sync.WaitGroup
			stop := make(chan struct{})
			for c := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					client := &http.Client{Timeout: 5 * time.Second}
					for b := 0; ; b++ {
						select {
						case <-stop:
							return
						default:
						}
						ids := make([]string, 50)
						msgs := make([]string, 50)
						for i := range ids {
							ids[i] = fmt.Sprintf("c%d-b%d-%d", c, b, i)
							msgs[i] = fmt.Sprintf(`{"type":"track","messageId":%q,"userId":"u%d","event":"Report Viewed"}`, ids[i], i)
						}
						req, _ := http.NewRequest(http.MethodPost, url+"/v1/batch", strings.NewReader(`{"batch":[`+strings.Join(msgs, ",")+`]}`))
						req.SetBasicAuth(key, "")
						resp, err := client.Do(req)
						if err != nil {
							return // the server is gone
						}
						resp.Body.Close()
						if resp.StatusCode == 200 {
							mu.Lock()
							acked = append(acked, ids...)
							mu.Unlock()
						}
					}
				}()
			}
			// Let traffic flow, then kill without warning mid-stream.
			for {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n >= 3000 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_, _ = cmd.Process.Wait()
			close(stop)
			wg.Wait()

			// A restart recovers the store and serves again.
			beaconProcess(t, dsn)
			db, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			seen := waitEvents(t, db, len(acked))
			missing := 0
			for _, id := range acked {
				if seen[id] != 1 {
					missing++
				}
			}
			if missing > 0 {
				t.Fatalf("%d of %d acknowledged events lost or duplicated after kill -9", missing, len(acked))
			}
			t.Logf("%d acknowledged events, all stored once (%d stored in all)", len(acked), len(seen))
		})
	}
}
