package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// raw opens one plain connection on a SQLite file.
func raw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func tables(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return strings.Join(names, " ")
}

func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func appendN(t *testing.T, db *store.DB, prefix string, n int) {
	t.Helper()
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = track(fmt.Sprintf("%s-%d", prefix, i), "u", time.Now().UTC())
	}
	if got, err := db.AppendEvents(context.Background(), evs); err != nil || got != n {
		t.Fatalf("append: %d, %v", got, err)
	}
}

// Events go to the event log file, everything else to the main file.
func TestEventLogIsAFileApart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "beacon.db")
	db := storetest.OpenDSN(t, path)
	appendN(t, db, "m", 5)
	if got := tables(t, raw(t, path+"-events")); got != "event_digests event_ids event_runs events schema_migrations" {
		t.Errorf("event log tables = %q", got)
	}
	if got := count(t, raw(t, path+"-events"), `SELECT sum(n) FROM event_runs`); got != 5 {
		t.Errorf("event log holds %d events in runs, want 5", got)
	}
	if got := count(t, raw(t, path+"-events"), `SELECT count(*) FROM events`); got != 0 {
		t.Errorf("event log holds %d events a row each, want 0", got)
	}
	if main := tables(t, raw(t, path)); strings.Contains(" "+main+" ", " events ") || !strings.Contains(main, "scores") {
		t.Errorf("main file tables = %q", main)
	}
	if evs, _, err := db.EventsAfter(context.Background(), store.Cursor{}, 10); err != nil || len(evs) != 5 {
		t.Errorf("read back %d events, %v", len(evs), err)
	}
}

// The collector's commits never wait for the main file's writer: an append
// goes through while another connection holds the main file's write lock.
func TestAppendDoesNotWaitForTheMainWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "beacon.db")
	db := storetest.OpenDSN(t, path)
	appendN(t, db, "first", 1)
	hold := raw(t, path)
	conn, err := hold.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), `ROLLBACK`)
	ctx, cancel := context.WithTimeout(context.Background(), storetest.HangGuard)
	defer cancel()
	evs := []event.Event{track("while-locked", "u", time.Now().UTC())}
	if n, err := db.AppendEvents(ctx, evs); err != nil || n != 1 {
		t.Fatalf("append while the main file is locked: %d, %v", n, err)
	}
}

// A store from before the split keeps its events: Migrate copies them to the
// log, then drops them from the main file; new events follow on.
func TestMigrateMovesEventsToTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "beacon.db")
	old := raw(t, path)
	for _, name := range []string{"0001_core.sql", "0002_scores.sql", "0003_alerts.sql", "0004_web.sql",
		"0005_assign.sql", "0006_stream_blocks.sql", "0007_score_digest.sql", "0008_event_users_parts.sql"} {
		body, err := os.ReadFile(filepath.Join("migrations", "sqlite", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := old.Exec(`CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);
		INSERT INTO schema_migrations VALUES (1, '0001_core.sql', 0), (2, '0002_scores.sql', 0), (3, '0003_alerts.sql', 0),
			(4, '0004_web.sql', 0), (5, '0005_assign.sql', 0), (6, '0006_stream_blocks.sql', 0), (7, '0007_score_digest.sql', 0),
			(8, '0008_event_users_parts.sql', 0);
		INSERT INTO events (seq, message_id, type, user_id, ts, received_at, body) VALUES
			(1, 'old-1', 'track', 'u', 1000, 1000, '{}'), (2, 'old-2', 'track', 'u', 2000, 2000, '{}'), (3, 'old-3', 'track', 'u', 3000, 3000, '{}');
		INSERT INTO event_ids (seq, h1, h2) VALUES (1, 11, 12), (2, 21, 22), (3, 31, 32);`); err != nil {
		t.Fatal(err)
	}
	old.Close()

	check := func(t *testing.T) {
		db := storetest.OpenDSN(t, path)
		if got := tables(t, raw(t, path)); strings.Contains(" "+got+" ", " events ") {
			t.Fatalf("main file still holds events: %q", got)
		}
		if got := count(t, raw(t, path+"-events"), `SELECT count(*) FROM event_ids`); got != 3 {
			t.Errorf("event log holds %d digests, want 3", got)
		}
		evs, _, err := db.EventsAfter(context.Background(), store.Cursor{}, 10)
		if err != nil || len(evs) != 3 || evs[0].MessageID != "old-1" || evs[2].Seq != 3 {
			t.Fatalf("moved events = %+v, %v", evs, err)
		}
		db.Close()
	}
	t.Run("moved", check)

	// A crash after the copy committed and before the drop did: the main
	// file holds the events again and 0009 is not recorded.
	again := raw(t, path)
	if _, err := again.Exec(`CREATE TABLE events AS SELECT * FROM (SELECT 1 AS seq, 'old-1' AS message_id, 'track' AS type,
			'' AS name, 'u' AS user_id, '' AS anonymous_id, '' AS group_id, '' AS previous_id, 1000 AS ts,
			NULL AS original_ts, NULL AS sent_at, 1000 AS received_at, '{}' AS body);
		CREATE TABLE event_ids (seq INTEGER PRIMARY KEY, h1 INTEGER NOT NULL, h2 INTEGER NOT NULL);
		DELETE FROM schema_migrations WHERE version = 9;`); err != nil {
		t.Fatal(err)
	}
	again.Close()
	t.Run("copied again without doubles", check)

	db := storetest.OpenDSN(t, path)
	appendN(t, db, "new", 1)
	evs, _, err := db.EventsAfter(context.Background(), store.Cursor{Seq: 3}, 10)
	if err != nil || len(evs) != 1 || evs[0].Seq != 4 {
		t.Fatalf("after the move: %+v, %v", evs, err)
	}
}

// A main file whose events were moved will not start without its log: an
// empty new one would hide every event.
func TestMissingEventLogIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "beacon.db")
	db := storetest.OpenDSN(t, path)
	appendN(t, db, "m", 2)
	db.Close()
	for _, suffix := range []string{"-events", "-events-wal", "-events-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	// Refused again on a second try: the first one's empty file is no log.
	ctx := context.Background()
	for try := range 2 {
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Migrate(ctx)
		db.Close()
		if !errors.Is(err, store.ErrEventLogMissing) || !strings.Contains(err.Error(), path+"-events") {
			t.Fatalf("try %d, migrate without the event log: %v", try+1, err)
		}
	}
}

// SQLite's readers stay open between reads: a reader handed back is kept,
// not closed to be opened again, attaching the log, for the next read.
func TestReadersStayOpen(t *testing.T) {
	db := storetest.OpenDSN(t, filepath.Join(t.TempDir(), "beacon.db"))
	for round := range 3 {
		st, err := db.HoldReaders(context.Background(), 8)
		if err != nil {
			t.Fatal(err)
		}
		if st.MaxIdleClosed != 0 || st.Idle != 8 {
			t.Fatalf("round %d: %d readers closed on their way back, %d idle; want 0 and 8", round, st.MaxIdleClosed, st.Idle)
		}
	}
}

// The log keeps the digests of an insert in one row. Opened again, the
// store refuses the retries of messages stored so, and of messages whose
// digests an older Beacon kept a row each (event_ids).
func TestDigestsRefuseRetriesAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "beacon.db")
	db := storetest.OpenDSN(t, path)
	appendN(t, db, "m", 5)
	db.Close()
	if got := count(t, raw(t, path+"-events"), `SELECT count(*) FROM event_digests`); got != 1 {
		t.Errorf("%d rows of digests for one insert, want 1", got)
	}
	h1, h2 := store.MessageDigest("legacy-1")
	if _, err := raw(t, path+"-events").Exec(`INSERT INTO event_ids (seq, h1, h2) VALUES (1, ?, ?)`, h1, h2); err != nil {
		t.Fatal(err)
	}

	db = storetest.OpenDSN(t, path)
	now := time.Now().UTC()
	n, err := db.AppendEvents(context.Background(), []event.Event{track("m-0", "u", now), track("legacy-1", "u", now),
		track("m-4", "u", now), track("fresh", "u", now)})
	if err != nil || n != 1 {
		t.Fatalf("after a restart, %d of 3 retries and 1 new message stored (%v), want only the new one", n, err)
	}
}
