package export

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
)

// Store is what an export reads.
type Store interface {
	Cursor(ctx context.Context, name string) (store.Cursor, error)
	ScanLean(ctx context.Context, after, upTo store.Cursor, batch int, bodies store.Bodies, fn func([]event.Event, store.Cursor) error) error
	AllAliases(ctx context.Context, asOf time.Time) (map[string]string, error)
	AllMemberships(ctx context.Context) ([]store.Membership, error)
	AllAccounts(ctx context.Context) ([]store.Account, error)
	EmailDomains(ctx context.Context) (map[string]string, error)
	AllScoreStates(ctx context.Context) ([]store.ScoreState, error)
}

// The files an export writes in its directory.
const (
	EventsFile      = "events.csv"
	UsersFile       = "users.csv"
	AccountsFile    = "accounts.csv"
	MembershipsFile = "memberships.csv"
	ScoresFile      = "scores.csv"
)

// Summary says what an export wrote.
type Summary struct {
	Events, Users, Accounts, Memberships, Scores int
}

// Write exports the events identity has resolved, the users, accounts and
// memberships, and the current scores, as CSV files with a header row into dir, which it makes.
func Write(ctx context.Context, db Store, dir string) (Summary, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, err
	}
	var sum Summary
	var err error
	if sum.Events, err = events(ctx, db, dir); err != nil {
		return sum, fmt.Errorf("%s: %w", EventsFile, err)
	}
	if sum.Users, err = users(ctx, db, dir); err != nil {
		return sum, fmt.Errorf("%s: %w", UsersFile, err)
	}
	if sum.Accounts, err = accounts(ctx, db, dir); err != nil {
		return sum, fmt.Errorf("%s: %w", AccountsFile, err)
	}
	if sum.Memberships, err = memberships(ctx, db, dir); err != nil {
		return sum, fmt.Errorf("%s: %w", MembershipsFile, err)
	}
	if sum.Scores, err = scores(ctx, db, dir); err != nil {
		return sum, fmt.Errorf("%s: %w", ScoresFile, err)
	}
	return sum, nil
}

// events writes every event up to identity's cursor with its user: its
// userId, or the user its anonymous id is tied to ("" for a visitor).
// Properties are the event's JSON object; times are Unix milliseconds.
func events(ctx context.Context, db Store, dir string) (int, error) {
	upTo, err := db.Cursor(ctx, identity.CursorName)
	if err != nil {
		return 0, err
	}
	known, err := db.AllAliases(ctx, time.Time{})
	if err != nil {
		return 0, err
	}
	n := 0
	err = writeCSV(filepath.Join(dir, EventsFile), []string{"seq", "ts_ms", "type", "name", "user_id", "anonymous_id", "group_id", "properties"},
		func(w *csv.Writer) error {
			return db.ScanLean(ctx, store.Cursor{}, upTo, 5000, store.Bodies{All: true}, func(evs []event.Event, _ store.Cursor) error {
				for _, e := range evs {
					uid := e.UserID
					if uid == "" {
						uid = known[e.AnonymousID]
					}
					props := string(e.Properties)
					if props == "" {
						props = "{}"
					}
					if err := w.Write([]string{strconv.FormatInt(e.Seq, 10), strconv.FormatInt(e.Timestamp.UnixMilli(), 10),
						e.Type, e.Name, uid, e.AnonymousID, e.GroupID, props}); err != nil {
						return err
					}
					n++
				}
				return nil
			})
		})
	return n, err
}

// users writes each user with an email domain, and whether it is a
// business domain (not a personal mail provider), as scoring reads it.
func users(ctx context.Context, db Store, dir string) (int, error) {
	domains, err := db.EmailDomains(ctx)
	if err != nil {
		return 0, err
	}
	ids := slices.Sorted(maps.Keys(domains))
	return len(ids), writeRows(filepath.Join(dir, UsersFile), []string{"id", "email_domain", "business"}, ids,
		func(id string) ([]string, error) {
			d := domains[id]
			return []string{id, d, strconv.FormatBool(!identity.IsPersonalDomain(d))}, nil
		})
}

// accounts writes each account with its firmographics and traits (JSON).
func accounts(ctx context.Context, db Store, dir string) (int, error) {
	all, err := db.AllAccounts(ctx)
	if err != nil {
		return 0, err
	}
	return len(all), writeRows(filepath.Join(dir, AccountsFile), []string{"id", "kind", "name", "employees", "industry", "crm_id", "traits"}, all,
		func(a store.Account) ([]string, error) {
			traits := []byte("{}")
			if a.Traits != nil {
				var err error
				if traits, err = json.Marshal(a.Traits); err != nil {
					return nil, fmt.Errorf("account %s: %w", a.ID, err)
				}
			}
			return []string{a.ID, a.Kind, a.Name, strconv.Itoa(a.Employees), a.Industry, a.CRMID, string(traits)}, nil
		})
}

// memberships writes each link of a user to an account, how it was made
// and when.
func memberships(ctx context.Context, db Store, dir string) (int, error) {
	links, err := db.AllMemberships(ctx)
	if err != nil {
		return 0, err
	}
	return len(links), writeRows(filepath.Join(dir, MembershipsFile), []string{"user_id", "account_id", "method", "confidence", "created_ms"}, links,
		func(m store.Membership) ([]string, error) {
			return []string{m.UserID, m.AccountID, m.Method, strconv.FormatFloat(m.Confidence, 'g', -1, 64),
				strconv.FormatInt(m.CreatedAt.UnixMilli(), 10)}, nil
		})
}

// scores writes each subject's current score and tier on each scorecard.
func scores(ctx context.Context, db Store, dir string) (int, error) {
	all, err := db.AllScoreStates(ctx)
	if err != nil {
		return 0, err
	}
	return len(all), writeRows(filepath.Join(dir, ScoresFile), []string{"scorecard", "subject", "score", "tier", "rules_version"}, all,
		func(s store.ScoreState) ([]string, error) {
			return []string{s.Scorecard, s.Subject, strconv.FormatFloat(s.Score, 'g', -1, 64), s.Tier, s.RulesVersion}, nil
		})
}

// writeRows writes a CSV file of rows, each as fields makes it.
func writeRows[T any](path string, header []string, rows []T, fields func(T) ([]string, error)) error {
	return writeCSV(path, header, func(w *csv.Writer) error {
		for _, r := range rows {
			f, err := fields(r)
			if err == nil {
				err = w.Write(f)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// writeCSV writes a CSV file: header, then what fill writes.
func writeCSV(path string, header []string, fill func(*csv.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	w := csv.NewWriter(f)
	if err := w.Write(header); err != nil {
		return err
	}
	if err := fill(w); err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}
