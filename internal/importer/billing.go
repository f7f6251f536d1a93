package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/store"
)

// BillingSink stores billing events, each once.
type BillingSink interface {
	AddBillingEvent(ctx context.Context, e store.BillingEvent) (bool, error)
}

// BillingLines loads Stripe events, one JSON object a line (an export of
// Stripe's events, or the demo world's billing.jsonl), as the webhook
// stores them: each once by id. A line that is not an event is rejected
// with its number and reason, and the rest are loaded.
func BillingLines(ctx context.Context, r io.Reader, sink BillingSink) (Summary, error) {
	var sum Summary
	now := time.Now().UTC()
	tooLong := func(line int) {
		sum.Rows++
		sum.reject(line, "too_large", fmt.Sprintf("line is over the %d-byte event limit", billing.MaxBody))
	}
	err := eachLine(r, 2*billing.MaxBody, tooLong, func(line int, raw []byte) error {
		if raw = bytes.TrimSpace(raw); len(raw) > billing.MaxBody {
			tooLong(line)
			return nil
		}
		sum.Rows++
		return addBilling(ctx, sink, &sum, line, raw, now)
	})
	return sum, err
}

// addBilling stores one line's event; only the store's failure is an
// error, a line that is not an event is counted as rejected.
func addBilling(ctx context.Context, sink BillingSink, sum *Summary, line int, raw []byte, now time.Time) error {
	e, err := billing.ParseEvent(bytes.Clone(raw), now)
	var bad *httpjson.Problem
	if errors.As(err, &bad) {
		sum.reject(line, bad.Code, bad.Field+": "+bad.Message)
		return nil
	}
	if err != nil {
		return err
	}
	isNew, err := sink.AddBillingEvent(ctx, e)
	if err != nil {
		return fmt.Errorf("line %d: %w", line, err)
	}
	if isNew {
		sum.Accepted++
	} else {
		sum.Duplicates++
	}
	return nil
}
