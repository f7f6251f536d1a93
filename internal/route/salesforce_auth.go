package route

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
)

// SalesforceOAuth signs Beacon in to a Salesforce org through a connected
// app, instead of a fixed access token that expires with its session: the
// JWT bearer flow (the app's certificate, a user it acts as) or the
// refresh-token flow. With it, a destination's url is where the org signs
// in (https://login.salesforce.com, https://test.salesforce.com or its My
// Domain) and records are written at the instance the token names.
type SalesforceOAuth struct {
	// Flow is "jwt" or "refresh_token".
	Flow     string `yaml:"flow"`
	ClientID string `yaml:"client_id"` // the connected app's consumer key
	// JWT bearer: the user the app acts as, and the PEM private key whose
	// certificate the app holds, from a file or an environment variable.
	Username       string `yaml:"username,omitempty"`
	PrivateKeyFile string `yaml:"private_key_file,omitempty"`
	PrivateKeyEnv  string `yaml:"private_key_env,omitempty"`
	// Refresh token: the variables holding the consumer secret and a
	// refresh token the app was granted.
	ClientSecretEnv string `yaml:"client_secret_env,omitempty"`
	RefreshTokenEnv string `yaml:"refresh_token_env,omitempty"`
	// SessionTTL is how long a session is used before Beacon signs in
	// again (default 1h: under Salesforce's shortest session timeout of
	// two hours). A session Salesforce ends sooner is renewed at once.
	SessionTTL time.Duration `yaml:"session_ttl,omitempty"`
}

// OAuth flows.
const (
	FlowJWT          = "jwt"
	FlowRefreshToken = "refresh_token"
)

const defaultSessionTTL = time.Hour

func (o *SalesforceOAuth) ttl() time.Duration {
	if o.SessionTTL > 0 {
		return o.SessionTTL
	}
	return defaultSessionTTL
}

// privateKey reads the JWT flow's key, from its file or its variable.
func (o *SalesforceOAuth) privateKey() ([]byte, error) {
	if o.PrivateKeyEnv != "" {
		if v := os.Getenv(o.PrivateKeyEnv); v != "" {
			return []byte(v), nil
		}
		return nil, fmt.Errorf("%s is not set", o.PrivateKeyEnv)
	}
	return os.ReadFile(o.PrivateKeyFile)
}

// checkKey says whether key is a PEM RSA private key, unencrypted (PKCS
// #1 or #8), as the JWT flow signs with.
func checkKey(key []byte, err error) error {
	if err != nil {
		return err
	}
	block, _ := pem.Decode(key)
	if block == nil {
		return errors.New("not PEM: want the key as openssl writes it (-----BEGIN PRIVATE KEY-----)")
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if _, rsa := k.(*rsa.PrivateKey); err != nil || !rsa {
		return errors.New("not an unencrypted RSA private key")
	}
	return nil
}

// check names what is missing for the flow, each as field: problem.
func (o *SalesforceOAuth) check() []string {
	var out []string
	if o.ClientID == "" {
		out = append(out, "oauth.client_id: the connected app's consumer key is required")
	}
	switch o.Flow {
	case FlowJWT:
		if o.Username == "" {
			out = append(out, "oauth.username: the user the app acts as is required for the jwt flow")
		}
		if (o.PrivateKeyFile == "") == (o.PrivateKeyEnv == "") {
			out = append(out, "oauth.private_key_file or private_key_env: exactly one is required for the jwt flow")
		} else if err := checkKey(o.privateKey()); err != nil {
			out = append(out, fmt.Sprintf("oauth: the private key: %v", err))
		}
	case FlowRefreshToken:
		for field, env := range map[string]string{"client_secret_env": o.ClientSecretEnv, "refresh_token_env": o.RefreshTokenEnv} {
			if env == "" || os.Getenv(env) == "" {
				out = append(out, fmt.Sprintf("oauth.%s: name a variable that is set, for the refresh_token flow", field))
			}
		}
	default:
		out = append(out, fmt.Sprintf("oauth.flow %q: want jwt or refresh_token", o.Flow))
	}
	return out
}

// session is a Salesforce access token and the instance it works at: fixed
// (a token given), or signed in for through OAuth, again after its TTL and
// whenever Salesforce says it ended.
type session struct {
	fetch func(ctx context.Context) (*oauth2.Token, error) // nil: a fixed token
	ttl   time.Duration
	now   func() time.Time

	mu              sync.Mutex
	token, instance string
	at              time.Time
}

// newSession is the session of a Salesforce destination.
func newSession(sp Spec, client *http.Client, now func() time.Time) *session {
	base := strings.TrimSuffix(sp.URL, "/")
	o := sp.OAuth
	if o == nil {
		return &session{token: sp.secret(), instance: base, now: now}
	}
	tokenURL := base + "/services/oauth2/token"
	s := &session{ttl: o.ttl(), now: now}
	with := func(ctx context.Context) context.Context { return context.WithValue(ctx, oauth2.HTTPClient, client) }
	switch o.Flow {
	case FlowJWT:
		s.fetch = func(ctx context.Context) (*oauth2.Token, error) {
			key, err := o.privateKey()
			if err != nil {
				return nil, err
			}
			// Salesforce takes an assertion that expires within three
			// minutes, whose audience is where the org signs in.
			cfg := &jwt.Config{Email: o.ClientID, Subject: o.Username, PrivateKey: key, TokenURL: tokenURL,
				Audience: base, Expires: 3 * time.Minute}
			return cfg.TokenSource(with(ctx)).Token()
		}
	case FlowRefreshToken:
		s.fetch = func(ctx context.Context) (*oauth2.Token, error) {
			cfg := &oauth2.Config{ClientID: o.ClientID, ClientSecret: os.Getenv(o.ClientSecretEnv),
				Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
			return cfg.TokenSource(with(ctx), &oauth2.Token{RefreshToken: os.Getenv(o.RefreshTokenEnv)}).Token()
		}
	}
	return s
}

// get returns a token and the instance to use it at, signing in first if
// there is none or it is older than the TTL.
func (s *session) get(ctx context.Context) (token, instance string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fetch == nil || (s.token != "" && s.now().Sub(s.at) < s.ttl) {
		return s.token, s.instance, nil
	}
	tok, err := s.fetch(ctx)
	if err != nil {
		return "", "", fmt.Errorf("signing in to Salesforce: %w", err)
	}
	instance, _ = tok.Extra("instance_url").(string)
	if tok.AccessToken == "" || instance == "" {
		return "", "", errors.New("signing in to Salesforce: the answer lacks access_token or instance_url")
	}
	s.token, s.instance, s.at = tok.AccessToken, strings.TrimSuffix(instance, "/"), s.now()
	return s.token, s.instance, nil
}

// ended forgets token, which Salesforce said is no longer a session, so
// that the next get signs in again; it reports whether one can.
func (s *session) ended(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fetch == nil {
		return false
	}
	if s.token == token {
		s.token = ""
	}
	return true
}

// sessionEnded reports whether err is Salesforce's answer to a session
// that expired or was revoked: 401 INVALID_SESSION_ID.
func sessionEnded(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Status == http.StatusUnauthorized && strings.Contains(se.Err.Error(), "INVALID_SESSION_ID")
}
