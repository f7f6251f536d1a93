package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/beaconplg/beacon/internal/sso"
	"github.com/beaconplg/beacon/internal/store"
)

// SignOn is single sign-on with an OpenID Connect provider (package sso).
type SignOn interface {
	Label() string
	Begin(ctx context.Context, next string, random func() (string, error)) (string, sso.Pending, error)
	Finish(ctx context.Context, pend sso.Pending, q url.Values) (sso.Identity, error)
}

// ssoCookie holds a sign-in begun with the provider until it calls back;
// Lax, because the callback is a navigation from the provider's site.
const (
	ssoCookie = "beacon_sso"
	ssoTTL    = 600 // seconds
)

// ssoBegin sends the browser to the provider.
func (w *Web) ssoBegin(rw http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	to, pend, err := w.sso.Begin(r.Context(), next, func() (string, error) { return token(24) })
	if err != nil {
		w.log.Error("single sign-on unavailable", "err", err)
		w.loginForm(rw, http.StatusServiceUnavailable, loginData{Next: next,
			Error: "Sign-in with " + w.sso.Label() + " is unavailable just now: its provider did not answer. Try again soon."})
		return
	}
	http.SetCookie(rw, &http.Cookie{Name: ssoCookie, Value: pend.Encode(), Path: "/login/sso", MaxAge: ssoTTL,
		HttpOnly: true, Secure: w.secure, SameSite: http.SameSiteLaxMode})
	rw.Header().Set("Cache-Control", "no-store")
	http.Redirect(rw, r, to, http.StatusSeeOther)
}

// ssoCallback completes the sign-in: the person is created or given the
// role their claims say, and a session opens.
func (w *Web) ssoCallback(rw http.ResponseWriter, r *http.Request) {
	http.SetCookie(rw, &http.Cookie{Name: ssoCookie, Path: "/login/sso", MaxAge: -1, HttpOnly: true, Secure: w.secure})
	var id sso.Identity
	p, err := pendingOf(r)
	if err == nil {
		id, err = w.sso.Finish(r.Context(), p, r.URL.Query())
	}
	switch {
	case errors.Is(err, sso.ErrState):
		w.loginForm(rw, http.StatusBadRequest, loginData{Error: err.Error()})
		return
	case errors.Is(err, sso.ErrNoRole), errors.Is(err, sso.ErrUnverified):
		w.audit(r.Context(), store.AuditEntry{Actor: id.Email, Action: store.AuditSignInRefused, Detail: "sso: " + err.Error()})
		w.loginForm(rw, http.StatusForbidden, loginData{Error: "Beacon cannot sign you in: " + err.Error() + "."})
		return
	case err != nil:
		w.log.Error("single sign-on failed", "err", err)
		w.loginForm(rw, http.StatusBadGateway, loginData{Error: "Sign-in with " + w.sso.Label() + " failed: try again."})
		return
	}
	person, err := w.db.SignedOnPerson(r.Context(), id.Email, id.Name, id.Role, w.clock())
	if err != nil {
		w.fail(rw, err)
		return
	}
	secret, err := w.openSession(r.Context(), person)
	if err != nil {
		w.fail(rw, err)
		return
	}
	w.audit(r.Context(), store.AuditEntry{Actor: person.Email, Action: store.AuditSignIn, Detail: "sso as " + person.Role})
	w.setCookie(rw, secret, int(sessionTTL.Seconds()))
	http.Redirect(rw, r, safeNext(p.Next), http.StatusSeeOther)
}

// pendingOf reads the sign-in this browser began; sso.ErrState if none.
func pendingOf(r *http.Request) (sso.Pending, error) {
	c, err := r.Cookie(ssoCookie)
	if err != nil {
		return sso.Pending{}, sso.ErrState
	}
	return sso.DecodePending(c.Value)
}
