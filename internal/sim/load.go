package sim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

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
	return sum, ids.SyncAtLeast(ctx, sum.Accepted)
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
