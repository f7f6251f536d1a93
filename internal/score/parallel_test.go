package score_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/beaconplg/beacon/internal/score"
)

func TestEachParallel(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			seen := make([]atomic.Int32, n)
			if err := score.EachParallel(n, func(i int) error { seen[i].Add(1); return nil }); err != nil {
				t.Fatal(err)
			}
			for i := range seen {
				if got := seen[i].Load(); got != 1 {
					t.Fatalf("index %d visited %d times", i, got)
				}
			}
		})
	}
	boom := errors.New("boom")
	err := score.EachParallel(1000, func(i int) error {
		if i == 700 {
			return fmt.Errorf("subject %d: %w", i, boom)
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error = %v, want the one index 700 returned", err)
	}
}
