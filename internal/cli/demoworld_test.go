package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/beaconplg/beacon/internal/sim"
)

// demoWorlds loads each size of demo world once per test process and
// hands out copies of its store: simulating and loading one takes seconds
// under the race detector, and half a dozen tests serve one.
var demoWorlds = &worldCache{worlds: map[int]*world{}, days: 45}

// driverWorlds are demo worlds with drivers (beacon demo --drivers 3),
// whose accounts pay during the world: for the calibration page.
var driverWorlds = &worldCache{worlds: map[int]*world{}, days: 75, drivers: 3}

type worldCache struct {
	root    string // made and removed by TestMain
	days    int
	drivers int
	mu      sync.Mutex
	worlds  map[int]*world
}

type world struct {
	once    sync.Once
	dir     string
	secrets demoSecrets
	err     error
}

// copyTo copies the store of a demo world of n accounts into dir, loading
// the world first if this process has not.
func (c *worldCache) copyTo(t *testing.T, n int, dir string) demoSecrets {
	t.Helper()
	w := c.world(n)
	w.once.Do(func() { w.dir, w.secrets, w.err = c.load(n) })
	if w.err != nil {
		t.Fatalf("demo world of %d accounts: %v", n, w.err)
	}
	files, err := filepath.Glob(filepath.Join(w.dir, "beacon.db*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "-shm") {
			continue // rebuilt from the log by the first to open it
		}
		b, err := os.ReadFile(f)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return w.secrets
}

func (c *worldCache) world(n int) *world {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.worlds[n] == nil {
		c.worlds[n] = &world{}
	}
	return c.worlds[n]
}

// load simulates and loads a world of n accounts into a directory of its
// own, and closes its store so that its files can be copied whole.
func (c *worldCache) load(n int) (string, demoSecrets, error) {
	dir, err := os.MkdirTemp(c.root, "world-")
	if err != nil {
		return "", demoSecrets{}, err
	}
	p := sim.DefaultParams()
	p.Accounts, p.Days, p.Drivers = n, c.days, c.drivers
	db, secrets, err := newTestApp().loadDemo(context.Background(), p, dir)
	if err != nil {
		return "", demoSecrets{}, err
	}
	return dir, secrets, db.Close()
}
