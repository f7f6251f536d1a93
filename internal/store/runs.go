package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/klauspost/compress/s2"
)

// SQLite's event log keeps events in runs: consecutive events in one row,
// their columns encoded one after another and compressed together. A row an
// event cost the one writer about 8 µs of CPU an event, nearly all of it
// SQLite's work per row and per byte, where a run costs it a row per couple
// of hundred events and a fifth of the bytes; the events of a batch share
// most of their text (library, user agent, page, property names), so s2
// compresses a run about 5 to 1 (docs/benchmarks.md).

// runFormat is the first byte of a run's data: the s2 block of the events
// encoded as appendRun writes them.
const runFormat = 1

// A run holds at most runEvents events and, unless one event alone is
// larger, runBytes of them encoded: a timeline reads a whole run for each
// event it shows.
const (
	runEvents = 256
	runBytes  = 256 << 10
)

var errBadRun = errors.New("malformed run")

// encodeRun encodes and compresses rows as one run's data.
func encodeRun(rows []eventRow) []byte {
	size := 0
	for i := range rows {
		size += runSize(&rows[i]) + maxRunOverhead
	}
	raw := make([]byte, 0, size)
	for i := range rows {
		raw = appendRun(raw, &rows[i])
	}
	out := make([]byte, 1+s2.MaxEncodedLen(len(raw)))
	out[0] = runFormat
	return out[:1+len(s2.Encode(out[1:], raw))]
}

// appendRun appends one event: its seven ids and names, its times, its
// body.
func appendRun(b []byte, r *eventRow) []byte {
	for _, s := range [...]string{r.messageID, r.typ, r.name, r.userID, r.anonymousID, r.groupID, r.previousID} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, r.ts)
	b = binary.AppendVarint(b, r.receivedAt)
	b = appendNull(b, r.originalTS)
	b = appendNull(b, r.sentAt)
	return appendString(b, r.body)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendNull writes 0 for NULL, else 1 and the value.
func appendNull(b []byte, v sql.NullInt64) []byte {
	if !v.Valid {
		return append(b, 0)
	}
	return binary.AppendVarint(append(b, 1), v.Int64)
}

// maxRunOverhead is the most appendRun adds to an event's strings: eight
// lengths, four times and two null flags.
const maxRunOverhead = 8*binary.MaxVarintLen64 + 4*binary.MaxVarintLen64 + 2

// runSize is the size appendRun gives r, less its lengths and times: what
// cutting rows into runs counts.
func runSize(r *eventRow) int {
	return len(r.messageID) + len(r.typ) + len(r.name) + len(r.userID) + len(r.anonymousID) +
		len(r.groupID) + len(r.previousID) + len(r.body)
}

// cutRuns cuts rows into runs of at most runEvents and runBytes.
func cutRuns(rows []eventRow) [][]eventRow {
	var runs [][]eventRow
	for len(rows) > 0 {
		n, size := 0, 0
		for n < len(rows) && n < runEvents {
			size += runSize(&rows[n])
			if n > 0 && size > runBytes {
				break
			}
			n++
		}
		runs = append(runs, rows[:n])
		rows = rows[n:]
	}
	return runs
}

// insertRuns writes rows, consecutive events after seq *last, as runs
// through stmt (last_seq, n, data), and moves *last to the last of them.
func insertRuns(ctx context.Context, stmt *sql.Stmt, rows []eventRow, last *int64) error {
	for _, run := range cutRuns(rows) {
		*last += int64(len(run))
		if _, err := stmt.ExecContext(ctx, *last, len(run), encodeRun(run)); err != nil {
			return err
		}
	}
	return nil
}

// decodeRun decodes a run of n events. Their strings share one copy of
// the run's text.
func decodeRun(data []byte, n int) ([]eventRow, error) {
	if len(data) == 0 || data[0] != runFormat {
		return nil, fmt.Errorf("%w: format %v, want %d", errBadRun, data[:min(len(data), 1)], runFormat)
	}
	size, err := s2.DecodedLen(data[1:])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadRun, err)
	}
	// Every event takes at least eleven bytes: seven lengths, two times,
	// two null flags and its body's length.
	if n < 0 || size < 11*n || size > 1<<30 {
		return nil, fmt.Errorf("%w: %d bytes for %d events", errBadRun, size, n)
	}
	raw, err := s2.Decode(make([]byte, size), data[1:])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadRun, err)
	}
	d := runDecoder{s: string(raw)}
	rows := make([]eventRow, n)
	for i := range rows {
		d.row(&rows[i])
	}
	if d.err != nil || d.at != len(d.s) {
		return nil, fmt.Errorf("%w: %d events do not fill its %d bytes", errBadRun, n, size)
	}
	return rows, nil
}

// runDecoder reads what appendRun wrote; the first fault stops it.
type runDecoder struct {
	s   string
	at  int
	err error
}

func (d *runDecoder) row(r *eventRow) {
	for _, s := range [...]*string{&r.messageID, &r.typ, &r.name, &r.userID, &r.anonymousID, &r.groupID, &r.previousID} {
		*s = d.string()
	}
	r.ts, r.receivedAt = d.varint(), d.varint()
	r.originalTS, r.sentAt = d.null(), d.null()
	r.body = d.string()
}

func (d *runDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, k := uvarintString(d.s[d.at:])
	if k <= 0 {
		d.err = errBadRun
		return 0
	}
	d.at += k
	return v
}

func (d *runDecoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *runDecoder) string() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.s)-d.at) {
		d.err = errBadRun
		return ""
	}
	s := d.s[d.at : d.at+int(n)]
	d.at += int(n)
	return s
}

func (d *runDecoder) null() sql.NullInt64 {
	if d.err != nil || d.at >= len(d.s) {
		d.err = errBadRun
		return sql.NullInt64{}
	}
	flag := d.s[d.at]
	d.at++
	switch flag {
	case 0:
		return sql.NullInt64{}
	case 1:
		return sql.NullInt64{Int64: d.varint(), Valid: true}
	}
	d.err = errBadRun
	return sql.NullInt64{}
}

// uvarintString is binary.Uvarint over a string, without copying it.
func uvarintString(s string) (uint64, int) {
	var v uint64
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -1
			}
			return v | uint64(c)<<(7*i), i + 1
		}
		v |= uint64(c&0x7f) << (7 * i)
	}
	return 0, 0
}
