package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/store/storetest"
)

// Reading the stream walks its index in order: a sort would sort everything
// after the cursor for every batch (on PostgreSQL, once, because ORDER BY tx
// named the output column tx::text::bigint, not the indexed xid8).
func TestStreamReadsInIndexOrder(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			plans, err := e.Open(t).StreamPlans(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, plan := range plans {
				if strings.Contains(plan, "Sort") || strings.Contains(plan, "TEMP B-TREE") {
					t.Errorf("the stream is sorted, not read in order:\n%s", plan)
				}
			}
		})
	}
}
