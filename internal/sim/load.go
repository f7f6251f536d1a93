package sim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/importer"
)

// Sink stores a world's events.
type Sink interface {
	importer.Sink
	Optimize(ctx context.Context) error
}

// Load imports a simulated world from dir, events and CRM accounts, the way
// `beacon import` does, and resolves identities: what `beacon demo` and the
// tests that need a world in a store do.
func Load(ctx context.Context, dir string, sink Sink, ids *identity.Service) (importer.Summary, error) {
	f, err := os.Open(filepath.Join(dir, EventsFile))
	if err != nil {
		return importer.Summary{}, err
	}
	defer f.Close()
	r, err := importer.MaybeGunzip(f)
	if err != nil {
		return importer.Summary{}, err
	}
	sum, err := importer.JSONLines(ctx, r, sink)
	if err != nil {
		return sum, err
	}
	if sum.Rejected > 0 {
		return sum, fmt.Errorf("%s: %d events rejected", EventsFile, sum.Rejected)
	}
	if err := sink.Optimize(ctx); err != nil {
		return sum, err
	}
	crm, err := os.Open(filepath.Join(dir, CRMFile))
	if err != nil {
		return sum, err
	}
	defer crm.Close()
	rows, _, err := importer.Accounts(crm)
	if err != nil {
		return sum, err
	}
	if err := ids.ImportCRM(ctx, rows); err != nil {
		return sum, err
	}
	return sum, resolveAll(ctx, ids, sum.Accepted)
}

// resolveAll has identity take at least n events. On PostgreSQL the stream
// holds events back while an older transaction anywhere on the server is
// open, so one pass may take none of them: it waits for that to end.
func resolveAll(ctx context.Context, ids *identity.Service, n int) error {
	for taken := 0; ; {
		got, err := ids.Sync(ctx)
		if taken += got; err != nil || taken >= n {
			return err
		}
		if got == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// LoadBilling imports a simulated world's billing events from dir, the way
// `beacon import --billing` does: for tests that follow revenue.
func LoadBilling(ctx context.Context, dir string, sink importer.BillingSink) error {
	f, err := os.Open(filepath.Join(dir, BillingFile))
	if err != nil {
		return err
	}
	defer f.Close()
	sum, err := importer.BillingLines(ctx, f, sink)
	if err == nil && sum.Rejected > 0 {
		err = fmt.Errorf("%s: %d billing events rejected", BillingFile, sum.Rejected)
	}
	return err
}
