package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// execer is what both a transaction and a projection's transaction offer.
type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// insertRows inserts n rows of width columns, 100, 10 or 1 to a statement
// (so that each statement's text is one of three, prepared once), row
// appending the ith row's values. On PostgreSQL each statement is a round
// trip: a row each cost seconds a pass under load.
func insertRows(ctx context.Context, q execer, head, tail string, width, n int, row func(i int, args []any) []any) error {
	return eachChunk(n, width, func(from, size int, values string) error {
		args := make([]any, 0, size*width)
		for r := range size {
			args = row(from+r, args)
		}
		_, err := q.ExecContext(ctx, head+values+tail, args...)
		return err
	})
}

// eachChunk cuts n rows into chunks of 100, 10 or 1 and calls fn with each
// chunk's first row, size and VALUES list of placeholders.
func eachChunk(n, width int, fn func(from, size int, values string) error) error {
	for i := 0; i < n; {
		size := chunkSizes[len(chunkSizes)-1]
		for _, c := range chunkSizes {
			if n-i >= c {
				size = c
				break
			}
		}
		var b strings.Builder
		for r := range size {
			if r > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for c := range width {
				if c > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "$%d", r*width+c+1)
			}
			b.WriteByte(')')
		}
		if err := fn(i, size, b.String()); err != nil {
			return err
		}
		i += size
	}
	return nil
}
