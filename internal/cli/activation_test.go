package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// beacon activation on the demo world: retained and churned users counted,
// the milestones ranked, the best proposed, and each weekly cohort of new
// users followed to it; a bad --within is refused, naming it.
func TestActivationCommand(t *testing.T) {
	dir := t.TempDir()
	demoWorlds.copyTo(t, 300, dir)
	db := filepath.Join(dir, "beacon.db")
	out, err := beacon(t, "activation", "--db", db)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"retained at day 30", "churned; their first 7 days compared", "proposed activation milestone: ",
		"by weekly cohort of new users", "week of"} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q in:\n%s", want, out)
		}
	}
	if out, err := beacon(t, "activation", "--db", db, "--within", "7"); err == nil || !strings.Contains(out+err.Error(), `--within "7"`) {
		t.Errorf("--within 7: %v\n%s", err, out)
	}
	if out, err := beacon(t, "activation", "--db", db, "--within", "40d"); err == nil || !strings.Contains(out+err.Error(), "within 40d: want 1 to 30 days") {
		t.Errorf("--within 40d: %v\n%s", err, out)
	}
}
