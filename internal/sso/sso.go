// Package sso owns single sign-on to the web app with OpenID Connect: the
// provider found by discovery, the authorization request (state, nonce and
// PKCE), the code exchange, the ID token's verification against the
// provider's keys, and the role a person's claims give them. Sessions and
// cookies are the web app's.
package sso

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/beaconplg/beacon/internal/store"
)

// Config is the `sso` section of beacon.yaml.
type Config struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer + /.well-known/openid-configuration.
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// ClientSecret is best given as ClientSecretEnv, the variable holding it.
	ClientSecret    string `yaml:"client_secret"`
	ClientSecretEnv string `yaml:"client_secret_env"`
	// RedirectURL is where the provider sends people back:
	// public_url + /login/sso/callback when empty.
	RedirectURL string `yaml:"redirect_url"`
	// Label names the provider on the sign-in page ("Sign in with Okta").
	Label string `yaml:"label"`
	// RoleClaim is the claim holding a person's groups or roles (a string
	// or a list); AdminValues make an admin of whoever has one of them.
	// MemberValues, if any, are required of everyone else: without one, a
	// person may not sign in. Without MemberValues, anyone the provider
	// signs in is a member.
	RoleClaim    string   `yaml:"role_claim"`
	AdminValues  []string `yaml:"admin_values"`
	MemberValues []string `yaml:"member_values"`
}

// Validate reports what is wrong with c, all of it.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("sso.issuer %q: want the provider's http(s) issuer URL", c.Issuer))
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("sso.client_id: required"))
	}
	if c.ClientSecret == "" {
		errs = append(errs, errors.New("sso.client_secret (or client_secret_env naming a set variable): required"))
	}
	if u, err := url.Parse(c.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("sso.redirect_url %q: want an http(s) URL (or set public_url)", c.RedirectURL))
	}
	if (len(c.AdminValues) > 0 || len(c.MemberValues) > 0) && c.RoleClaim == "" {
		errs = append(errs, errors.New("sso.role_claim: required with admin_values or member_values"))
	}
	return errors.Join(errs...)
}

// Identity is who the provider signed in, and the role their claims give.
type Identity struct {
	Subject, Email, Name, Role string
}

// Errors of a sign-in that the person, not the provider, can act on.
var (
	// ErrNoRole: the claims give no role in Beacon.
	ErrNoRole = errors.New("your account has no role in Beacon: ask an admin to add you to its group")
	// ErrUnverified: the provider does not vouch for the email.
	ErrUnverified = errors.New("the provider does not vouch for your email address")
	// ErrState: the callback does not answer a sign-in this browser began.
	ErrState = errors.New("this sign-in was not started here, or took too long: sign in again")
)

// Pending is a sign-in begun: what the callback must match, kept by the
// browser in a cookie between the two.
type Pending struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
}

// Encode makes p a cookie's value.
func (p Pending) Encode() string {
	b, _ := json.Marshal(p) // strings only: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodePending reads a cookie Encode wrote.
func DecodePending(s string) (Pending, error) {
	var p Pending
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	if err != nil || p.State == "" || p.Nonce == "" || p.Verifier == "" {
		return Pending{}, ErrState
	}
	return p, nil
}

// Provider signs people in with one OpenID Connect provider. Discovery
// happens at the first sign-in, and again after a failure: Beacon starts
// while the provider is unreachable.
type Provider struct {
	cfg    Config
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// New returns a provider for cfg (validated). client makes its requests;
// now is the clock tokens are checked against.
func New(cfg Config, client *http.Client, now func() time.Time) *Provider {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return &Provider{cfg: cfg, client: client, now: now}
}

// Label names the provider for the sign-in page.
func (p *Provider) Label() string {
	if p.cfg.Label != "" {
		return p.cfg.Label
	}
	return "single sign-on"
}

func (p *Provider) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.oauth != nil {
		return p.oauth, p.verifier, nil
	}
	prov, err := oidc.NewProvider(oidc.ClientContext(ctx, p.client), p.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("sso: discovery at %s: %w", p.cfg.Issuer, err)
	}
	scopes := []string{oidc.ScopeOpenID, "email", "profile"}
	p.oauth = &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: prov.Endpoint(),
		RedirectURL: p.cfg.RedirectURL, Scopes: scopes}
	p.verifier = prov.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, Now: p.now})
	return p.oauth, p.verifier, nil
}

// Begin starts a sign-in that returns to next: the URL to send the
// browser to, and what the callback must match.
func (p *Provider) Begin(ctx context.Context, next string, random func() (string, error)) (string, Pending, error) {
	oc, _, err := p.discover(ctx)
	if err != nil {
		return "", Pending{}, err
	}
	pend := Pending{Next: next, Verifier: oauth2.GenerateVerifier()}
	if pend.State, err = random(); err != nil {
		return "", Pending{}, err
	}
	if pend.Nonce, err = random(); err != nil {
		return "", Pending{}, err
	}
	return oc.AuthCodeURL(pend.State, oidc.Nonce(pend.Nonce), oauth2.S256ChallengeOption(pend.Verifier)), pend, nil
}

// Finish completes the sign-in the callback's query answers: the state is
// the one begun, the code is exchanged (with the PKCE verifier), and the ID
// token is verified (signature, issuer, audience, expiry, nonce) before its
// claims are read.
func (p *Provider) Finish(ctx context.Context, pend Pending, q url.Values) (Identity, error) {
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(pend.State)) != 1 {
		return Identity{}, ErrState
	}
	if e := q.Get("error"); e != "" {
		return Identity{}, fmt.Errorf("the provider refused the sign-in: %s %s", e, q.Get("error_description"))
	}
	oc, verifier, err := p.discover(ctx)
	if err != nil {
		return Identity{}, err
	}
	ctx = oidc.ClientContext(ctx, p.client)
	tok, err := oc.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pend.Verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("sso: exchanging the code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, errors.New("sso: the token response holds no id_token")
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("sso: the ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(pend.Nonce)) != 1 {
		return Identity{}, errors.New("sso: the ID token answers another sign-in (nonce)")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("sso: the ID token's claims: %w", err)
	}
	return p.identity(idt.Subject, claims)
}

// identity reads the person and their role from verified claims.
func (p *Provider) identity(subject string, claims map[string]any) (Identity, error) {
	email, _ := claims["email"].(string)
	if email == "" {
		return Identity{}, errors.New("sso: the ID token has no email claim: ask for the email scope")
	}
	if v, ok := claims["email_verified"].(bool); ok && !v {
		return Identity{}, ErrUnverified
	}
	name, _ := claims["name"].(string)
	id := Identity{Subject: subject, Email: strings.ToLower(email), Name: name}
	values := claimValues(claims[p.cfg.RoleClaim])
	switch {
	case slices.ContainsFunc(values, func(v string) bool { return slices.Contains(p.cfg.AdminValues, v) }):
		id.Role = store.RoleAdmin
	case len(p.cfg.MemberValues) == 0 ||
		slices.ContainsFunc(values, func(v string) bool { return slices.Contains(p.cfg.MemberValues, v) }):
		id.Role = store.RoleMember
	default:
		return Identity{}, ErrNoRole
	}
	return id, nil
}

// claimValues reads a claim that is a string or a list of them.
func claimValues(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
