package storetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"testing"
)

// Cluster is a PostgreSQL server of the test's own, which it may stop and
// start without troubling other tests on the shared server.
type Cluster struct {
	DSN      string
	bin, dir string
	port     int
	runAs    []string // the command prefix that runs as the postgres user
}

// NewCluster initialises and starts a cluster in a temporary directory, or
// skips the test, saying why, where it cannot: PostgreSQL's programs absent,
// or no postgres user to run them as root. It is stopped when the test ends.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Skip("no PostgreSQL programs under /usr/lib/postgresql to run a cluster of the test's own")
	}
	sort.Strings(bins)
	c := &Cluster{bin: filepath.Dir(bins[len(bins)-1])}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root without a postgres user to run a cluster as")
		}
		c.runAs = []string{"runuser", "-u", u.Username, "--"}
	}
	base, err := os.MkdirTemp("", "beacon-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	c.dir = filepath.Join(base, "data")
	if err := os.Chmod(base, 0o777); err != nil {
		t.Fatal(err)
	}
	c.port = freePort(t)
	if c.runAs != nil {
		if out, err := exec.Command("chown", "-R", "postgres", base).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
	}
	c.run(t, "initdb", "-D", c.dir, "-A", "trust", "-U", "postgres", "--no-sync")
	c.Start(t)
	t.Cleanup(func() { _ = c.cmd("pg_ctl", "-D", c.dir, "-m", "immediate", "stop").Run() })
	c.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	return c
}

// Start starts the cluster and waits until it takes connections.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	c.run(t, "pg_ctl", "-D", c.dir, "-w", "-l", filepath.Join(filepath.Dir(c.dir), "log"), "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, filepath.Dir(c.dir)), "start")
}

// Stop stops the cluster, ending every session at once (as a crash or a
// restart by an operator would), and waits until it is down.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	c.run(t, "pg_ctl", "-D", c.dir, "-w", "-m", "fast", "stop")
}

func (c *Cluster) cmd(name string, args ...string) *exec.Cmd {
	full := append(append([]string{}, c.runAs...), append([]string{filepath.Join(c.bin, name)}, args...)...)
	return exec.Command(full[0], full[1:]...)
}

func (c *Cluster) run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := c.cmd(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
