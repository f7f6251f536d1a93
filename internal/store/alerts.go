package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Alert is an account entering a tier that routing acts on.
type Alert struct {
	ID           int64
	Scorecard    string
	Subject      string
	Tier         string
	PreviousTier string
	Score        float64
	Segment      string
	Zone         string
	Actions      []string
	Payload      json.RawMessage // what destinations carry
	CreatedAt    time.Time
	// NeedsAck: a person is expected to act on it; response times count it.
	NeedsAck   bool
	AckedAt    time.Time // zero until acknowledged
	AckedBy    string
	AssignedTo string // a person's email, "" if no one
	// OutreachAt is when the CRM recorded the first sales activity with
	// the account after the alert (zero: none yet), OutreachVia the
	// destination it was read from.
	OutreachAt  time.Time
	OutreachVia string
	// Destinations get one delivery each, written with the alert.
	Destinations []string
}

// Delivery states: the outbox's life cycle.
const (
	Pending    = "pending"
	Delivering = "delivering"
	Delivered  = "delivered"
	Failed     = "failed" // to be retried at NextAt
	Dead       = "dead"   // out of attempts; `beacon actions retry` revives it
)

// Delivery is one alert on its way to one destination.
type Delivery struct {
	ID          int64
	AlertID     int64
	Destination string
	State       string
	Attempts    int
	NextAt      time.Time
	LastError   string
	UpdatedAt   time.Time
	DeliveredAt time.Time
	Alert       *Alert // with Claim
}

const alertColumns = `id, scorecard, subject, tier, previous_tier, score, segment, zone, actions, payload, created_at, needs_ack,
	acked_at, acked_by, assigned_to, outreach_at, outreach_via`

const deliveryColumns = `id, alert_id, destination, state, attempts, next_at, last_error, updated_at, delivered_at`

// insertAlerts writes alerts and their pending deliveries in tx.
func insertAlerts(ctx context.Context, d dialect, tx queryer, alerts []Alert) error {
	// (scorecard, subject) names the row RETURNING gives back, in whatever
	// order it does: a pass alerts a subject on a scorecard at most once, and
	// any other batch is written in rounds where each is.
	ids := make([]int64, len(alerts))
	for _, round := range uniqueRounds(alerts) {
		if err := insertAlertRound(ctx, d, tx, alerts, round, ids); err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
	}
	type due struct {
		alert int64
		to    string
		at    int64
	}
	var dues []due
	for i, a := range alerts {
		for _, d := range a.Destinations {
			dues = append(dues, due{ids[i], d, ms(a.CreatedAt)})
		}
	}
	err := insertRows(ctx, d, tx, `INSERT INTO deliveries (alert_id, destination, state, next_at, updated_at) VALUES `, ``, 5, len(dues),
		func(i int, args []any) []any {
			d := dues[i]
			return append(args, d.alert, d.to, Pending, d.at, d.at)
		})
	if err != nil {
		return fmt.Errorf("deliveries: %w", err)
	}
	return nil
}

// uniqueRounds splits the alerts' indexes into rounds in which no two share
// a scorecard and subject.
func uniqueRounds(alerts []Alert) [][]int {
	var rounds [][]int
	seen := map[[2]string]int{}
	for i, a := range alerts {
		k := [2]string{a.Scorecard, a.Subject}
		r := seen[k]
		seen[k] = r + 1
		if r == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[r] = append(rounds[r], i)
	}
	return rounds
}

// insertAlertRound inserts the alerts at the indexes of round, many to a
// statement, and notes their ids in ids.
func insertAlertRound(ctx context.Context, d dialect, tx queryer, alerts []Alert, round []int, ids []int64) error {
	index := make(map[[2]string]int, len(round))
	for _, i := range round {
		index[[2]string{alerts[i].Scorecard, alerts[i].Subject}] = i
	}
	return eachChunk(d, len(round), 11, func(from, size int, values string) error {
		args := make([]any, 0, size*11)
		for _, i := range round[from : from+size] {
			a := alerts[i]
			actions, _ := json.Marshal(nonNilStrings(a.Actions)) // strings: cannot fail
			args = append(args, a.Scorecard, a.Subject, a.Tier, a.PreviousTier, a.Score, a.Segment, a.Zone,
				string(actions), rawOr(a.Payload, "{}"), ms(a.CreatedAt), flag(a.NeedsAck))
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO alerts (scorecard, subject, tier, previous_tier, score, segment, zone,
			actions, payload, created_at, needs_ack) VALUES `+values+` RETURNING id, scorecard, subject`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var k [2]string
			if err := rows.Scan(&id, &k[0], &k[1]); err != nil {
				return err
			}
			ids[index[k]] = id
		}
		return rows.Err()
	})
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Claim takes up to limit deliveries to destination ("" for any) that are
// due at now (pending, failed and due, or delivering with a lease run out),
// marks them delivering until now+lease, counts the attempt, and returns
// them with their alerts.
func (db *DB) Claim(ctx context.Context, destination string, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	var out []Delivery
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET state = $1, lease_until = $2, attempts = attempts + 1,
			updated_at = $3 WHERE id IN (SELECT id FROM deliveries
				WHERE ((state IN ($4, $5) AND next_at <= $3) OR (state = $1 AND lease_until <= $3))
					AND ($7 = '' OR destination = $7)
				ORDER BY next_at, id LIMIT $6`+db.d.skipLocked()+`)
			RETURNING `+deliveryColumns,
			Delivering, ms(now.Add(lease)), ms(now), Pending, Failed, limit, destination)
		if err != nil {
			return err
		}
		if out, err = scanDeliveries(rows); err != nil {
			return err
		}
		return attachAlerts(ctx, tx, db.d, out)
	})
	return out, err
}

// Unroutable marks dead the deliveries waiting for a destination not among
// known: one removed from beacon.yaml. Retry revives them once it is back.
func (db *DB) Unroutable(ctx context.Context, known []string, now time.Time) (int, error) {
	arg, err := db.d.listArg(nonNilStrings(known))
	if err != nil {
		return 0, err
	}
	res, err := db.w.ExecContext(ctx, `UPDATE deliveries SET state = $1, last_error = $2, updated_at = $3, lease_until = 0
		WHERE state IN ($4, $5) AND destination NOT IN (`+db.d.inList("$6")+`)`,
		Dead, "the destination is not in the configuration", ms(now), Pending, Failed, arg)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func attachAlerts(ctx context.Context, q queryer, d dialect, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]string, len(ds))
	for i, dl := range ds {
		ids[i] = fmt.Sprint(dl.AlertID)
	}
	arg, err := d.listArg(ids)
	if err != nil {
		return err
	}
	alerts, err := queryAlerts(ctx, q, `WHERE id IN (SELECT CAST(value AS BIGINT) FROM (`+d.inList("$1")+`) AS l)`, arg)
	if err != nil {
		return err
	}
	byID := make(map[int64]*Alert, len(alerts))
	for i := range alerts {
		byID[alerts[i].ID] = &alerts[i]
	}
	for i := range ds {
		ds[i].Alert = byID[ds[i].AlertID]
	}
	return nil
}

func queryAlerts(ctx context.Context, q queryer, where string, args ...any) ([]Alert, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var actions, payload string
		var created, acked, needs, outreach int64
		if err := rows.Scan(&a.ID, &a.Scorecard, &a.Subject, &a.Tier, &a.PreviousTier, &a.Score, &a.Segment, &a.Zone,
			&actions, &payload, &created, &needs, &acked, &a.AckedBy, &a.AssignedTo, &outreach, &a.OutreachVia); err != nil {
			return nil, err
		}
		a.OutreachAt = fromMS(outreach)
		a.NeedsAck = needs == 1
		if err := json.Unmarshal([]byte(actions), &a.Actions); err != nil {
			return nil, fmt.Errorf("alert %d: actions: %w", a.ID, err)
		}
		a.Payload, a.CreatedAt, a.AckedAt = json.RawMessage(payload), fromMS(created), fromMS(acked)
		out = append(out, a)
	}
	return out, rows.Err()
}

func scanDeliveries(rows *sql.Rows) ([]Delivery, error) {
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var next, updated, delivered int64
		if err := rows.Scan(&d.ID, &d.AlertID, &d.Destination, &d.State, &d.Attempts, &next, &d.LastError, &updated,
			&delivered); err != nil {
			return nil, err
		}
		d.NextAt, d.UpdatedAt, d.DeliveredAt = fromMS(next), fromMS(updated), fromMS(delivered)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Outcome is how one claimed delivery went.
type Outcome struct {
	ID    int64
	At    time.Time
	Err   string    // "" when delivered
	Retry time.Time // when failed: the next attempt; zero makes it dead
	// Waited: the attempt did not count (a daily limit spent); it is given
	// back.
	Waited bool
}

// Settle records outcomes of claimed deliveries, all in one transaction. A
// delivery no longer delivering under this claim (an operator retried or
// another dispatcher took it after the lease) is left as it is.
func (db *DB) Settle(ctx context.Context, outs []Outcome) error {
	if len(outs) == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for _, o := range outs {
			var err error
			switch {
			case o.Err == "":
				_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = $1, delivered_at = $2, updated_at = $2,
					last_error = '', lease_until = 0 WHERE id = $3 AND state = $4`, Delivered, ms(o.At), o.ID, Delivering)
			case o.Retry.IsZero():
				_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = $1, last_error = $2, updated_at = $3,
					lease_until = 0 WHERE id = $4 AND state = $5`, Dead, clip(o.Err), ms(o.At), o.ID, Delivering)
			default:
				back := 0
				if o.Waited {
					back = 1
				}
				_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = $1, last_error = $2, updated_at = $3,
					next_at = $4, lease_until = 0, attempts = attempts - $7 WHERE id = $5 AND state = $6`, Failed, clip(o.Err),
					ms(o.At), ms(o.Retry), o.ID, Delivering, back)
			}
			if err != nil {
				return fmt.Errorf("delivery %d: %w", o.ID, err)
			}
		}
		return nil
	})
}

// clip bounds an error kept for operators: a receiver's answer can be long.
func clip(s string) string {
	const max = 1000
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}

// DeliveryQuery selects deliveries, newest first.
type DeliveryQuery struct {
	State       string // "" for any
	Destination string // "" for any
	AlertID     int64  // 0 for any
	Limit       int
}

// ListDeliveries returns deliveries, most recently changed first.
func (db *DB) ListDeliveries(ctx context.Context, q DeliveryQuery) ([]Delivery, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE ($1 = '' OR state = $1) AND ($2 = '' OR destination = $2) AND ($3 = 0 OR alert_id = $3)
		ORDER BY updated_at DESC, id DESC LIMIT $4`, q.State, q.Destination, q.AlertID, q.Limit)
	if err != nil {
		return nil, err
	}
	return scanDeliveries(rows)
}

// Retry makes deliveries due now with a fresh count of attempts: the ids
// given, or with none every dead one (of one destination, if named). It
// returns how many it revived; a delivered one is never sent again this way.
func (db *DB) Retry(ctx context.Context, now time.Time, ids []int64, destination string) (int, error) {
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		set := `UPDATE deliveries SET state = $1, attempts = 0, next_at = $2, updated_at = $2, lease_until = 0 `
		if len(ids) == 0 {
			res, err := tx.ExecContext(ctx, set+`WHERE state = $3 AND ($4 = '' OR destination = $4)`,
				Pending, ms(now), Dead, destination)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		}
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, set+`WHERE id = $3 AND state IN ($4, $5)`, Pending, ms(now), id, Dead, Failed)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if k == 0 {
				return fmt.Errorf("delivery %d: none dead or failed by that id: %w", id, ErrNotFound)
			}
			n += k
		}
		return nil
	})
	return int(n), err
}

// AlertsOf returns a subject's alerts, newest first.
func (db *DB) AlertsOf(ctx context.Context, subject string, limit int) ([]Alert, error) {
	return queryAlerts(ctx, db.r, `WHERE subject = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, subject, limit)
}

// Alert returns one alert.
func (db *DB) Alert(ctx context.Context, id int64) (Alert, error) {
	as, err := queryAlerts(ctx, db.r, `WHERE id = $1`, id)
	if err != nil {
		return Alert{}, err
	}
	if len(as) == 0 {
		return Alert{}, fmt.Errorf("alert %d: %w", id, ErrNotFound)
	}
	return as[0], nil
}

// Ack acknowledges an alert. Acknowledging again changes nothing, so the
// first time is what the response time counts.
func (db *DB) Ack(ctx context.Context, id int64, by string, at time.Time) (Alert, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE alerts SET acked_at = $1, acked_by = $2 WHERE id = $3 AND acked_at = 0`,
		ms(at), by, id)
	if err != nil {
		return Alert{}, err
	}
	if _, err := res.RowsAffected(); err != nil {
		return Alert{}, err
	}
	return db.Alert(ctx, id)
}

func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// AlertQuery selects alerts for a list, newest first.
type AlertQuery struct {
	Open    bool // only those a person must act on and no one has acknowledged
	Subject string
	Limit   int
	Offset  int
}

// ListAlerts returns a page of alerts and how many match in all.
func (db *DB) ListAlerts(ctx context.Context, q AlertQuery) ([]Alert, int, error) {
	where := `WHERE ($1 = 0 OR (needs_ack = 1 AND acked_at = 0)) AND ($2 = '' OR subject = $2)`
	args := []any{flag(q.Open), q.Subject}
	var total int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM alerts `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	as, err := queryAlerts(ctx, db.r, where+` ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4`,
		append(args, q.Limit, q.Offset)...)
	return as, total, err
}

// AlertTime is when an alert a person must act on was raised and, if it
// was, acknowledged.
type AlertTime struct {
	Created, Acked, Outreach time.Time
	Subject                  string // the scored subject (score's "account:ID")
	Segment                  string
	// Owner is whom the alert is assigned to, else its account's owner.
	Owner string
}

// AlertTimes returns the raise, acknowledgement and first outreach times
// of the alerts needing a person raised since since, with their segment
// and owner.
func (db *DB) AlertTimes(ctx context.Context, since time.Time) ([]AlertTime, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT created_at, acked_at, outreach_at, subject, segment, assigned_to, payload FROM alerts
		WHERE needs_ack = 1 AND created_at >= $1 ORDER BY created_at`, ms(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AlertTime
	for rows.Next() {
		var c, a, o int64
		var t AlertTime
		var payload []byte
		if err := rows.Scan(&c, &a, &o, &t.Subject, &t.Segment, &t.Owner, &payload); err != nil {
			return nil, err
		}
		if t.Owner == "" {
			var p struct {
				Account struct {
					Owner string `json:"owner"`
				} `json:"account"`
			}
			_ = json.Unmarshal(payload, &p) // written by Beacon; an owner-less one stays ""
			t.Owner = p.Account.Owner
		}
		t.Created, t.Acked, t.Outreach = fromMS(c), fromMS(a), fromMS(o)
		out = append(out, t)
	}
	return out, rows.Err()
}

// AwaitingOutreach lists, oldest first, up to limit alerts needing a
// person raised since since whose first outreach is not known yet and that
// were not looked for since checkedBefore.
func (db *DB) AwaitingOutreach(ctx context.Context, since, checkedBefore time.Time, limit int) ([]Alert, error) {
	return queryAlerts(ctx, db.r, `WHERE needs_ack = 1 AND created_at >= $1 AND outreach_at = 0 AND outreach_checked_at < $2
		ORDER BY created_at LIMIT $3`, ms(since), ms(checkedBefore), limit)
}

// RecordOutreach records that an alert was looked for at checked, and its
// first outreach, if found (at not zero), read from via.
func (db *DB) RecordOutreach(ctx context.Context, id int64, at time.Time, via string, checked time.Time) error {
	if at.IsZero() {
		_, err := db.w.ExecContext(ctx, `UPDATE alerts SET outreach_checked_at = $2 WHERE id = $1`, id, ms(checked))
		return err
	}
	_, err := db.w.ExecContext(ctx, `UPDATE alerts SET outreach_checked_at = $2, outreach_at = $3, outreach_via = $4 WHERE id = $1`,
		id, ms(checked), ms(at), via)
	return err
}

// DeliveryCounts counts deliveries by destination and state.
func (db *DB) DeliveryCounts(ctx context.Context) (map[string]map[string]int, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT destination, state, count(*) FROM deliveries GROUP BY destination, state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var dest, state string
		var n int
		if err := rows.Scan(&dest, &state, &n); err != nil {
			return nil, err
		}
		if out[dest] == nil {
			out[dest] = map[string]int{}
		}
		out[dest][state] = n
	}
	return out, rows.Err()
}

// Assign gives an alert to a person (by email), or to no one with "".
func (db *DB) Assign(ctx context.Context, id int64, to string) (Alert, error) {
	if _, err := db.w.ExecContext(ctx, `UPDATE alerts SET assigned_to = $1 WHERE id = $2`, to, id); err != nil {
		return Alert{}, err
	}
	return db.Alert(ctx, id)
}

// LatestAlerts returns each subject's newest alert; subjects without one
// are absent.
func (db *DB) LatestAlerts(ctx context.Context, subjects []string) (map[string]Alert, error) {
	out := make(map[string]Alert, len(subjects))
	err := inChunks(db.d, subjects, func(arg any) error {
		as, err := queryAlerts(ctx, db.r, `WHERE id IN (SELECT max(id) FROM alerts WHERE subject IN (`+db.d.inList("$1")+`)
			GROUP BY subject)`, arg)
		for _, a := range as {
			out[a.Subject] = a
		}
		return err
	})
	return out, err
}

// DeliveryTime is when an alert was raised and when one of its deliveries
// arrived.
type DeliveryTime struct {
	Destination          string
	Created, DeliveredAt time.Time
}

// DeliveryTimes returns the delivered deliveries of alerts raised since
// since, to the given destinations, with the alert's time.
func (db *DB) DeliveryTimes(ctx context.Context, since time.Time, destinations []string) ([]DeliveryTime, error) {
	if len(destinations) == 0 {
		return nil, nil
	}
	return collectIn(db.d, destinations, func(arg any) ([]DeliveryTime, error) {
		rows, err := db.r.QueryContext(ctx, `SELECT d.destination, a.created_at, d.delivered_at FROM deliveries d
			JOIN alerts a ON a.id = d.alert_id
			WHERE d.state = $2 AND a.created_at >= $3 AND d.destination IN (`+db.d.inList("$1")+`)`, arg, Delivered, ms(since))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []DeliveryTime
		for rows.Next() {
			var t DeliveryTime
			var c, d int64
			if err := rows.Scan(&t.Destination, &c, &d); err != nil {
				return nil, err
			}
			t.Created, t.DeliveredAt = fromMS(c), fromMS(d)
			out = append(out, t)
		}
		return out, rows.Err()
	})
}
