package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/queue"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Store is what the pages need from storage.
type Store interface {
	PersonByEmail(ctx context.Context, email string) (store.Person, error)
	PersonByID(ctx context.Context, id int64) (store.Person, error)
	AddSession(ctx context.Context, s store.Session) error
	SessionByHash(ctx context.Context, hash []byte, now time.Time) (store.Session, error)
	DeleteSession(ctx context.Context, hash []byte) error
	ListPeople(ctx context.Context) ([]store.Person, error)
	SignedOnPerson(ctx context.Context, email, name, role string, at time.Time) (store.Person, error)
	Audit(ctx context.Context, e store.AuditEntry) error
	AuditLog(ctx context.Context, before int64, limit int) ([]store.AuditEntry, error)

	ListAlerts(ctx context.Context, q store.AlertQuery) ([]store.Alert, int, error)
	AlertTimes(ctx context.Context, since time.Time) ([]store.AlertTime, error)
	ListDeliveries(ctx context.Context, q store.DeliveryQuery) ([]store.Delivery, error)
	DeliveryCounts(ctx context.Context) (map[string]map[string]int, error)
	Retry(ctx context.Context, now time.Time, ids []int64, destination string) (int, error)
	Ack(ctx context.Context, id int64, by string, at time.Time) (store.Alert, error)
	Assign(ctx context.Context, id int64, to string) (store.Alert, error)

	Account(ctx context.Context, id string) (store.Account, error)
	AccountsIn(ctx context.Context, ids []string) ([]store.Account, error)
	LinkedAccounts(ctx context.Context, crmAccountID string) ([]store.Account, error)
	AccountUsers(ctx context.Context, id string) ([]store.Membership, error)
	User(ctx context.Context, id string) (store.User, error)
	UserAccounts(ctx context.Context, id string) ([]store.Membership, error)
	DailyActivity(ctx context.Context, users []string, from, to time.Time) ([]store.DayCount, error)
	timelineReader

	SubjectScores(ctx context.Context, subject string) ([]store.Score, error)
	QuarantinedList(ctx context.Context, q store.QuarantineQuery) ([]store.Quarantined, error)
	ScoreHistory(ctx context.Context, scorecard, subject string, limit int) ([]store.ScoreEvent, error)
	ScoresAt(ctx context.Context, scorecard string, subjects []string, at time.Time) (map[string]float64, error)

	Notes(ctx context.Context, accountID string, limit int) ([]store.Note, error)
	AddNote(ctx context.Context, n store.Note) (store.Note, error)
	PutHold(ctx context.Context, h store.Hold, note store.Note) (store.Hold, error)
	DeleteHold(ctx context.Context, scorecard, subject string, note store.Note) error
	HoldsOf(ctx context.Context, subject string) ([]store.Hold, error)
	queue.People
}

// RulesSource gives the rules in force.
type RulesSource interface {
	Rules() *score.Rules
}

// Deps are the pages' collaborators.
type Deps struct {
	Store Store
	Rules RulesSource
	Log   *slog.Logger
	Clock func() time.Time
	// Secure marks cookies for HTTPS only: set when Beacon is reached over
	// HTTPS (its public URL says so).
	Secure bool
	// Destinations are the configured ones, for the destinations page.
	Destinations []Destination
	// Queues reads the work queues.
	Queues *queue.Reader
	// Docs are Beacon's documentation, served at /docs/ for the pages'
	// links; nil serves none.
	Docs fs.FS
	// SSO signs people in with an OpenID Connect provider; nil for
	// passwords only.
	SSO SignOn
	// Metrics computes the PLG metrics; nil shows none.
	Metrics Metrics
	// Calibration judges the rules against conversions; nil shows none.
	Calibration Calibration
}

// Web serves the pages.
type Web struct {
	db      Store
	rules   RulesSource
	log     *slog.Logger
	clock   func() time.Time
	secure  bool
	dests   []Destination
	queues  *queue.Reader
	docs    fs.FS
	pages   map[string]*template.Template
	tries   throttle
	sso     SignOn
	metrics Metrics
	calib   Calibration
}

// New parses the templates.
func New(d Deps) (*Web, error) {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	w := &Web{db: d.Store, rules: d.Rules, log: d.Log, clock: d.Clock, secure: d.Secure, dests: d.Destinations,
		queues: d.Queues, docs: d.Docs, pages: map[string]*template.Template{}, tries: newThrottle(), sso: d.SSO, metrics: d.Metrics, calib: d.Calibration}
	for _, page := range []string{"login", "queue", "account", "user", "rules", "destinations", "audit", "response", "message", "metrics", "funnel", "cohorts", "calibration"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+page+".html")
		if err != nil {
			return nil, err
		}
		w.pages[page] = t
	}
	return w, nil
}

// Register adds the pages to mux.
func (w *Web) Register(mux *http.ServeMux) {
	assets, _ := fs.Sub(assetFS, "assets") // embedded: cannot fail
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /login", w.loginPage)
	mux.HandleFunc("POST /login", w.login)
	if w.sso != nil {
		mux.HandleFunc("GET /login/sso", w.ssoBegin)
		mux.HandleFunc("GET /login/sso/callback", w.ssoCallback)
	}
	mux.HandleFunc("POST /logout", w.signedIn(w.logout))
	mux.HandleFunc("GET /{$}", w.signedIn(w.queue))
	mux.HandleFunc("GET /queue.csv", w.signedIn(w.queueCSV))
	mux.HandleFunc("POST /alerts/{id}/ack", w.signedIn(w.ack))
	mux.HandleFunc("POST /alerts/{id}/assign", w.signedIn(w.assign))
	mux.HandleFunc("GET /accounts/{id}", w.signedIn(w.account))
	mux.HandleFunc("POST /accounts/{id}/notes", w.signedIn(w.addNote))
	mux.HandleFunc("POST /accounts/{id}/hold", w.signedIn(w.hold))
	mux.HandleFunc("POST /accounts/{id}/release", w.signedIn(w.release))
	mux.HandleFunc("GET /users/{id}", w.signedIn(w.user))
	mux.HandleFunc("GET /docs/{name}", w.signedIn(w.doc))
	mux.HandleFunc("GET /rules", w.signedIn(w.rulesPage))
	mux.HandleFunc("GET /destinations", w.signedIn(w.destinationsPage))
	mux.HandleFunc("POST /destinations/{name}/retry", w.signedIn(w.retryDestination))
	mux.HandleFunc("GET /audit", w.signedIn(w.auditPage))
	mux.HandleFunc("GET /response", w.signedIn(w.response))
	if w.metrics != nil {
		mux.HandleFunc("GET /dashboard", w.signedIn(w.dashboard))
		mux.HandleFunc("GET /dashboard.csv", w.signedIn(w.metricsCSV))
		mux.HandleFunc("GET /dashboard/funnel", w.signedIn(w.funnelPage))
		mux.HandleFunc("GET /dashboard/cohorts", w.signedIn(w.cohortsPage))
	}
	if w.calib != nil {
		mux.HandleFunc("GET /calibration", w.signedIn(w.calibrationPage))
		mux.HandleFunc("GET /calibration/beacon.yaml", w.signedIn(w.proposalFile))
	}
}

// formLimit bounds what a form may post.
const formLimit = 16 << 10

// signedIn runs h for a signed-in viewer, sends others to sign in, and
// refuses a POST without the session's CSRF token.
func (w *Web) signedIn(h func(http.ResponseWriter, *http.Request, viewer)) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		v, ok := w.whoIs(r)
		if !ok {
			http.Redirect(rw, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(rw, r.Body, formLimit)
			if !csrfOK(v, r) {
				w.message(rw, http.StatusForbidden, v, "Form refused", "This form is stale or was not sent from Beacon: reload the page and try again.")
				return
			}
		}
		rw.Header().Set("Cache-Control", "no-store")
		h(rw, r, v)
	}
}

// message answers with a page of its own, in the layout: a title and what
// to know, the navigation kept.
func (w *Web) message(rw http.ResponseWriter, status int, v viewer, title, text string) {
	w.render(rw, status, "message", messageData{chrome: chromeOf(v), Title: title, Text: text})
}

type messageData struct {
	chrome
	Title, Text string
}

// doc serves one of Beacon's documents, as the text it is written in.
func (w *Web) doc(rw http.ResponseWriter, r *http.Request, v viewer) {
	name := r.PathValue("name")
	var b []byte
	err := fs.ErrNotExist
	if w.docs != nil && strings.HasSuffix(name, ".md") && !strings.ContainsAny(name, "/\\") {
		b, err = fs.ReadFile(w.docs, name)
	}
	if err != nil {
		w.message(rw, http.StatusNotFound, v, "No such document", "Beacon has no document "+name+".")
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = rw.Write(b)
}

func (w *Web) render(rw http.ResponseWriter, status int, page string, data any) {
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store") // the sign-in page too
	rw.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	rw.Header().Set("X-Content-Type-Options", "nosniff")
	rw.WriteHeader(status)
	if err := w.pages[page].Execute(rw, data); err != nil {
		w.log.Error("page failed", "page", page, "err", err)
	}
}

// chrome is what the layout reads of every page: who is signed in, the
// token their forms carry, whether they are an admin.
type chrome struct {
	Viewer, CSRF string
	Admin        bool
}

func chromeOf(v viewer) chrome {
	return chrome{Viewer: v.person.Email, CSRF: v.session.CSRF, Admin: v.person.Role == store.RoleAdmin}
}

type loginData struct {
	chrome
	Error, Email, Next string
	// SSO names the single sign-on provider; "" without one.
	SSO string
	// Token is the form's CSRF token, also in the login cookie.
	Token string
}

func (w *Web) loginPage(rw http.ResponseWriter, r *http.Request) {
	w.loginForm(rw, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

// loginForm answers with the sign-in form and a fresh token for it, in the
// form and in a cookie of its own: a sign-in posted from another site
// carries neither, so nobody can sign a browser in to an account of theirs.
func (w *Web) loginForm(rw http.ResponseWriter, status int, d loginData) {
	tok, err := token(32)
	if err != nil {
		w.fail(rw, err)
		return
	}
	d.Token = tok
	if w.sso != nil {
		d.SSO = w.sso.Label()
	}
	http.SetCookie(rw, &http.Cookie{Name: loginCookie, Value: tok, Path: "/login", MaxAge: int(loginTTL.Seconds()),
		HttpOnly: true, Secure: w.secure, SameSite: http.SameSiteStrictMode})
	w.render(rw, status, "login", d)
}

func (w *Web) login(rw http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(rw, r.Body, formLimit)
	email, next := r.PostFormValue("email"), safeNext(r.PostFormValue("next"))
	if !loginCSRFOK(r) {
		w.loginForm(rw, http.StatusForbidden, loginData{Error: "This sign-in form is stale or was not sent from Beacon: sign in again.",
			Email: email, Next: next})
		return
	}
	key := strings.ToLower(strings.TrimSpace(email))
	if !w.tries.begin(key, w.clock()) {
		w.loginForm(rw, http.StatusTooManyRequests, loginData{Error: "Too many wrong passwords for this email: try again in 15 minutes.",
			Email: email, Next: next})
		return
	}
	secret, err := w.signIn(r.Context(), email, r.PostFormValue("password"))
	w.tries.end(key, w.clock(), errors.Is(err, errWrongPassword))
	switch {
	case errors.Is(err, errWrongPassword):
		w.loginForm(rw, http.StatusUnauthorized, loginData{Error: "Wrong email or password.", Email: email, Next: next})
		return
	case err != nil:
		w.log.Error("sign-in failed", "err", err)
		http.Error(rw, "Beacon could not sign you in just now; try again.", http.StatusServiceUnavailable)
		return
	}
	http.SetCookie(rw, &http.Cookie{Name: loginCookie, Path: "/login", MaxAge: -1, HttpOnly: true, Secure: w.secure})
	w.setCookie(rw, secret, int(sessionTTL.Seconds()))
	http.Redirect(rw, r, next, http.StatusSeeOther)
}

// safeNext keeps a redirect after sign-in on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	// Browsers read /\host as //host: no backslash, no second slash.
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || next[0] != '/' || (len(next) > 1 && next[1] == '/') ||
		strings.ContainsRune(next, '\\') {
		return "/"
	}
	return next
}

func (w *Web) logout(rw http.ResponseWriter, r *http.Request, v viewer) {
	if err := w.db.DeleteSession(r.Context(), hashToken(v.secret)); err != nil {
		w.log.Error("sign-out failed", "err", err)
	}
	w.setCookie(rw, "", -1)
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}

func (w *Web) ack(rw http.ResponseWriter, r *http.Request, v viewer) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		w.message(rw, http.StatusNotFound, v, "No such alert", "Beacon knows no such alert.")
		return
	}
	if _, err := w.db.Ack(r.Context(), id, v.person.Email, w.clock()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			w.message(rw, http.StatusNotFound, v, "No such alert", "Beacon knows no such alert.")
			return
		}
		w.log.Error("acknowledgement failed", "err", err)
		http.Error(rw, "Beacon could not record that just now; try again.", http.StatusServiceUnavailable)
		return
	}
	http.Redirect(rw, r, safeNext(r.PostFormValue("back")), http.StatusSeeOther)
}

// assign gives an alert to a person who signs in, or to no one.
func (w *Web) assign(rw http.ResponseWriter, r *http.Request, v viewer) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		w.message(rw, http.StatusNotFound, v, "No such alert", "Beacon knows no such alert.")
		return
	}
	to := r.PostFormValue("to")
	if to != "" {
		p, err := w.db.PersonByEmail(r.Context(), to)
		if err != nil {
			w.message(rw, http.StatusBadRequest, v, "Not assigned", "No one by that email signs in to Beacon.")
			return
		}
		to = p.Email
	}
	if _, err := w.db.Assign(r.Context(), id, to); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			w.message(rw, http.StatusNotFound, v, "No such alert", "Beacon knows no such alert.")
			return
		}
		w.fail(rw, err)
		return
	}
	http.Redirect(rw, r, safeNext(r.PostFormValue("back")), http.StatusSeeOther)
}
