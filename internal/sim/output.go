package sim

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Files a simulation writes into its output directory.
const (
	EventsFile  = "events.jsonl.gz"
	CRMFile     = "crm_accounts.csv"
	BillingFile = "billing.jsonl"
	TruthFile   = "truth.jsonl"
)

// Summary counts what a simulation wrote.
type Summary struct {
	Events, Accounts, Users, CRMAccounts, BillingEvents int
}

// Simulate writes the world of p into dir. Events stream out a day at a
// time: memory grows with accounts and users, not with days.
func (p Params) Simulate(dir string) (Summary, error) {
	if err := p.Validate(); err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, err
	}
	gen := p.NewGenerator()
	accounts, lives, users := gen.accounts, gen.lives, gen.users
	sum := Summary{Accounts: p.Accounts}
	for i, a := range accounts {
		for _, u := range users[i] {
			if u.JoinDay != Never {
				sum.Users++
			}
		}
		if a.InCRM {
			sum.CRMAccounts++
		}
	}
	err := errors.Join(
		writeFile(filepath.Join(dir, EventsFile), func(w io.Writer) error {
			n, err := gen.writeEvents(w)
			sum.Events = n
			return err
		}),
		writeFile(filepath.Join(dir, CRMFile), p.WriteCRM),
		writeFile(filepath.Join(dir, BillingFile), func(w io.Writer) error {
			n, err := p.writeBilling(w, accounts, lives)
			sum.BillingEvents = n
			return err
		}),
		writeFile(filepath.Join(dir, TruthFile), func(w io.Writer) error { return writeTruth(w, gen.plan, accounts, lives, users) }),
	)
	return sum, err
}

func writeFile(path string, fill func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fill(bw); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return errors.Join(bw.Flush(), f.Close())
}

// truthAccount and truthUser are the ground-truth records, one JSON line each.
// TruthAccount is an account as the simulator's truth file records it:
// what it is, how it was acquired, and its lifecycle.
type TruthAccount struct {
	Kind      string   `json:"kind"`
	GroupID   string   `json:"group_id"`
	CRMID     string   `json:"crm_id,omitempty"`
	Name      string   `json:"name"`
	Domains   []string `json:"domains"`
	Segment   string   `json:"segment"`
	Employees int      `json:"employees"`
	Industry  string   `json:"industry"`
	Channel   string   `json:"channel"`
	Fit       float64  `json:"fit"`
	Intent    float64  `json:"intent"`
	SignupDay int      `json:"signup_day"`
	Lifecycle
}

// TruthUser is a user as the truth file records it.
type TruthUser struct {
	Kind     string `json:"kind"`
	UserID   string `json:"user_id"`
	GroupID  string `json:"group_id"`
	Email    string `json:"email"`
	Personal bool   `json:"personal_email"`
	JoinDay  int    `json:"join_day"`
}

func writeTruth(w io.Writer, plan *Plan, accounts []Account, lives []Lifecycle, users [][]User) error {
	enc := json.NewEncoder(w)
	if plan != nil {
		if err := enc.Encode(struct {
			Kind string `json:"kind"`
			*Plan
		}{"plan", plan}); err != nil {
			return err
		}
	}
	for i, a := range accounts {
		if err := enc.Encode(TruthAccount{Kind: "account", GroupID: a.GroupID, CRMID: a.CRMID, Name: a.Name, Domains: a.Domains,
			Segment: a.Segment, Employees: a.Employees, Industry: a.Industry, Channel: a.Channel,
			Fit: round3(a.Fit), Intent: round3(a.Intent), SignupDay: a.SignupDay, Lifecycle: lives[i]}); err != nil {
			return err
		}
		for _, u := range users[i] {
			if err := enc.Encode(TruthUser{Kind: "user", UserID: u.ID, GroupID: a.GroupID, Email: u.Email,
				Personal: u.Personal, JoinDay: u.JoinDay}); err != nil {
				return err
			}
		}
	}
	return nil
}

func round3(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }

// writeEvents writes every day's events as JSON lines, gzipped. Each day is
// compressed as its own gzip member by one of two workers while the next day
// is generated; concatenated members are one valid gzip file, and the same
// input always compresses to the same bytes.
func (gen *Generator) writeEvents(w io.Writer) (int, error) {
	type job struct {
		data []byte
		out  chan []byte
	}
	jobs := make(chan job, 2)
	order := make(chan chan []byte, 4)
	errc := make(chan error, 2)
	for range 2 {
		go func() {
			zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
			for j := range jobs {
				var buf bytes.Buffer
				zw.Reset(&buf) // a compressor's state is large: keep one per worker
				_, err := zw.Write(j.data)
				if err = errors.Join(err, zw.Close()); err != nil {
					errc <- err
				}
				j.out <- buf.Bytes()
			}
		}()
	}
	events := 0
	go func() {
		defer close(jobs)
		defer close(order)
		for d := range gen.p.Days {
			lines := gen.Day(d)
			events += len(lines)
			size := 0
			for _, l := range lines {
				size += len(l) + 1
			}
			data := make([]byte, 0, size)
			for _, l := range lines {
				data = append(append(data, l...), '\n')
			}
			out := make(chan []byte, 1)
			order <- out
			jobs <- job{data: data, out: out}
		}
	}()
	var werr error
	for out := range order {
		member := <-out
		if werr == nil {
			_, werr = w.Write(member)
		}
	}
	select {
	case err := <-errc:
		return events, err
	default:
	}
	return events, werr
}
