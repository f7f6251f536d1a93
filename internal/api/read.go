package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/queue"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// Reader is what the read API needs from storage.
type Reader interface {
	Stats(ctx context.Context) (store.Stats, error)
	Account(ctx context.Context, id string) (store.Account, error)
	AccountUsers(ctx context.Context, id string) ([]store.Membership, error)
	User(ctx context.Context, id string) (store.User, error)
	UserAccounts(ctx context.Context, id string) ([]store.Membership, error)
	UserEvents(ctx context.Context, userID string, limit int) ([]event.Event, error)
	SubjectScores(ctx context.Context, subject string) ([]store.Score, error)
	ScoreHistory(ctx context.Context, scorecard, subject string, limit int) ([]store.ScoreEvent, error)
	LinkedAccounts(ctx context.Context, crmAccountID string) ([]store.Account, error)
	Alerts
	Notebook
	KeyStore
	Quarantine
	Auditor
}

// KeyChecker verifies admin tokens, and forgets those revoked.
type KeyChecker interface {
	Check(ctx context.Context, secret, kind string) error
	Forget(hash []byte)
}

// API serves /api/v1.
type API struct {
	errs   *httpjson.Errors
	db     Reader
	keys   KeyChecker
	rules  RulesSource
	queues *queue.Reader
	log    *slog.Logger
}

// New returns the read API.
func New(db Reader, keys KeyChecker, rules RulesSource, queues *queue.Reader, log *slog.Logger) *API {
	return &API{errs: httpjson.NewErrors(log, Statuses()...), db: db, keys: keys, rules: rules, queues: queues, log: log}
}

// Register adds the API's routes to mux, each behind the admin token.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/stats", a.admin(a.stats))
	mux.Handle("GET /api/v1/accounts", a.admin(a.queue))
	mux.Handle("GET /api/v1/accounts/{id}", a.admin(a.account))
	mux.Handle("GET /api/v1/accounts/{id}/score", a.admin(a.subjectScore(score.OfAccount)))
	mux.Handle("GET /api/v1/accounts/{id}/notes", a.admin(a.notes))
	mux.Handle("POST /api/v1/accounts/{id}/notes", a.admin(a.addNote))
	mux.Handle("POST /api/v1/accounts/{id}/hold", a.admin(a.hold))
	mux.Handle("DELETE /api/v1/accounts/{id}/hold", a.admin(a.release))
	mux.Handle("GET /api/v1/users/{id}", a.admin(a.user))
	mux.Handle("GET /api/v1/users/{id}/score", a.admin(a.subjectScore(score.OfUser)))
	mux.Handle("GET /api/v1/quarantine", a.admin(a.quarantine))
	mux.Handle("GET /api/v1/audit", a.admin(a.auditLog))
	mux.Handle("GET /api/v1/keys", a.admin(a.listKeys))
	mux.Handle("POST /api/v1/keys", a.admin(a.createKey))
	mux.Handle("POST /api/v1/keys/{id}/revoke", a.admin(a.revokeKey))
	mux.Handle("POST /api/v1/keys/{id}/rotate", a.admin(a.rotateKey))
	mux.Handle("GET /api/v1/alerts", a.admin(a.alerts))
	mux.Handle("GET /api/v1/alerts/sla", a.admin(a.sla))
	mux.Handle("POST /api/v1/alerts/{id}/ack", a.admin(a.ack))
}

func (a *API) admin(fn func(*http.Request) (any, error)) http.Handler {
	return a.adminRaw(func(w http.ResponseWriter, r *http.Request) {
		v, err := fn(r)
		if err != nil {
			a.errs.Write(w, err)
			return
		}
		WriteJSON(w, http.StatusOK, v)
	})
}

// adminRaw is admin for a handler that writes its own answer.
func (a *API) adminRaw(fn http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			token = ""
		}
		token = strings.TrimSpace(token)
		if err := a.keys.Check(r.Context(), token, store.AdminKey); err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="beacon"`)
			a.errs.Write(w, err)
			return
		}
		fn(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, "token "+keys.PrefixOf(token))))
	})
}

// StatsView is the body of GET /api/v1/stats.
type StatsView struct {
	Events   int64            `json:"events"`
	Users    int64            `json:"users"`
	Accounts map[string]int64 `json:"accounts"`
	Identity identity.Match   `json:"identity"`
}

func (a *API) stats(r *http.Request) (any, error) {
	s, err := a.db.Stats(r.Context())
	if err != nil {
		return nil, err
	}
	return StatsView{Events: s.Events, Users: s.Users, Accounts: s.Accounts, Identity: identity.MatchOf(s)}, nil
}

type accountView struct {
	ID              string         `json:"id"`
	Kind            string         `json:"kind"`
	Name            string         `json:"name"`
	Domains         []string       `json:"domains"`
	Traits          map[string]any `json:"traits"`
	Owner           string         `json:"owner,omitempty"`
	Employees       int            `json:"employees,omitempty"`
	Industry        string         `json:"industry,omitempty"`
	OpenOpportunity bool           `json:"open_opportunity"`
	Named           bool           `json:"named_account"`
	CRM             *link          `json:"crm,omitempty"`
	// Linked are, for a CRM account, the workspaces linked to it.
	Linked    []string     `json:"linked_workspaces,omitempty"`
	Holds     []HoldView   `json:"holds"`
	CreatedAt time.Time    `json:"created_at"`
	Users     []memberView `json:"users"`
	// Quarantined are what the stages set aside of this account and have
	// not applied since (GET /api/v1/quarantine).
	Quarantined []QuarantineView `json:"quarantined"`
}

type link struct {
	AccountID  string  `json:"account_id"`
	Method     string  `json:"method"`
	Confidence float64 `json:"confidence"`
}

type memberView struct {
	UserID     string    `json:"user_id,omitempty"`
	AccountID  string    `json:"account_id,omitempty"`
	Method     string    `json:"method"`
	Confidence float64   `json:"confidence"`
	Since      time.Time `json:"since"`
}

func (a *API) account(r *http.Request) (any, error) {
	ctx, id := r.Context(), r.PathValue("id")
	acc, err := a.db.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	ms, err := a.db.AccountUsers(ctx, id)
	if err != nil {
		return nil, err
	}
	v := accountView{ID: acc.ID, Kind: acc.Kind, Name: acc.Name, Domains: acc.Domains, Traits: acc.Traits,
		Owner: acc.Owner, Employees: acc.Employees, Industry: acc.Industry, OpenOpportunity: acc.OpenOpportunity,
		Named: acc.Named, CreatedAt: acc.CreatedAt, Users: []memberView{}}
	if acc.Kind != store.KindCRM && acc.CRMID != "" {
		v.CRM = &link{AccountID: acc.CRMID, Method: acc.CRMMethod, Confidence: acc.CRMConfidence}
	}
	if acc.Kind == store.KindCRM {
		linked, err := a.db.LinkedAccounts(ctx, acc.ID)
		if err != nil {
			return nil, err
		}
		for _, l := range linked {
			v.Linked = append(v.Linked, l.ID)
		}
	}
	hs, err := a.db.HoldsOf(ctx, score.Subject(score.OfAccount, id))
	if err != nil {
		return nil, err
	}
	v.Holds = []HoldView{}
	for _, h := range hs {
		if h.Active(time.Now()) {
			v.Holds = append(v.Holds, holdView(h))
		}
	}
	for _, m := range ms {
		v.Users = append(v.Users, memberView{UserID: m.UserID, Method: m.Method, Confidence: m.Confidence, Since: m.CreatedAt})
	}
	v.Quarantined, err = a.openQuarantine(ctx, store.QuarantineQuery{AccountID: id})
	return v, err
}

type userView struct {
	ID        string         `json:"id"`
	Name      string         `json:"name,omitempty"`
	Title     string         `json:"title,omitempty"`
	Email     string         `json:"email,omitempty"`
	Traits    map[string]any `json:"traits"`
	FirstSeen time.Time      `json:"first_seen"`
	LastSeen  time.Time      `json:"last_seen"`
	Accounts  []memberView   `json:"accounts"`
	Events    []recentEvent  `json:"recent_events"`
	// Quarantined, as an account's.
	Quarantined []QuarantineView `json:"quarantined"`
}

type recentEvent struct {
	MessageID  string          `json:"messageId"`
	Type       string          `json:"type"`
	Name       string          `json:"name,omitempty"`
	Timestamp  time.Time       `json:"timestamp"`
	Properties json.RawMessage `json:"properties,omitempty"`
}

const recentEvents = 50

func (a *API) user(r *http.Request) (any, error) {
	ctx, id := r.Context(), r.PathValue("id")
	u, err := a.db.User(ctx, id)
	if err != nil {
		return nil, err
	}
	ms, err := a.db.UserAccounts(ctx, id)
	if err != nil {
		return nil, err
	}
	evs, err := a.db.UserEvents(ctx, id, recentEvents)
	if err != nil {
		return nil, err
	}
	v := userView{ID: u.ID, Name: identity.PersonName(u.Traits), Title: identity.PersonTitle(u.Traits), Email: u.Email, Traits: u.Traits, FirstSeen: u.FirstSeen, LastSeen: u.LastSeen,
		Accounts: []memberView{}, Events: []recentEvent{}}
	for _, m := range ms {
		v.Accounts = append(v.Accounts, memberView{AccountID: m.AccountID, Method: m.Method, Confidence: m.Confidence, Since: m.CreatedAt})
	}
	for _, e := range evs {
		v.Events = append(v.Events, recentEvent{MessageID: e.MessageID, Type: e.Type, Name: e.Name, Timestamp: e.Timestamp, Properties: e.Properties})
	}
	v.Quarantined, err = a.openQuarantine(ctx, store.QuarantineQuery{UserID: id})
	return v, err
}
