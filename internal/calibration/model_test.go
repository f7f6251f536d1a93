package calibration_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/calibration"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// A model beside the rules: below seed 004's 1,000 conversions none is
// trained, and the refusal says so. With the gate lowered, on a world whose
// conversions three behaviours drive, a model of discovery's candidates
// trained on the earlier cut-offs ranks the later ones' payers
// above the others (AUC well over a coin's 0.5), its top tenth pays more
// often than its bottom tenth, and each top account comes with the
// features that move its prediction most.
func TestModel(t *testing.T) {
	w := driversWorld(t, 7, 400)
	db := storetest.SQLite(t)
	rules := preset(t, "pql-150")
	ev := w.load(t, db, rules)
	o := calibration.DefaultModelOptions()
	if _, err := ev.TrainModel(o); !errors.Is(err, calibration.ErrTooFewConversions) ||
		!strings.Contains(err.Error(), "fewer than the 1000 seed 004 asks") || !strings.Contains(err.Error(), "stay with the rules") {
		t.Fatalf("below 1,000 conversions: %v; want a refusal that says so", err)
	}
	o.MinConversions = 10
	m, err := ev.TrainModel(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d conversions; trained on %d account-days (%d paid) to %s, validated on %d (%d paid): AUC %.3f",
		m.Conversions, m.TrainSamples, m.TrainPaid, m.TrainUntil, m.ValidSamples, m.ValidPaid, m.AUC)
	for _, d := range m.Deciles {
		t.Logf("predicted %.3f, observed %.3f of %d", d.Predicted, d.Observed, d.N)
	}
	if m.TrainPaid == 0 || m.ValidPaid == 0 || len(m.Features) == 0 {
		t.Fatalf("nothing to learn or to check: %+v", m)
	}
	if math.IsNaN(m.AUC) || m.AUC < 0.6 {
		t.Errorf("AUC %.3f on the later cut-offs: want above 0.6", m.AUC)
	}
	if len(m.Deciles) != 10 || m.Deciles[9].Observed <= m.Deciles[0].Observed || m.Deciles[9].Predicted <= m.Deciles[0].Predicted {
		t.Errorf("deciles %+v: the top tenth should pay more often than the bottom", m.Deciles)
	}
	if len(m.Top) == 0 || len(m.Top[0].Reasons) == 0 || m.Top[0].Probability < m.Top[len(m.Top)-1].Probability {
		t.Errorf("top accounts %+v", m.Top)
	}
}
