package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sampleRun() []eventRow {
	return []eventRow{
		{},
		{messageID: "m-1", typ: "track", name: "Report Viewed", userID: "u-1", anonymousID: "a-1", groupID: "ws-1",
			previousID: "p", ts: 1764000000123, receivedAt: 1764000000456,
			originalTS: sql.NullInt64{Int64: 1764000000100, Valid: true}, sentAt: sql.NullInt64{Int64: -5, Valid: true},
			body: `{"type":"track","properties":{"plan":"team"}}`},
		{messageID: "m-2", typ: "identify", userID: "ü-ß", ts: -86400000, receivedAt: 1,
			body: `{"traits":{"name":"Zoë \u00e9"},"x":"` + strings.Repeat("y", 70000) + `"}`},
	}
}

func TestRunRoundTrip(t *testing.T) {
	cases := map[string][]eventRow{
		"one empty event":  {{}},
		"mixed events":     sampleRun(),
		"a full run":       make([]eventRow, runEvents),
		"no events at all": nil,
	}
	for name, rows := range cases {
		got, err := decodeRun(encodeRun(rows), len(rows))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(rows) || (len(rows) > 0 && !reflect.DeepEqual(got, rows)) {
			t.Errorf("%s: decoded %+v, want %+v", name, got, rows)
		}
	}
}

// Events of a batch share most of their text: a run is a fraction of the
// bytes it holds.
func TestRunCompresses(t *testing.T) {
	rows := make([]eventRow, 100)
	size := 0
	for i := range rows {
		rows[i] = eventRow{messageID: fmt.Sprintf("8c1f6a2e-1b1d-4c59-9a57-%012d", i), typ: "track", name: "Report Viewed",
			userID: fmt.Sprintf("user-%d", i), ts: int64(1764000000000 + i),
			body: fmt.Sprintf(`{"type":"track","userId":"user-%d","context":{"library":{"name":"analytics.js","version":"2.11.1"},"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36"}}`, i)}
		size += runSize(&rows[i])
	}
	if got := len(encodeRun(rows)); got*3 > size {
		t.Errorf("a run of %d bytes of events takes %d bytes, want under a third", size, got)
	}
}

func TestDecodeRunRefuses(t *testing.T) {
	good := encodeRun(sampleRun())
	cases := []struct {
		name string
		data []byte
		n    int
	}{
		{"no data", nil, 1},
		{"another format", append([]byte{runFormat + 1}, good[1:]...), 3},
		{"cut short", good[:len(good)-5], 3},
		{"more events than it holds", good, 4},
		{"fewer events than it holds", good, 2},
		{"not compressed", append([]byte{runFormat}, "plain text"...), 1},
		{"a negative count", good, -1},
	}
	for _, c := range cases {
		if _, err := decodeRun(c.data, c.n); !errors.Is(err, errBadRun) {
			t.Errorf("%s: err = %v, want a malformed run", c.name, err)
		}
	}
}

func TestCutRuns(t *testing.T) {
	small := make([]eventRow, 600)
	large := make([]eventRow, 5)
	for i := range large {
		large[i].body = strings.Repeat("x", 100<<10)
	}
	huge := []eventRow{{body: strings.Repeat("x", runBytes+1)}, {}}
	cases := []struct {
		name string
		rows []eventRow
		want []int
	}{
		{"by count", small, []int{256, 256, 88}},
		{"by bytes", large, []int{2, 2, 1}},
		{"one event over the bytes goes alone", huge, []int{1, 1}},
		{"nothing", nil, nil},
	}
	for _, c := range cases {
		var got []int
		for _, r := range cutRuns(c.rows) {
			got = append(got, len(r))
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: runs of %v, want %v", c.name, got, c.want)
		}
	}
}

func FuzzDecodeRun(f *testing.F) {
	f.Add(encodeRun(sampleRun()), 3)
	f.Add(encodeRun([]eventRow{{}}), 1)
	f.Add([]byte{runFormat, 0x0b, 0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 1)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		rows, err := decodeRun(data, n)
		if err != nil {
			return
		}
		again, err := decodeRun(encodeRun(rows), len(rows))
		if err != nil || !reflect.DeepEqual(again, rows) {
			t.Fatalf("re-encoded run: %v, %+v then %+v", err, rows, again)
		}
	})
}

// A crash between two moves leaves the oldest events in runs and the rest
// in rows; the next start moves the rest, and every event reads as it was
// written, seqs and gaps kept.
func TestEventRowsMoveIntoRuns(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "beacon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[int64]eventRow{}
	for _, seq := range []int64{1, 2, 3, 4, 5, 9, 10} {
		r := eventRow{messageID: fmt.Sprint("m-", seq), typ: "track", name: "Report Viewed", userID: "u",
			ts: 1000 * seq, receivedAt: 1000*seq + 1, body: fmt.Sprintf(`{"n":%d,"pad":"%s"}`, seq, strings.Repeat("p", 20000))}
		if seq%2 == 0 {
			r.sentAt = sql.NullInt64{Int64: seq, Valid: true}
		}
		want[seq] = r
		if _, err := db.lw.ExecContext(ctx, `INSERT INTO events (`+eventColumnsStored+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			seq, r.messageID, r.typ, r.name, r.userID, r.anonymousID, r.groupID, r.previousID, r.ts, r.originalTS, r.sentAt, r.receivedAt, r.body); err != nil {
			t.Fatal(err)
		}
	}
	err = txOn(ctx, db.lw, func(tx *sql.Tx) error {
		n, err := moveEventRows(ctx, tx, 3)
		if err == nil && n != 3 {
			err = fmt.Errorf("moved %d rows, want 3", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var runs, rows int
	if err := db.lw.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM event_runs), (SELECT count(*) FROM events)`).Scan(&runs, &rows); err != nil || runs != 1 || rows != 4 {
		t.Fatalf("after one move: %d runs and %d rows (%v), want 1 and 4", runs, rows, err)
	}
	if err := db.runEventRows(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.lw.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM event_runs), (SELECT count(*) FROM events)`).Scan(&runs, &rows); err != nil || runs != 3 || rows != 0 {
		t.Fatalf("after the rest: %d runs and %d rows (%v), want 3 (1-3, 4-5, 9-10) and 0", runs, rows, err)
	}
	var free int
	if err := db.lw.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil || free != 0 {
		t.Fatalf("the log keeps %d free pages after the move (%v): not vacuumed", free, err)
	}
	got := map[int64]eventRow{}
	err = db.log.(*runLog).each(ctx, 0, 1<<62, 100, func(seq int64, r *eventRow) error {
		got[seq] = *r
		return nil
	})
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %v (%v), want %v", got, err, want)
	}
	at, err := db.log.(*runLog).at(ctx, []int64{10, 4, 7, 1, 4, 11})
	if err != nil || len(at) != 3 || at[10] != want[10] || at[4] != want[4] || at[1] != want[1] {
		t.Fatalf("at 10, 4, 7, 1, 4, 11: %v (%v), want 1, 4 and 10", at, err)
	}
}
