package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Score is a subject's latest score on one scorecard.
type Score struct {
	Scorecard    string
	Subject      string // "account:<id>" or "user:<id>"
	Score        float64
	Tier         string // "" below the lowest tier
	Reasons      json.RawMessage
	Signals      json.RawMessage
	RulesVersion string
	UpdatedAt    time.Time
	TierSince    time.Time
	// Digest is the writer's digest of Reasons and Signals, for readers
	// that only ask whether they changed (see ScoreState).
	Digest int64
	// An account's activity as of this score, which the queue ranks by
	// after the score: Momentum (users active this week minus the week
	// before), ActiveUsers (those of this week), LastActive (when one of
	// its users last was), and Activity, the scorer's JSON of them and
	// more. Zero for users' scores.
	Momentum    float64
	ActiveUsers int
	LastActive  time.Time
	Activity    json.RawMessage
}

// ScoreState is a stored score without its reasons and signals, which
// Digest stands for: what a writer compares a new score with.
type ScoreState struct {
	Scorecard    string
	Subject      string
	Score        float64
	Tier         string
	RulesVersion string
	TierSince    time.Time
	Digest       int64
}

// ScoreEvent is one change of a subject's score or tier, kept for history.
type ScoreEvent struct {
	Scorecard    string
	Subject      string
	At           time.Time
	Score        float64
	Tier         string
	PreviousTier string
	RulesVersion string
	Reasons      json.RawMessage
}

// ScoreBatch is what one scoring pass writes, all in one transaction.
type ScoreBatch struct {
	Scores []Score
	// Refreshed are scores whose score, tier and tier_since are those
	// stored: only their reasons, signals, rules version, time and digest
	// are written. An update that names the queue index's columns rewrites
	// its entry even when their values stay, a page more per score.
	Refreshed []Score
	History   []ScoreEvent
	// Cleared are scores that fell to nothing (no points, no tier); their
	// rows go, their history stays.
	Cleared []Score
	// Risen are scores whose tier rose: a hold on them (a snooze, a
	// disqualification) ends.
	Risen []Score
	// Alerts are the tier changes routing acts on, with their deliveries:
	// written with the scores that caused them, or not at all.
	Alerts []Alert
	// Quarantined are subjects the rules could not score: their last
	// scores stay, and they show until a retry scores them.
	Quarantined []Quarantined
	// Recovered are subjects quarantined before that scored now: their
	// open rows resolve.
	Recovered []Quarantined
}

// ScoreQuery selects scores for a queue: one scorecard, subjects of one kind,
// optionally one tier.
type ScoreQuery struct {
	Scorecard string
	Kind      string // "account" or "user"
	Tier      string // "" for any tier
	// Accounts only: Search matches part of the name, a domain or the id, in any
	// case; Owner the account's owner; Segment the segment of its latest
	// alert; Mine, an email, accounts it owns or whose latest alert is
	// assigned to it. "" for any.
	Search, Owner, Segment, Mine string
	// Held selects the accounts held out of this scorecard's queue (see
	// Hold) as of Now, instead of the others.
	Held   bool
	Now    time.Time
	Sort   string // see ScoreSorts
	Limit  int
	Offset int
}

// likeEscaper keeps a search's own % and _ literal in LIKE.
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// ScoreSorts maps sort keys to their ORDER BY. Each breaks ties the way
// the queue documents (docs/web.md): rising momentum, then more users
// active this week, then the newest in its tier, then the latest activity;
// the lowest scores first, the falling, the fewest active and the quietest
// first.
var ScoreSorts = map[string]string{
	"-score":       "score DESC, momentum DESC, active_users DESC, tier_since DESC, last_active DESC, subject",
	"score":        "score ASC, momentum ASC, active_users ASC, last_active ASC, subject",
	"-momentum":    "momentum DESC, score DESC, active_users DESC, last_active DESC, subject",
	"momentum":     "momentum ASC, score ASC, active_users ASC, last_active ASC, subject",
	"-tier_since":  "tier_since DESC, score DESC, momentum DESC, active_users DESC, last_active DESC, subject",
	"tier_since":   "tier_since ASC, score DESC, momentum DESC, active_users DESC, last_active DESC, subject",
	"-last_active": "last_active DESC, score DESC, subject",
	"last_active":  "last_active ASC, score ASC, subject",
	"-updated":     "updated_at DESC, subject",
}

const scoreColumns = `scorecard, subject, score, tier, reasons, signals, rules_version, updated_at, tier_since, digest,
	momentum, active_users, last_active, activity`

// scoreWritten are the columns a score is written with: its account's id
// (for the queue's joins) beside what is read.
const scoreWritten = scoreColumns + `, account_id`

// SaveScores writes a scoring pass: the new scores and their history.
func (db *DB) SaveScores(ctx context.Context, b ScoreBatch) error {
	if len(b.Scores) == 0 && len(b.Refreshed) == 0 && len(b.History) == 0 && len(b.Cleared) == 0 && len(b.Alerts) == 0 &&
		len(b.Risen) == 0 && len(b.Quarantined) == 0 && len(b.Recovered) == 0 {
		return nil
	}
	return db.inTx(ctx, func(sqlTx *sql.Tx) error {
		tx := db.prepared(sqlTx)
		for _, s := range b.Cleared {
			if _, err := tx.ExecContext(ctx, `DELETE FROM scores WHERE scorecard = $1 AND subject = $2`, s.Scorecard, s.Subject); err != nil {
				return err
			}
		}
		if err := upsertScores(ctx, tx, b.Scores, scoreRanked); err != nil {
			return fmt.Errorf("scores: %w", err)
		}
		if err := upsertScores(ctx, tx, b.Refreshed, scoreRefreshed); err != nil {
			return fmt.Errorf("scores: %w", err)
		}
		for _, s := range b.Risen {
			if _, err := tx.ExecContext(ctx, `DELETE FROM holds WHERE scorecard = $1 AND subject = $2`, s.Scorecard, s.Subject); err != nil {
				return fmt.Errorf("holds: %w", err)
			}
		}
		err := insertRows(ctx, tx.d, tx, `INSERT INTO score_history
			(scorecard, subject, at, score, tier, previous_tier, rules_version, reasons) VALUES `, ``, 8, len(b.History),
			func(i int, args []any) []any {
				h := b.History[i]
				return append(args, h.Scorecard, h.Subject, ms(h.At), h.Score, h.Tier, h.PreviousTier,
					h.RulesVersion, rawOr(h.Reasons, "[]"))
			})
		if err != nil {
			return fmt.Errorf("score history: %w", err)
		}
		if err := quarantineScores(ctx, tx, b); err != nil {
			return fmt.Errorf("quarantine: %w", err)
		}
		return insertAlerts(ctx, tx.d, tx, b.Alerts)
	})
}

// What an upsert of a stored score sets: all of it, or (for ScoreBatch's
// Refreshed) all but its rank.
const (
	scoreRanked    = `score = excluded.score, tier = excluded.tier, tier_since = excluded.tier_since, ` + scoreRefreshed
	scoreRefreshed = `reasons = excluded.reasons, signals = excluded.signals, rules_version = excluded.rules_version,
		updated_at = excluded.updated_at, digest = excluded.digest, momentum = excluded.momentum,
		active_users = excluded.active_users, last_active = excluded.last_active, activity = excluded.activity`
)

// upsertScores writes scores whole where they are new, and sets where they
// are stored.
func upsertScores(ctx context.Context, tx *idTx, scores []Score, set string) error {
	return insertRows(ctx, tx.d, tx, `INSERT INTO scores (`+scoreWritten+`) VALUES `,
		` ON CONFLICT (scorecard, subject) DO UPDATE SET `+set, 15, len(scores),
		func(i int, args []any) []any {
			s := scores[i]
			account := ""
			if kind, id := SubjectID(s.Subject); kind == "account" {
				account = id
			}
			return append(args, s.Scorecard, s.Subject, s.Score, s.Tier, rawOr(s.Reasons, "[]"),
				rawOr(s.Signals, "{}"), s.RulesVersion, ms(s.UpdatedAt), ms(s.TierSince), s.Digest,
				s.Momentum, s.ActiveUsers, ms(s.LastActive), string(s.Activity), account)
		})
}

func rawOr(r json.RawMessage, empty string) string {
	if len(r) == 0 {
		return empty
	}
	return string(r)
}

// ScoresIn returns the scores of subjects on a scorecard; subjects without one
// are absent.
func (db *DB) ScoresIn(ctx context.Context, scorecard string, subjects []string) ([]Score, error) {
	return collectIn(db.d, subjects, func(arg any) ([]Score, error) {
		return db.scores(ctx, `WHERE scorecard = $1 AND subject IN (`+db.d.inList("$2")+`)`, scorecard, arg)
	})
}

// AllScoreStates returns the state of every score. It reads the table in
// order: filtered by scorecard, the primary key's index would be walked
// instead, with a table lookup per score.
func (db *DB) AllScoreStates(ctx context.Context) ([]ScoreState, error) {
	return wholeTable(ctx, db, "scores", scoreStateColumns, scanScoreStates)
}

// ScoreStatesIn returns the states of the scores of subjects on a
// scorecard; subjects without one are absent.
func (db *DB) ScoreStatesIn(ctx context.Context, scorecard string, subjects []string) ([]ScoreState, error) {
	return collectIn(db.d, subjects, func(arg any) ([]ScoreState, error) {
		rows, err := db.r.QueryContext(ctx, `SELECT `+scoreStateColumns+` FROM scores
			WHERE scorecard = $1 AND subject IN (`+db.d.inList("$2")+`)`, scorecard, arg)
		if err != nil {
			return nil, err
		}
		return scanScoreStates(rows, nil)
	})
}

const scoreStateColumns = `scorecard, subject, score, tier, rules_version, tier_since, digest`

// scanScoreStates appends the states rows hold to out.
func scanScoreStates(rows *sql.Rows, out []ScoreState) ([]ScoreState, error) {
	defer rows.Close()
	for rows.Next() {
		var s ScoreState
		var since int64
		if err := rows.Scan(&s.Scorecard, &s.Subject, &s.Score, &s.Tier, &s.RulesVersion, &since, &s.Digest); err != nil {
			return nil, err
		}
		s.TierSince = fromMS(since)
		out = append(out, s)
	}
	return out, rows.Err()
}

// SubjectScores returns a subject's scores on every scorecard.
func (db *DB) SubjectScores(ctx context.Context, subject string) ([]Score, error) {
	// The key leads with the scorecard: the few scorecards are found first
	// (a loose scan of the key), then the subject on each, rather than
	// every score read to find one subject's (3 ms a call at 45,000 scores).
	return db.queryScores(ctx, scorecardsCTE+`SELECT `+scoreColumns+` FROM scores
		WHERE scorecard IN (SELECT card FROM scorecards) AND subject = $1 ORDER BY scorecard`, subject)
}

// ListScores returns a page of scores and how many match in all.
func (db *DB) ListScores(ctx context.Context, q ScoreQuery) ([]Score, int, error) {
	order, ok := ScoreSorts[q.Sort]
	if !ok {
		return nil, 0, fmt.Errorf("sort %q: unknown", q.Sort)
	}
	search := ""
	if q.Search != "" {
		search = "%" + likeEscaper.Replace(strings.ToLower(q.Search)) + "%"
	}
	held := "NOT EXISTS"
	if q.Held {
		held = "EXISTS"
	}
	where := `WHERE scorecard = $1 AND subject LIKE $2 AND ($3 = '' OR tier = $3)
		AND ($4 = '' OR EXISTS (SELECT 1 FROM accounts a WHERE a.id = scores.account_id
			AND (lower(a.name) LIKE $4 ESCAPE '\' OR lower(a.domains) LIKE $4 ESCAPE '\' OR lower(a.id) LIKE $4 ESCAPE '\')))
		AND ($5 = '' OR EXISTS (SELECT 1 FROM accounts a WHERE a.id = scores.account_id AND a.owner = $5))
		AND ($6 = '' OR $6 = (SELECT al.segment FROM alerts al WHERE al.subject = scores.subject
			ORDER BY al.created_at DESC, al.id DESC LIMIT 1))
		AND ($7 = '' OR EXISTS (SELECT 1 FROM accounts a WHERE a.id = scores.account_id AND a.owner = $7)
			OR $7 = (SELECT al.assigned_to FROM alerts al WHERE al.subject = scores.subject
				ORDER BY al.created_at DESC, al.id DESC LIMIT 1))
		AND ` + held + ` (SELECT 1 FROM holds h WHERE h.scorecard = scores.scorecard AND h.subject = scores.subject
			AND (h.ends_at = 0 OR h.ends_at > $8))`
	args := []any{q.Scorecard, q.Kind + ":%", q.Tier, search, q.Owner, q.Segment, q.Mine, ms(q.Now)}
	var total int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM scores `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	ss, err := db.scores(ctx, where+` ORDER BY `+order+` LIMIT $9 OFFSET $10`, append(args, q.Limit, q.Offset)...)
	return ss, total, err
}

// scorecardsCTE names the scorecards that have scores, each found by one
// search of the key.
const scorecardsCTE = `WITH RECURSIVE scorecards(card) AS (
	SELECT min(scorecard) FROM scores
	UNION ALL SELECT (SELECT min(scorecard) FROM scores WHERE scorecard > card) FROM scorecards WHERE card IS NOT NULL) `

func (db *DB) scores(ctx context.Context, where string, args ...any) ([]Score, error) {
	return db.queryScores(ctx, `SELECT `+scoreColumns+` FROM scores `+where, args...)
}

// queryScores runs a query of scoreColumns.
func (db *DB) queryScores(ctx context.Context, query string, args ...any) ([]Score, error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Score
	for rows.Next() {
		var s Score
		var reasons, signals, activity string
		var updated, since, active int64
		if err := rows.Scan(&s.Scorecard, &s.Subject, &s.Score, &s.Tier, &reasons, &signals, &s.RulesVersion,
			&updated, &since, &s.Digest, &s.Momentum, &s.ActiveUsers, &active, &activity); err != nil {
			return nil, err
		}
		s.Reasons, s.Signals = json.RawMessage(reasons), json.RawMessage(signals)
		s.UpdatedAt, s.TierSince, s.LastActive = fromMS(updated), fromMS(since), fromMS(active)
		if activity != "" {
			s.Activity = json.RawMessage(activity)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ScoreHistory returns a subject's score changes on a scorecard, newest first.
func (db *DB) ScoreHistory(ctx context.Context, scorecard, subject string, limit int) ([]ScoreEvent, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT scorecard, subject, at, score, tier, previous_tier, rules_version, reasons
		FROM score_history WHERE scorecard = $1 AND subject = $2 ORDER BY at DESC, id DESC LIMIT $3`,
		scorecard, subject, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ScoreEvent
	for rows.Next() {
		var h ScoreEvent
		var at int64
		var reasons string
		if err := rows.Scan(&h.Scorecard, &h.Subject, &at, &h.Score, &h.Tier, &h.PreviousTier, &h.RulesVersion, &reasons); err != nil {
			return nil, err
		}
		h.At, h.Reasons = fromMS(at), json.RawMessage(reasons)
		out = append(out, h)
	}
	return out, rows.Err()
}

// ScoresAt returns the score each of subjects had on a scorecard at a past
// instant, from its history; subjects not scored then are absent.
func (db *DB) ScoresAt(ctx context.Context, scorecard string, subjects []string, at time.Time) (map[string]float64, error) {
	out := map[string]float64{}
	err := inChunks(db.d, subjects, func(arg any) error {
		rows, err := db.r.QueryContext(ctx, `SELECT s.value, (SELECT h.score FROM score_history h
				WHERE h.scorecard = $1 AND h.subject = s.value AND h.at <= $3 ORDER BY h.at DESC, h.id DESC LIMIT 1)
			FROM (`+db.d.inList("$2")+`) s`, scorecard, arg, ms(at))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var subject string
			var score sql.NullFloat64
			if err := rows.Scan(&subject, &score); err != nil {
				return err
			}
			if score.Valid {
				out[subject] = score.Float64
			}
		}
		return rows.Err()
	})
	return out, err
}

// SubjectID splits "account:<id>" into its kind and id.
func SubjectID(subject string) (kind, id string) {
	kind, id, _ = strings.Cut(subject, ":")
	return kind, id
}

// ScoredAccounts returns the account id of each score, in order, and the
// accounts by id (an account gone since it was scored is absent).
func (db *DB) ScoredAccounts(ctx context.Context, ss []Score) ([]string, map[string]Account, error) {
	ids := make([]string, len(ss))
	for i, s := range ss {
		_, ids[i] = SubjectID(s.Subject)
	}
	accounts, err := db.AccountsIn(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]Account, len(accounts))
	for _, a := range accounts {
		byID[a.ID] = a
	}
	return ids, byID, nil
}

// TierEntry is when a subject first entered a tier of a scorecard.
type TierEntry struct {
	Subject, Tier string
	At            time.Time
}

// TierEntries returns, for each subject of a scorecard and each tier it
// was ever in, when it first entered it.
func (db *DB) TierEntries(ctx context.Context, scorecard string) ([]TierEntry, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT subject, tier, MIN(at) FROM score_history
		WHERE scorecard = $1 GROUP BY subject, tier`, scorecard)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TierEntry
	for rows.Next() {
		var e TierEntry
		var at int64
		if err := rows.Scan(&e.Subject, &e.Tier, &at); err != nil {
			return nil, err
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
