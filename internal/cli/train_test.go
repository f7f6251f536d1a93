package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// beacon train on the demo world: below seed 004's 1,000 conversions it
// trains nothing and says so, exiting well; with the gate lowered it
// trains, validates on later cut-offs and names its strongest features.
func TestTrainCommand(t *testing.T) {
	dir := t.TempDir()
	driverWorlds.copyTo(t, 300, dir)
	db := filepath.Join(dir, "beacon.db")
	out, err := beacon(t, "train", "--db", db)
	if err != nil || !strings.Contains(out, "no model: too few conversions") || !strings.Contains(out, "fewer than the 1000 seed 004 asks") {
		t.Fatalf("below 1,000 conversions: %v\n%s", err, out)
	}
	out, err = beacon(t, "train", "--db", db, "--min-conversions", "10")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"validated on", "AUC", "calibration on the later cut-offs", "strongest features", "most likely to pay"} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q in:\n%s", want, out)
		}
	}
	if out, err := beacon(t, "train", "--db", db, "--min-conversions", "0"); err == nil || !strings.Contains(out+err.Error(), "--min-conversions 0") {
		t.Errorf("--min-conversions 0: %v\n%s", err, out)
	}
}
