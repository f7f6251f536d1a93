package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/config"
	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/sim"
	"github.com/beaconplg/beacon/internal/store"
)

// beacon demo's loading: the simulated world ends up in a store that serves
// it, with working keys, every user resolved.
func TestDemoLoads(t *testing.T) {
	var out bytes.Buffer
	a := &app{stdout: &out, stderr: io.Discard, cfg: config.Default()}
	a.log = newLogger(a.cfg.Log, io.Discard)
	p := sim.DefaultParams()
	p.Accounts, p.Days = 150, 45
	dir := t.TempDir()
	db, secrets, err := a.loadDemo(context.Background(), p, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	s, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Events == 0 || s.Users == 0 || s.Unresolved != 0 || s.Accounts["group"] != int64(p.Accounts) || s.Accounts["crm"] == 0 {
		t.Fatalf("stats %+v", s)
	}
	checker := keys.NewChecker(db)
	if checker.Check(ctx, secrets.writeKey, store.WriteKey) != nil || checker.Check(ctx, secrets.adminToken, store.AdminKey) != nil {
		t.Fatal("the printed keys do not work")
	}
	a.printDemo(&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, secrets, dir, 0)
	for _, want := range []string{"http://localhost:8080", secrets.writeKey, secrets.adminToken, "/api/v1/stats",
		"/api/v1/accounts?tier=hot", "/api/v1/accounts/ws-00001/score"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
