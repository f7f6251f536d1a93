package importer_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/importer"
	"github.com/beaconplg/beacon/internal/sim"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// The demo world's billing loads as the webhook stores it: every event
// once, a second load adding nothing; a line that is not an event is
// rejected with its number and reason, and the others still load.
func TestBillingLines(t *testing.T) {
	p := sim.DefaultParams()
	p.Accounts, p.Days = 200, 60
	dir := t.TempDir()
	if _, err := p.Simulate(dir); err != nil {
		t.Fatal(err)
	}
	world, err := os.ReadFile(filepath.Join(dir, sim.BillingFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Count(world, []byte("\n"))
	if lines == 0 {
		t.Fatal("the world has no billing")
	}
	ctx := context.Background()
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			db := eng.Open(t)
			first, err := importer.BillingLines(ctx, bytes.NewReader(world), db)
			if err != nil || first.Rows != lines || first.Accepted != lines || first.Rejected != 0 {
				t.Fatalf("first load: %+v, %v; %d lines", first, err, lines)
			}
			bad := `{"id":"evt_x","object":"event","created":1}` + "\n" + "{not json\n" +
				`{"id":"evt_big","object":"event","type":"x","created":1,"pad":"` + strings.Repeat("a", 1<<20) + `"}` + "\n"
			again, err := importer.BillingLines(ctx, strings.NewReader(bad+string(world)), db)
			if err != nil || again.Rows != lines+3 || again.Accepted != 0 || again.Duplicates != lines || again.Rejected != 3 {
				t.Fatalf("second load: %+v, %v", again, err)
			}
			var why []string
			for _, e := range again.Examples {
				why = append(why, e.String())
			}
			for _, want := range []string{"line 1: type: the event has no type", "line 2: body: the event is not JSON", "line 3: line is over the 1048576-byte event limit"} {
				if !strings.Contains(strings.Join(why, "\n"), want) {
					t.Errorf("rejections %q lack %q", why, want)
				}
			}
			stored, err := db.BillingEvents(ctx, lines+10)
			if err != nil || len(stored) != lines {
				t.Fatalf("%d stored (%v), want %d", len(stored), err, lines)
			}
			for _, e := range stored {
				if e.Customer == "" || !strings.HasPrefix(e.ID, "evt_") {
					t.Fatalf("stored without its customer or id: %+v", e)
				}
			}
		})
	}
}
