package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkLoadDigests measures what the first append after a start waits
// for: reading the digests of a million stored messageIds into the set,
// kept a row an event (event_ids, before) or a row per insert of 100.
func BenchmarkLoadDigests(b *testing.B) {
	ctx := context.Background()
	const n, per = 1_000_000, 100
	for _, rows := range []bool{true, false} {
		name := map[bool]string{true: "row_an_event", false: "row_an_insert"}[rows]
		b.Run(name, func(b *testing.B) {
			db, err := Open(ctx, filepath.Join(b.TempDir(), "beacon.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			if err := txOn(ctx, db.lw, func(tx *sql.Tx) error { return fillDigests(tx, n, per, rows) }); err != nil {
				b.Fatal(err)
			}
			d := db.d.(*sqliteDialect)
			for b.Loop() {
				d.ids, d.idsSeq = newIDSet(), 0
				if err := d.loadIDs(ctx, db.r, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fillDigests stores the digests of n messageIds, a row each or a row per
// run of per.
func fillDigests(tx *sql.Tx, n, per int, rowEach bool) error {
	var blob []byte
	for seq := 1; seq <= n; seq++ {
		dg := digestOf(fmt.Sprint("m-", seq))
		var err error
		switch {
		case rowEach:
			_, err = tx.Exec(`INSERT INTO event_ids (seq, h1, h2) VALUES (?, ?, ?)`, seq, int64(dg[0]), int64(dg[1]))
		default:
			blob = binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(blob, dg[0]), dg[1])
			if seq%per == 0 {
				_, err = tx.Exec(`INSERT INTO event_digests (last_seq, digests) VALUES (?, ?)`, seq, blob)
				blob = blob[:0]
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
