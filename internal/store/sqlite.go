package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// sqliteDialect owns SQLite's write path. SQLite has one writer, so all
// appends go through one goroutine (appendQueue), which also owns the
// in-memory set of stored messageIds: duplicates are refused there instead of
// by a unique index, because keeping a B-tree of random ids costs a page write
// per event (docs/benchmarks.md).
type sqliteDialect struct {
	// Prepared on the log's writer: the last seq stored, and inserts of a
	// run and of a commit's digests.
	lastSeq, insertRun, insertDigests *sql.Stmt

	ids    *idSet // digests of stored messageIds, up to idsSeq
	idsSeq int64
}

func (*sqliteDialect) name() string { return "sqlite" }

// seqOrdered: SQLite's single writer commits in sequence order.
func (*sqliteDialect) seqOrdered() bool { return true }

// SQLite's writer lock (BEGIN IMMEDIATE) already serialises migrators.
func (*sqliteDialect) lockMigrations(context.Context, *sql.Tx) error { return nil }

func (*sqliteDialect) forUpdate() string { return "" }

// One writer connection: claims cannot meet.
func (*sqliteDialect) skipLocked() string { return "" }

func (*sqliteDialect) optimizeSQL() string { return `PRAGMA optimize` }

// timelinePartShift cuts SQLite's timelines into parts of 2^14 events
// (migration 0008 computes the same).
const timelinePartShift = 14

func (*sqliteDialect) insertEventUsers(ctx context.Context, q queryer, refs []EventRef) error {
	const chunk = 200
	for len(refs) > 0 {
		n := min(len(refs), chunk)
		args := make([]any, 0, n*4)
		for _, r := range refs[:n] {
			args = append(args, r.Seq>>timelinePartShift, r.Key, ms(r.TS), r.Seq)
		}
		stmt := `INSERT INTO event_users (part, key, ts, seq) VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?,?,?),", n), ",") +
			` ON CONFLICT DO NOTHING`
		if _, err := q.ExecContext(ctx, stmt, args...); err != nil {
			return err
		}
		refs = refs[n:]
	}
	return nil
}

func (*sqliteDialect) upsertUsers(ctx context.Context, q queryer, rows []userRow) error {
	args := make([]any, 0, len(rows)*8)
	for _, r := range rows {
		args = append(args, r.id, r.email, r.domain, r.company, r.traits, r.traitsAt, r.firstSeen, r.lastSeen)
	}
	row := "(?,?,?,?,?,?,?,?)"
	_, err := q.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES `+
		strings.TrimSuffix(strings.Repeat(row+",", len(rows)), ",")+userUpsert, args...)
	return err
}

// values writes anonymous parameters: SQLite finds a named one ($n) by
// walking the statement's list of names, when it parses it and again for
// each value bound, so a 100-row statement of ten columns cost a million
// steps; under load that was 5 % of the CPU, all of it holding the writer
// (docs/benchmarks.md).
func (*sqliteDialect) values(rows, width int) string {
	return valuesList(rows, width, func(b []byte, _ int) []byte { return append(b, '?') })
}

func (*sqliteDialect) inList(param string) string {
	return `SELECT value FROM json_each(` + param + `)`
}

func (*sqliteDialect) listArg(ids []string) (any, error) {
	b, err := json.Marshal(ids)
	return string(b), err
}

// Statements insert rows in chunks of these sizes: parsing a statement with a
// thousand parameters costs more than running it, so they are prepared once.
var chunkSizes = []int{100, 10, 1}

func (d *sqliteDialect) prepare(ctx context.Context, w *sql.DB) error {
	var err error
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&d.lastSeq, `SELECT coalesce(max(last_seq), 0) FROM event_runs`},
		{&d.insertRun, `INSERT INTO event_runs (last_seq, n, data) VALUES (?, ?, ?)`},
		{&d.insertDigests, `INSERT INTO event_digests (last_seq, digests) VALUES (?, ?)`},
	} {
		if *p.stmt, err = w.PrepareContext(ctx, p.sql); err != nil {
			return err
		}
	}
	return nil
}

// loadIDs reads the digests stored after idsSeq into the set; with legacy,
// those of event_ids first, which nothing adds to any more.
func (d *sqliteDialect) loadIDs(ctx context.Context, q queryer, legacy bool) error {
	if legacy {
		if err := d.loadLegacyIDs(ctx, q); err != nil {
			return err
		}
	}
	rows, err := q.QueryContext(ctx, `SELECT last_seq, digests FROM event_digests WHERE last_seq > $1 ORDER BY last_seq`, d.idsSeq)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var last int64
		var b []byte
		if err := rows.Scan(&last, &b); err != nil {
			return err
		}
		if len(b)%16 != 0 {
			return fmt.Errorf("event_digests row %d: %d bytes, not 16 an event", last, len(b))
		}
		for ; len(b) > 0; b = b[16:] {
			d.ids.add(digest{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])})
		}
		d.idsSeq = last
	}
	return rows.Err()
}

// loadLegacyIDs reads the digests kept a row an event, before event_digests.
func (d *sqliteDialect) loadLegacyIDs(ctx context.Context, q queryer) error {
	rows, err := q.QueryContext(ctx, `SELECT seq, h1, h2 FROM event_ids WHERE seq > $1 ORDER BY seq`, d.idsSeq)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq, h1, h2 int64
		if err := rows.Scan(&seq, &h1, &h2); err != nil {
			return err
		}
		d.ids.add(digest{uint64(h1), uint64(h2)})
		d.idsSeq = seq
	}
	return rows.Err()
}

// appendGroup commits several requests' rows in one transaction and returns
// how many of each were new. It runs only on the writer goroutine.
func (db *DB) appendGroup(ctx context.Context, batches [][]eventRow) ([]int, error) {
	d := db.d.(*sqliteDialect)
	if d.ids == nil {
		// First write: read what is stored through a reader, without holding
		// the write lock; the transaction below reads only what came since.
		d.ids = newIDSet()
		if err := d.loadIDs(ctx, db.r, true); err != nil {
			d.ids = nil
			return nil, err
		}
	}
	counts := make([]int, len(batches))
	total := 0
	for _, rows := range batches {
		total += len(rows)
	}
	// What this commit adds joins the set only once it has committed.
	added := make(map[digest]struct{}, total)
	fresh := make([]eventRow, 0, total)
	var first, last int64
	err := txOn(ctx, db.lw, func(tx *sql.Tx) error {
		// Another process (beacon import) may have written since: catch up
		// under the write lock, so the check below is exact.
		if err := d.loadIDs(ctx, tx, false); err != nil {
			return err
		}
		if err := tx.StmtContext(ctx, d.lastSeq).QueryRowContext(ctx).Scan(&last); err != nil {
			return err
		}
		for i, rows := range batches {
			for _, r := range rows {
				dg := r.digest
				if _, dup := added[dg]; dup || d.ids.has(dg) {
					continue
				}
				added[dg] = struct{}{}
				fresh = append(fresh, r)
				counts[i]++
			}
		}
		first = last + 1
		return d.insert(ctx, tx, fresh, &last)
	})
	if err != nil {
		return nil, err
	}
	for dg := range added {
		d.ids.add(dg)
	}
	db.tail.add(first, fresh)
	d.idsSeq = max(d.idsSeq, last)
	return counts, nil
}

// insert writes rows as runs after seq *last, and their digests in one row,
// and moves *last to the last of them.
func (d *sqliteDialect) insert(ctx context.Context, tx *sql.Tx, rows []eventRow, last *int64) error {
	if len(rows) == 0 {
		return nil
	}
	if err := insertRuns(ctx, tx.StmtContext(ctx, d.insertRun), rows, last); err != nil {
		return err
	}
	b := make([]byte, 0, 16*len(rows))
	for _, r := range rows {
		b = binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(b, r.digest[0]), r.digest[1])
	}
	_, err := tx.StmtContext(ctx, d.insertDigests).ExecContext(ctx, *last, b)
	return err
}

// openSQLite opens a SQLite file and its event log (eventlog.go), each with
// one writer (openWriter) and a checkpointer beside it, and a pool of
// read-only readers over both.
func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlite: empty path")
	}
	w, err := openWriter(ctx, path)
	if err != nil {
		return nil, err
	}
	lw, err := openWriter(ctx, eventLogPath(path))
	if err != nil {
		w.Close()
		return nil, err
	}
	rq := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "query_only(1)", "mmap_size(" + readerMmap + ")"} {
		rq.Add("_pragma", p)
	}
	r, err := openReaders(path, "file:"+path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		lw.Close()
		return nil, err
	}
	// Every reader stays open between reads: database/sql keeps two idle by
	// default, and under load the others were closed and opened again,
	// each time attaching the log, mapping both files and preparing its
	// statements afresh.
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	d := &sqliteDialect{}
	db := &DB{w: w, lw: lw, r: r, d: d, tail: newTail(tailEvents, tailBytes)}
	db.log = &runLog{r: r, tail: db.tail}
	db.appends = func(ctx context.Context, rows []eventRow) (int, error) {
		return 0, fmt.Errorf("sqlite: store not migrated")
	}
	db.beforeMigrate = func(ctx context.Context) error { return db.migrateEventLog(ctx, path) }
	db.afterMigrate = func(ctx context.Context) error {
		if err := d.prepare(ctx, lw); err != nil {
			return err
		}
		q := newAppendQueue(db.appendGroup, linger)
		db.appends = func(ctx context.Context, rows []eventRow) (int, error) {
			// Hash on the caller's goroutine, not on the single writer's.
			for i := range rows {
				rows[i].digest = digestOf(rows[i].messageID)
			}
			return q.append(ctx, rows)
		}
		cp, err := startCheckpointer(path)
		if err != nil {
			q.close()
			return err
		}
		cpLog, err := startCheckpointer(eventLogPath(path))
		if err != nil {
			q.close()
			cp.close()
			return err
		}
		db.stop = func() { q.close(); cp.close(); cpLog.close() }
		return nil
	}
	return db, nil
}

// readers is how many read connections a SQLite store keeps.
const readers = 8

// readerMmap is how much of each file readers map into memory: all of it. A
// replay reads stream blocks of dozens of overflow pages each, and a read
// call per page took a tenth of its time.
const readerMmap = "68719476736"

// pageSize is the page size of a new SQLite file. Each page a commit
// changes is two writes to the log and, at the checkpoint, a read and a
// write more, each a system call: with 4 KiB pages, system calls took a
// seventh of the CPU under load. A pass rewrites most of the scores table
// whatever the size of its pages, so larger ones cost about as many bytes
// in a quarter of the calls (docs/benchmarks.md). A file keeps the size it
// was made with: SQLite cannot change it in WAL mode.
const pageSize = 16384

// openWriter opens the one writer connection of a SQLite file in WAL mode:
// SQLite allows one writer per file, and a pool would only queue on its lock.
// synchronous=FULL makes each commit durable before Beacon answers; group
// commit (appendQueue) keeps that affordable. Statement journals stay in
// memory (temp_store): in a file, each multi-row upsert wrote its undo pages
// to disk. Checkpoints run beside the writer (checkpointer).
func openWriter(ctx context.Context, path string) (*sql.DB, error) {
	pragmas := url.Values{}
	// The page size first: once the file is in WAL mode, it is fixed.
	for _, p := range []string{fmt.Sprintf("page_size(%d)", pageSize), "busy_timeout(10000)", "synchronous(FULL)", "foreign_keys(ON)", "cache_size(-65536)", "temp_store(MEMORY)"} {
		pragmas.Add("_pragma", p)
	}
	pragmas.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas.Encode())
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := inWAL(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return w, nil
}

// inWAL puts the writer's file in WAL mode, after the connection has set
// its page size (a journal_mode in the DSN runs before the other pragmas),
// and sets the writer's own checkpoint to walBackstop in the file's pages.
func inWAL(ctx context.Context, w *sql.DB) error {
	var mode string
	if err := w.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, not wal", mode)
	}
	var size int
	if err := w.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size); err != nil {
		return err
	}
	_, err := w.ExecContext(ctx, fmt.Sprintf(`PRAGMA wal_autocheckpoint = %d`, walBackstop/size))
	return err
}
