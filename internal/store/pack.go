package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/beaconplg/beacon/internal/event"
)

// BlockEvents is how many events a stream block packs.
const BlockEvents = 4096

// blocksPerTx is how many blocks Pack writes in one transaction.
const blocksPerTx = 16

// Before reports whether c is before o in the stream.
func (c Cursor) Before(o Cursor) bool { return c.Tx < o.Tx || (c.Tx == o.Tx && c.Seq < o.Seq) }

// Covers reports whether what b keeps includes what need asks for.
func (b Bodies) Covers(need Bodies) bool {
	if b.All {
		return true
	}
	if need.All {
		return false
	}
	for _, n := range need.Names {
		if !slices.Contains(b.Names, n) {
			return false
		}
	}
	return true
}

// union is what keeps the bodies both keep.
func (b Bodies) union(o Bodies) Bodies {
	if b.All || o.All {
		return Bodies{All: true}
	}
	names := slices.Clone(b.Names)
	for _, n := range o.Names {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return Bodies{Names: names}
}

// blockSpan is where a stored block sits in the stream.
type blockSpan struct {
	after, last Cursor
}

// blocksIn lists, in stream order, the stored blocks that lie after c up to
// upTo and keep the bodies asked for.
func (db *DB) blocksIn(ctx context.Context, c, upTo Cursor, bodies Bodies) ([]blockSpan, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT after_tx, after_seq, last_tx, last_seq, bodies FROM stream_blocks
		WHERE (after_tx, after_seq) >= ($1, $2) AND (last_tx, last_seq) <= ($3, $4)
		ORDER BY after_tx, after_seq`, int64(c.Tx), c.Seq, int64(upTo.Tx), upTo.Seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []blockSpan
	for rows.Next() {
		var b blockSpan
		var kept string
		if err := rows.Scan(&b.after.Tx, &b.after.Seq, &b.last.Tx, &b.last.Seq, &kept); err != nil {
			return nil, err
		}
		if k, ok := readKept(kept); ok && k.Covers(bodies) {
			out = append(out, b)
		}
	}
	return out, rows.Err()
}

// readBlock reads and decodes one block. The block is decoded from the
// driver's memory (RawBytes), not from a copy of it.
func (db *DB) readBlock(ctx context.Context, after Cursor) ([]event.Event, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT data FROM stream_blocks WHERE after_tx = $1 AND after_seq = $2`,
		int64(after.Tx), after.Seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, notFound(cmp.Or(rows.Err(), sql.ErrNoRows), "stream block")
	}
	var data sql.RawBytes
	if err := rows.Scan(&data); err != nil {
		return nil, err
	}
	var into []event.Event
	if p, ok := db.spare.Get().(*[]event.Event); ok {
		into = *p
	}
	room, ok := db.rooms.Get().(*blockRoom)
	if !ok {
		room = &blockRoom{}
	}
	evs, err := decodeBlock(data, into, room)
	db.rooms.Put(room)
	if err != nil {
		return nil, fmt.Errorf("stream block after %d/%d: %w", after.Tx, after.Seq, err)
	}
	return evs, rows.Close()
}

// Recycle hands back a batch ScanLean gave, once the reader is done with it
// and keeps none of its events, so that a block is decoded into its room.
// Strings and bodies taken from its events stay valid.
func (db *DB) Recycle(evs []event.Event) {
	if cap(evs) >= BlockEvents {
		evs = evs[:0]
		db.spare.Put(&evs)
	}
}

// Pack packs the stream up to upTo into blocks of BlockEvents, so that
// replays read blocks rather than rows; the events after the last whole
// block stay as they are. Blocks keep the bodies asked for and those the
// blocks already stored keep: if those lack some, every block is packed
// again. upTo must be settled: no event may later commit before it. Pack
// returns how many events it packed.
func (db *DB) Pack(ctx context.Context, upTo Cursor, bodies Bodies) (int, error) {
	from, keep, err := db.PackedTo(ctx, bodies)
	if err != nil {
		return 0, err
	}
	n, err, werr := db.PackFrom(ctx, from, upTo, keep, nil)
	return n, errors.Join(err, werr)
}

// PackFrom packs the stream after from up to upTo into blocks keeping keep
// (both as PackedTo said), as Pack does, reading it on one goroutine and
// encoding and writing blocks on another. If each is not nil, it is handed
// every event read, in stream order, a block's worth at a time (the last
// one short), on the reading goroutine: a replay then takes the events in
// as they are packed instead of reading the blocks back. The encoder reads
// the same events meanwhile: each must not change them. PackFrom returns
// how many events it packed, what ended the reading (each's error
// included), and what failed writing the blocks (another process packing
// the same stretch, say), after which the reading goes on.
func (db *DB) PackFrom(ctx context.Context, from, upTo Cursor, keep Bodies, each func([]event.Event) error) (packed int, err, writeErr error) {
	full := make(chan unpacked, 2)
	wrote := make(chan packResult, 1)
	go func() { wrote <- db.writePacked(ctx, keep, full) }()
	evs := make([]event.Event, 0, BlockEvents)
	err = db.eachLeanRow(ctx, from, upTo, keep, func(e event.Event, at Cursor) error {
		if evs = append(evs, e); len(evs) < BlockEvents {
			return nil
		}
		if each != nil {
			if err := each(evs); err != nil {
				return err
			}
		}
		select {
		case full <- unpacked{blockSpan{from, at}, evs}:
		case <-ctx.Done():
			return ctx.Err()
		}
		from, evs = at, make([]event.Event, 0, BlockEvents)
		return nil
	})
	if err == nil && each != nil && len(evs) > 0 {
		err = each(evs)
	}
	close(full)
	r := <-wrote
	return r.packed, err, r.err
}

// unpacked is a block's events, read and not yet encoded.
type unpacked struct {
	span blockSpan
	evs  []event.Event
}

type packResult struct {
	packed int
	err    error
}

// writePacked encodes the blocks from full and writes them, blocksPerTx a
// transaction, until full is closed. After a failure it only drains full,
// so that the reader never waits for it.
func (db *DB) writePacked(ctx context.Context, keep Bodies, full <-chan unpacked) packResult {
	var r packResult
	var done []packedBlock
	var enc blockEncoder
	write := func() {
		if r.err = db.writeBlocks(ctx, keep, done); r.err == nil {
			r.packed += len(done) * BlockEvents
		}
		done = done[:0]
	}
	for b := range full {
		if r.err != nil {
			continue
		}
		if done = append(done, packedBlock{b.span, enc.encode(b.evs)}); len(done) == blocksPerTx {
			write()
		}
	}
	if r.err == nil {
		write()
	}
	return r
}

// PackedTo returns where the packed stream ends for bodies, and what the
// blocks packed after it must keep: bodies and what the stored blocks
// keep. Blocks that keep less than bodies asks for are deleted, and the
// stream is then packed again from its start.
func (db *DB) PackedTo(ctx context.Context, bodies Bodies) (from Cursor, keep Bodies, err error) {
	keep, have, stale, err := db.keptBodies(ctx)
	if err != nil || !have {
		return Cursor{}, bodies, err
	}
	if stale || !keep.Covers(bodies) {
		_, err := db.w.ExecContext(ctx, `DELETE FROM stream_blocks`)
		return Cursor{}, keep.union(bodies), err
	}
	err = db.r.QueryRowContext(ctx, `SELECT last_tx, last_seq FROM stream_blocks
		ORDER BY last_tx DESC, last_seq DESC LIMIT 1`).Scan(&from.Tx, &from.Seq)
	return from, keep, err
}

// keptBodies is the union of what the stored blocks of this format keep,
// whether there are blocks, and whether some are of another format.
func (db *DB) keptBodies(ctx context.Context) (keep Bodies, have, stale bool, err error) {
	rows, err := db.r.QueryContext(ctx, `SELECT DISTINCT bodies FROM stream_blocks`)
	if err != nil {
		return Bodies{}, false, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return Bodies{}, false, false, err
		}
		k, ok := readKept(s)
		if ok {
			keep = keep.union(k)
		}
		have, stale = true, stale || !ok
	}
	return keep, have, stale, rows.Err()
}

// kept is what a block's bodies column says: the block's format and whose
// properties it keeps. Blocks of another format are read as rows until
// packed again.
type kept struct {
	Format int
	Bodies
}

func readKept(s string) (Bodies, bool) {
	var k kept
	if json.Unmarshal([]byte(s), &k) != nil || k.Format != blockVersion {
		return Bodies{}, false
	}
	return k.Bodies, true
}

type packedBlock struct {
	span blockSpan
	data []byte
}

func (db *DB) writeBlocks(ctx context.Context, keep Bodies, blocks []packedBlock) error {
	if len(blocks) == 0 {
		return nil
	}
	spec, err := json.Marshal(kept{Format: blockVersion, Bodies: keep})
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for _, b := range blocks {
			_, err := tx.ExecContext(ctx, `INSERT INTO stream_blocks (after_tx, after_seq, last_tx, last_seq, events, bodies, data)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
				int64(b.span.after.Tx), b.span.after.Seq, int64(b.span.last.Tx), b.span.last.Seq, BlockEvents, string(spec), b.data)
			if err != nil {
				return err
			}
		}
		return nil
	})
}
