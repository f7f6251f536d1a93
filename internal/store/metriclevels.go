package store

import (
	"context"
	"database/sql"
	"time"
)

// MetricLevel is where a banded metric stood at a check.
type MetricLevel struct {
	Name      string // the metric and its window, e.g. free_to_paid/30d
	Level     string // good, warning, red; "" when it had none
	Value     float64
	CheckedAt time.Time // the close it was computed for
}

// MetricLevels returns the level of every metric checked, by name.
func (db *DB) MetricLevels(ctx context.Context) (map[string]MetricLevel, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT name, level, value, checked_at FROM metric_levels`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]MetricLevel{}
	for rows.Next() {
		var l MetricLevel
		var at int64
		if err := rows.Scan(&l.Name, &l.Level, &l.Value, &at); err != nil {
			return nil, err
		}
		l.CheckedAt = fromMS(at)
		out[l.Name] = l
	}
	return out, rows.Err()
}

// SaveMetricLevels stores a check's levels and the alerts it raised (with
// their deliveries) in one transaction: a crossing is alerted once, and
// never lost.
func (db *DB) SaveMetricLevels(ctx context.Context, levels []MetricLevel, alerts []Alert) error {
	return db.inTx(ctx, func(sqlTx *sql.Tx) error {
		tx := db.prepared(sqlTx)
		for _, l := range levels {
			if _, err := tx.ExecContext(ctx, `INSERT INTO metric_levels (name, level, value, checked_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (name) DO UPDATE SET level = excluded.level, value = excluded.value, checked_at = excluded.checked_at`,
				l.Name, l.Level, l.Value, ms(l.CheckedAt)); err != nil {
				return err
			}
		}
		return insertAlerts(ctx, tx.d, tx, alerts)
	})
}
