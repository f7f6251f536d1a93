package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/beaconplg/beacon/internal/store"
)

const (
	cookieName = "beacon_session"
	sessionTTL = 12 * time.Hour
	// loginCookie holds the sign-in form's CSRF token for loginTTL.
	loginCookie = "beacon_login"
	loginTTL    = time.Hour
	// MinPassword is the shortest password a person may have.
	MinPassword = 12
)

// HashPassword returns the bcrypt hash a person's password is kept as.
func HashPassword(pw string) ([]byte, error) {
	if len(pw) < MinPassword {
		return nil, errors.New("the password must have at least 12 characters")
	}
	if len(pw) > 72 {
		return nil, errors.New("the password must have at most 72 bytes (bcrypt reads no more)")
	}
	return bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
}

// NewPassword makes a random password of 20 characters.
func NewPassword() (string, error) { return token(15) }

// token is n random bytes in URL-safe base64.
func token(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// dummyHash is compared against when no person has the email given, so that
// a wrong email takes as long as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not anyone's password"), bcrypt.DefaultCost)

// signIn checks an email and password and opens a session; it returns the
// cookie's value.
func (w *Web) signIn(ctx context.Context, email, password string) (string, error) {
	p, err := w.db.PersonByEmail(ctx, email)
	hash := p.PasswordHash
	if errors.Is(err, store.ErrNotFound) {
		hash = dummyHash
	} else if err != nil {
		return "", err
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || p.ID == 0 {
		if p.ID != 0 { // only a known person's: what strangers type is not kept
			w.audit(ctx, store.AuditEntry{Actor: p.Email, Action: store.AuditSignInFailed, Detail: "password"})
		}
		return "", errWrongPassword
	}
	secret, err := w.openSession(ctx, p)
	if err == nil {
		w.audit(ctx, store.AuditEntry{Actor: p.Email, Action: store.AuditSignIn, Detail: "password"})
	}
	return secret, err
}

// openSession opens a session for p and returns its cookie's value.
func (w *Web) openSession(ctx context.Context, p store.Person) (string, error) {
	secret, err := token(32)
	if err != nil {
		return "", err
	}
	csrf, err := token(32)
	if err != nil {
		return "", err
	}
	now := w.clock()
	err = w.db.AddSession(ctx, store.Session{Hash: hashToken(secret), PersonID: p.ID, CSRF: csrf, CreatedAt: now,
		ExpiresAt: now.Add(sessionTTL)})
	return secret, err
}

// audit records e at the clock's time; a failure to is logged, and does not
// fail what it records.
func (w *Web) audit(ctx context.Context, e store.AuditEntry) {
	e.At = w.clock()
	if err := w.db.Audit(ctx, e); err != nil {
		w.log.Error("audit log failed", "action", e.Action, "err", err)
	}
}

var errWrongPassword = errors.New("wrong email or password")

// viewer is who is signed in, with the session's CSRF token.
type viewer struct {
	person  store.Person
	session store.Session
	secret  string
}

// whoIs returns the viewer of r's session cookie.
func (w *Web) whoIs(r *http.Request) (viewer, bool) {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return viewer{}, false
	}
	s, err := w.db.SessionByHash(r.Context(), hashToken(c.Value), w.clock())
	if err != nil {
		return viewer{}, false
	}
	p, err := w.db.PersonByID(r.Context(), s.PersonID)
	if err != nil {
		return viewer{}, false
	}
	return viewer{person: p, session: s, secret: c.Value}, true
}

// csrfOK checks a form's CSRF token against the session's, in constant time.
func csrfOK(v viewer, r *http.Request) bool {
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(v.session.CSRF)) == 1
}

// loginCSRFOK reports whether a sign-in carries the token its form was
// given, the same as its login cookie's.
func loginCSRFOK(r *http.Request) bool {
	c, err := r.Cookie(loginCookie)
	form := r.PostFormValue("csrf")
	return err == nil && c.Value != "" && subtle.ConstantTimeCompare([]byte(form), []byte(c.Value)) == 1
}

func (w *Web) setCookie(rw http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(rw, &http.Cookie{Name: cookieName, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: w.secure, SameSite: http.SameSiteLaxMode})
}

// Sign-in attempts are limited per email: after maxFailures wrong
// passwords within failureWindow, the email may not try again until the
// oldest of them is that old.
const (
	maxFailures   = 5
	failureWindow = 15 * time.Minute
)

// throttle keeps recent failed sign-ins in memory, per email, and the
// attempts still being checked: an attempt takes its place under the lock
// before its password is compared, so that many at once cannot all pass
// the check before any of them has failed.
type throttle struct {
	mu       sync.Mutex
	failures map[string][]time.Time
	checking map[string]int
}

func newThrottle() throttle {
	return throttle{failures: map[string][]time.Time{}, checking: map[string]int{}}
}

func (t *throttle) recent(email string, now time.Time) []time.Time {
	kept := t.failures[email][:0]
	for _, at := range t.failures[email] {
		if now.Sub(at) < failureWindow {
			kept = append(kept, at)
		}
	}
	if len(kept) == 0 {
		delete(t.failures, email)
	} else {
		t.failures[email] = kept
	}
	return kept
}

// begin takes a place for an attempt to sign in as email, or reports that
// email has failed, or is being tried, too often lately. A place taken is
// given back with end.
func (t *throttle) begin(email string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.recent(email, now))+t.checking[email] >= maxFailures {
		return false
	}
	t.checking[email]++
	return true
}

// maxTracked bounds the emails kept: past it, those without recent
// failures are swept first.
const maxTracked = 10_000

// end gives back an attempt's place, counting it as a failure if it
// failed.
func (t *throttle) end(email string, now time.Time, failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.checking[email]--; t.checking[email] <= 0 {
		delete(t.checking, email)
	}
	if !failed {
		return
	}
	if len(t.failures) >= maxTracked {
		for e := range t.failures {
			t.recent(e, now)
		}
	}
	t.failures[email] = append(t.recent(email, now), now)
}
