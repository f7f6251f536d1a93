// Package importer owns bulk loading: Segment-format JSON lines (plain or
// gzip) and CSV with a column mapping into events, and CRM account exports into
// CRM accounts. Imports are idempotent on messageId, report every refused row
// by line and reason, and keep every valid row.
package importer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/beaconplg/beacon/internal/event"
)

// Sink commits events and returns how many were new.
type Sink interface {
	AppendEvents(ctx context.Context, evs []event.Event) (int, error)
}

// Summary is what an import did.
type Summary struct {
	Rows       int
	Accepted   int // new events stored
	Duplicates int // already stored (same messageId)
	Rejected   int
	Reasons    map[string]int // rejected rows by reason
	Examples   []RowError     // the first rejected rows
}

// RowError says why one row was refused.
type RowError struct {
	Line   int
	Reason string
	Detail string
}

func (e RowError) String() string { return fmt.Sprintf("line %d: %s", e.Line, e.Detail) }

const (
	batchSize   = 1000
	maxExamples = 20
)

func (s *Summary) reject(line int, reason, detail string) {
	s.Rejected++
	if s.Reasons == nil {
		s.Reasons = map[string]int{}
	}
	s.Reasons[reason]++
	if len(s.Examples) < maxExamples {
		s.Examples = append(s.Examples, RowError{Line: line, Reason: reason, Detail: detail})
	}
}

// Report writes the summary for people.
func (s Summary) Report(w io.Writer) {
	fmt.Fprintf(w, "%d rows: %d accepted, %d already stored, %d rejected\n", s.Rows, s.Accepted, s.Duplicates, s.Rejected)
	for _, r := range slices.Sorted(maps.Keys(s.Reasons)) {
		fmt.Fprintf(w, "  %-20s %d\n", r, s.Reasons[r])
	}
	for _, e := range s.Examples {
		fmt.Fprintf(w, "  %s\n", e)
	}
	if s.Rejected > len(s.Examples) {
		fmt.Fprintf(w, "  … and %d more\n", s.Rejected-len(s.Examples))
	}
}

// MaybeGunzip returns r decompressed when it starts with the gzip magic bytes.
func MaybeGunzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		return gzip.NewReader(br)
	}
	return br, nil
}

// loader batches decoded events into the sink.
type loader struct {
	ctx     context.Context
	sink    Sink
	now     time.Time
	pending []event.Event
	sum     Summary
}

func (l *loader) add(line int, raw []byte) error {
	l.sum.Rows++
	e, _, err := event.Decode(raw, "", event.Envelope{ReceivedAt: l.now})
	if err != nil {
		field := ""
		if err.Field != "" {
			field = " (" + err.Field + ")"
		}
		l.sum.reject(line, err.Kind, err.Message+field)
		return nil
	}
	l.pending = append(l.pending, e)
	if len(l.pending) >= batchSize {
		return l.flush()
	}
	return nil
}

func (l *loader) flush() error {
	if len(l.pending) == 0 {
		return nil
	}
	n, err := l.sink.AppendEvents(l.ctx, l.pending)
	if err != nil {
		return err
	}
	l.sum.Accepted += n
	l.sum.Duplicates += len(l.pending) - n
	l.pending = l.pending[:0]
	return nil
}

// JSONLines imports one Segment message per line. A line over the message
// limit is refused like any invalid message, and the import goes on.
func JSONLines(ctx context.Context, r io.Reader, sink Sink) (Summary, error) {
	l := &loader{ctx: ctx, sink: sink, now: time.Now().UTC()}
	err := eachLine(r, 2*event.MaxMessageBytes, func(line int) {
		l.sum.Rows++
		l.sum.reject(line, event.KindTooLarge, fmt.Sprintf("line is over the %d-byte message limit", event.MaxMessageBytes))
	}, func(line int, raw []byte) error { return l.add(line, bytes.Clone(raw)) })
	if err != nil {
		return l.sum, err
	}
	return l.sum, l.flush()
}

// eachLine calls fn with each line of r that is not blank, its line ending
// cut; the bytes are r's until fn returns. A line longer than size is
// skipped, and tooLong told of it. fn's error ends the reading.
func eachLine(r io.Reader, size int, tooLong func(line int), fn func(line int, raw []byte) error) error {
	br := bufio.NewReaderSize(r, size)
	for line := 1; ; line++ {
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			tooLong(line)
		} else if len(bytes.TrimSpace(raw)) > 0 {
			if ferr := fn(line, bytes.TrimRight(raw, "\r\n")); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
}

// marshal builds a message for CSV rows.
func marshal(m map[string]any) []byte {
	b, _ := json.Marshal(m)
	return b
}
