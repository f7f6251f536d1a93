package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/beaconplg/beacon/internal/score"
)

// beacon train on the demo world: below seed 004's 1,000 conversions it
// trains nothing and says so, exiting well; with the gate lowered it
// trains, validates on later cut-offs and names its strongest features,
// and writes a model: section that a rules file with a propensity rule
// compiles with.
func TestTrainCommand(t *testing.T) {
	dir := t.TempDir()
	driverWorlds.copyTo(t, 300, dir)
	db := filepath.Join(dir, "beacon.db")
	out, err := beacon(t, "train", "--db", db)
	if err != nil || !strings.Contains(out, "no model: too few conversions") || !strings.Contains(out, "fewer than the 1000 seed 004 asks") {
		t.Fatalf("below 1,000 conversions: %v\n%s", err, out)
	}
	file := filepath.Join(dir, "model.yaml")
	out, err = beacon(t, "train", "--db", db, "--min-conversions", "10", "--out", file)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The model written reads back under scoring:, and rules read it.
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var section struct {
		Model score.ModelSpec `yaml:"model"`
	}
	if err := yaml.Unmarshal(src, &section); err != nil || len(section.Model.Features) == 0 || !strings.HasPrefix(string(src), "# Trained by beacon train") {
		t.Fatalf("%v\n%s", err, src)
	}
	sp, err := score.Preset("pql-150")
	if err != nil {
		t.Fatal(err)
	}
	sp.Model = &section.Model
	sp.Scorecards[0].Rules = append(sp.Scorecards[0].Rules, score.RuleSpec{Name: "likely", Label: "Likely to pay", When: "propensity >= 0.4", Points: 20})
	if _, err := score.Compile(*sp); err != nil {
		t.Fatalf("the preset with the model written: %v", err)
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
