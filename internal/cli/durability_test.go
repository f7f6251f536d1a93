package cli

import (
	"context"
	"fmt"
	"maps"
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
			l := startLoad(url, key, 4, 50, true)
			// Let traffic flow, then kill without warning mid-stream.
			l.waitFor(t, "traffic", func(n int, _ map[int]int) bool { return n >= 3000 })
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_, _ = cmd.Process.Wait()
			acked, _ := l.end()

			// A restart recovers the store and serves again.
			beaconProcess(t, dsn)
			db, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			seen := waitEvents(t, db, len(acked))
			if missing := notOnce(seen, acked); missing > 0 {
				t.Fatalf("%d of %d acknowledged events lost or duplicated after kill -9", missing, len(acked))
			}
			t.Logf("%d acknowledged events, all stored once (%d stored in all)", len(acked), len(seen))
		})
	}
}

// load posts batches of track events to a server from several clients, and
// keeps what was acknowledged and every answer (0: no answer).
type load struct {
	mu    sync.Mutex
	acked []string
	codes map[int]int
	wg    sync.WaitGroup
	stop  chan struct{}
}

// startLoad starts clients posting batches of size; with untilGone a client
// stops at the first request without an answer (the server killed),
// otherwise it backs off a little and goes on.
func startLoad(url, key string, clients, size int, untilGone bool) *load {
	l := &load{codes: map[int]int{}, stop: make(chan struct{})}
	for c := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			for b := 0; ; b++ {
				select {
				case <-l.stop:
					return
				default:
				}
				ids, msgs := make([]string, size), make([]string, size)
				for i := range ids {
					ids[i] = fmt.Sprintf("c%d-b%d-%d", c, b, i)
					msgs[i] = fmt.Sprintf(`{"type":"track","messageId":%q,"userId":"u%d","event":"Report Viewed"}`, ids[i], i)
				}
				req, _ := http.NewRequest(http.MethodPost, url+"/v1/batch", strings.NewReader(`{"batch":[`+strings.Join(msgs, ",")+`]}`))
				req.SetBasicAuth(key, "")
				code := 0
				if resp, err := client.Do(req); err == nil {
					resp.Body.Close()
					code = resp.StatusCode
				}
				l.mu.Lock()
				l.codes[code]++
				if code == http.StatusOK {
					l.acked = append(l.acked, ids...)
				}
				l.mu.Unlock()
				if code == 0 && untilGone {
					return
				}
				if code != http.StatusOK {
					time.Sleep(10 * time.Millisecond) // as a client backs off
				}
			}
		}()
	}
	return l
}

// count returns how many events were acknowledged and the answers so far.
func (l *load) count() (int, map[int]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked), maps.Clone(l.codes)
}

// waitFor waits until ok holds of the counts.
func (l *load) waitFor(t *testing.T, what string, ok func(acked int, codes map[int]int) bool) {
	t.Helper()
	for deadline := time.Now().Add(storetest.HangGuard); ; time.Sleep(5 * time.Millisecond) {
		if n, c := l.count(); ok(n, c) {
			return
		}
		if time.Now().After(deadline) {
			n, c := l.count()
			t.Fatalf("%s: %d acknowledged, answers %v", what, n, c)
		}
	}
}

// end stops the clients and returns what was acknowledged and answered.
func (l *load) end() ([]string, map[int]int) {
	close(l.stop)
	l.wg.Wait()
	return l.acked, l.codes
}

// notOnce counts the acknowledged events not stored exactly once.
func notOnce(seen map[string]int, acked []string) int {
	bad := 0
	for _, id := range acked {
		if seen[id] != 1 {
			bad++
		}
	}
	return bad
}
