package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed migrations
var migrations embed.FS

// dialect is what differs between the engines.
type dialect interface {
	name() string
	// seqOrdered: sequence order is commit order (one writer), so a
	// stretch of the stream can be cut by seq and read in parts at once.
	seqOrdered() bool
	// lockMigrations serialises migrators, for several nodes starting at once.
	lockMigrations(ctx context.Context, tx *sql.Tx) error
	forUpdate() string
	// skipLocked locks the rows a subquery selects, passing over those
	// another transaction holds: claims of several dispatchers never meet.
	skipLocked() string
	insertEventUsers(ctx context.Context, q queryer, refs []EventRef) error
	// inList is a subquery yielding the strings of listArg(ids) as "value".
	inList(param string) string
	listArg(ids []string) (any, error)
	// optimizeSQL refreshes the planner's statistics.
	optimizeSQL() string
	// upsertUsers writes up to userChunk users in one statement.
	upsertUsers(ctx context.Context, q queryer, rows []userRow) error
	// values is the VALUES list of placeholders for rows rows of width
	// columns (see valuesList).
	values(rows, width int) string
}

// DB is the Store over database/sql. Writes go through w; reads through r,
// which for SQLite is a separate pool so readers never queue behind the single
// writer connection. SQLite keeps the event log in a file of its own, written
// through lw (nil for PostgreSQL): see eventlog.go.
type DB struct {
	w, r    *sql.DB
	lw      *sql.DB
	d       dialect
	appends func(ctx context.Context, rows []eventRow) (int, error)
	stop    func()
	dsn     string
	// beforeMigrate readies what the main migrations rely on (SQLite's
	// event log file); afterMigrate what needs the final schema (prepared
	// statements).
	beforeMigrate, afterMigrate func(ctx context.Context) error
	migrated                    bool
	// spare holds batches of events handed back (Recycle) for blocks to
	// be decoded into: a replay decodes millions of events.
	spare sync.Pool
	// rooms holds what decoding a block needs while it runs (blockRoom).
	rooms sync.Pool
	// tail is the events this process committed last; nil where seq order
	// is not commit order (PostgreSQL).
	tail *tail
	// log reads the stream.
	log stream
}

var _ Store = (*DB)(nil)

// Open opens the store a DSN names: postgres:// or postgresql:// for
// PostgreSQL, anything else is a SQLite file path.
func Open(ctx context.Context, dsn string) (*DB, error) {
	open := openSQLite
	if isPostgres(dsn) {
		open = openPostgres
	}
	db, err := open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	db.dsn = dsn
	return db, nil
}

// OpenExisting opens the store a DSN names, as Open does, but refuses a
// SQLite file that is not there yet: a command that only reads or changes
// what a store holds would otherwise make an empty one where a path was
// mistyped, and answer as if nothing had happened there.
func OpenExisting(ctx context.Context, dsn string) (*DB, error) {
	if !isPostgres(dsn) {
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no store at %s (beacon serve, migrate or import makes one): %w", dsn, ErrNotFound)
		}
	}
	return Open(ctx, dsn)
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// DSN is what the store was opened with.
func (db *DB) DSN() string { return db.dsn }

// Engine names the engine: "sqlite" or "postgres".
func (db *DB) Engine() string { return db.d.name() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if db.lw != nil {
		if err := db.lw.PingContext(ctx); err != nil {
			return err
		}
	}
	return db.w.PingContext(ctx)
}

// Close stops background work and closes the pools.
func (db *DB) Close() error {
	if db.stop != nil {
		db.stop()
	}
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	if db.lw != nil {
		err = errors.Join(err, db.lw.Close())
	}
	return err
}

// Migrate applies, in order, each embedded migration not yet applied. It never
// drops or rewrites what an earlier migration made, but for tables it moves
// whole to another file (SQLite's event log), copied there first.
func (db *DB) Migrate(ctx context.Context) error {
	if db.beforeMigrate != nil {
		if err := db.beforeMigrate(ctx); err != nil {
			return err
		}
	}
	err := db.migrateDir(ctx, db.w, "migrations/"+db.d.name())
	if err != nil || db.migrated || db.afterMigrate == nil {
		return err
	}
	db.migrated = true
	return db.afterMigrate(ctx)
}

// migrateDir applies the migrations of one directory through writer w, all
// in one transaction; w's database records which it holds.
func (db *DB) migrateDir(ctx context.Context, w *sql.DB, dir string) error {
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return txOn(ctx, w, func(tx *sql.Tx) error {
		if err := db.d.lockMigrations(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
			return err
		}
		for _, e := range entries {
			if err := db.applyMigration(ctx, tx, dir, e.Name()); err != nil {
				return err
			}
		}
		return nil
	})
}

func (db *DB) applyMigration(ctx context.Context, tx *sql.Tx, dir, name string) error {
	version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
	if err != nil {
		return fmt.Errorf("migration %s: name must start with a number: %w", name, err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := migrations.ReadFile(dir + "/" + name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		version, name, ms(time.Now()))
	return err
}

// Optimize refreshes the query planner's statistics, after a bulk load: a
// planner that believes the event stream is small reads a large backlog
// batch after batch by sorting all of it again (PostgreSQL servers with
// autovacuum off never gather them otherwise).
func (db *DB) Optimize(ctx context.Context) error {
	if db.lw != nil {
		if _, err := db.lw.ExecContext(ctx, db.d.optimizeSQL()); err != nil {
			return err
		}
	}
	_, err := db.w.ExecContext(ctx, db.d.optimizeSQL())
	return err
}

// Migrations lists the applied migrations by name.
func (db *DB) Migrations(ctx context.Context) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// inTx runs fn in a transaction of the main writer.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return txOn(ctx, db.w, fn)
}

// txOn runs fn in a transaction of writer w, committed if fn succeeds.
func txOn(ctx context.Context, w *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func nullMS(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: !t.IsZero()}
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return err
}
