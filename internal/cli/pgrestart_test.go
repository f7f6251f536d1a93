package cli

import (
	"context"
	"net/http"
	"testing"

	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// PostgreSQL stopped under load and started again: while it is down the
// collector answers 503 (never a 200, never a 500) and /readyz is not
// ready; once it is back the collector takes events again by itself, and
// every event it acknowledged is stored exactly once.
func TestPostgresRestartUnderLoad(t *testing.T) {
	cluster := storetest.NewCluster(t)
	setup := storetest.OpenDSN(t, cluster.DSN)
	key := createKey(t, setup, false)
	_, url := beaconProcess(t, cluster.DSN)

	l := startLoad(url, key, 4, 20, false)
	l.waitFor(t, "traffic before the stop", func(n int, _ map[int]int) bool { return n >= 1000 })
	setup.Close()
	cluster.Stop(t)
	_, before := l.count()
	l.waitFor(t, "503s while PostgreSQL is down", func(_ int, c map[int]int) bool { return c[503] > before[503]+3 })
	if code := httpGet(t, url+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while PostgreSQL is down: %d", code)
	}
	cluster.Start(t)
	n0, _ := l.count()
	l.waitFor(t, "traffic once PostgreSQL is back", func(n int, _ map[int]int) bool { return n >= n0+1000 })
	acked, final := l.end()
	for code, n := range final {
		if code != http.StatusOK && code != http.StatusServiceUnavailable {
			t.Errorf("%d answers %d: only 200 and 503 are right around a restart", n, code)
		}
	}

	db, err := store.Open(context.Background(), cluster.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seen := waitEvents(t, db, len(acked))
	if bad := notOnce(seen, acked); bad > 0 {
		t.Fatalf("%d of %d acknowledged events lost or duplicated across the restart", bad, len(acked))
	}
	t.Logf("%d acknowledged, all stored once; answers %v", len(acked), final)
}

func httpGet(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
