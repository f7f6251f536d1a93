package store

import (
	"context"
	"database/sql"
	"strconv"
)

// execer is what both a transaction and a projection's transaction offer.
type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// insertRows inserts n rows of width columns, 100, 10 or 1 to a statement
// (so that each statement's text is one of three, prepared once), row
// appending the ith row's values. On PostgreSQL each statement is a round
// trip: a row each cost seconds a pass under load.
func insertRows(ctx context.Context, d dialect, q execer, head, tail string, width, n int, row func(i int, args []any) []any) error {
	return eachChunk(d, n, width, func(from, size int, values string) error {
		args := make([]any, 0, size*width)
		for r := range size {
			args = row(from+r, args)
		}
		_, err := q.ExecContext(ctx, head+values+tail, args...)
		return err
	})
}

// eachChunk cuts n rows into chunks of 100, 10 or 1 and calls fn with each
// chunk's first row, size and VALUES list of d's placeholders.
func eachChunk(d dialect, n, width int, fn func(from, size int, values string) error) error {
	for i := 0; i < n; {
		size := chunkSizes[len(chunkSizes)-1]
		for _, c := range chunkSizes {
			if n-i >= c {
				size = c
				break
			}
		}
		if err := fn(i, size, d.values(size, width)); err != nil {
			return err
		}
		i += size
	}
	return nil
}

// valuesList returns "(p,p),(p,p)…" for rows rows of width columns, the nth
// parameter written by param(n), counting from 1.
func valuesList(rows, width int, param func(b []byte, n int) []byte) string {
	b := make([]byte, 0, rows*width*6)
	for r := range rows {
		if r > 0 {
			b = append(b, ',')
		}
		b = append(b, '(')
		for c := range width {
			if c > 0 {
				b = append(b, ',')
			}
			b = param(b, r*width+c+1)
		}
		b = append(b, ')')
	}
	return string(b)
}

// numbered writes PostgreSQL's $n.
func numbered(b []byte, n int) []byte { return strconv.AppendInt(append(b, '$'), int64(n), 10) }
