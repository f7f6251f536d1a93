package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/sso"
	"github.com/beaconplg/beacon/internal/sso/ssotest"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/web"
)

// later is the provider, made once the site's address is known (its
// redirect URL names it).
type later struct{ *sso.Provider }

// Single sign-on against a provider on loopback: the role comes from the
// groups claim, each sign-in sets it again, and every token that is wrong
// in one way (another key, another nonce, expired), a person the claims
// give no role, an unverified email and a callback this browser did not
// begin are refused without a session.
func TestSingleSignOn(t *testing.T) {
	idp := ssotest.New(t)
	holder := &later{}
	srv, db := site(t, func(d *web.Deps) { d.SSO = holder })
	holder.Provider = sso.New(sso.Config{Issuer: idp.URL, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		RedirectURL: srv.URL + "/login/sso/callback", Label: "Acme ID", RoleClaim: "groups",
		AdminValues: []string{"beacon-admins"}, MemberValues: []string{"sales"}}, nil, nil)

	follow := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar}
	}
	signOn := func(c *http.Client, claims map[string]any) (*http.Response, string) {
		t.Helper()
		idp.SignIn(claims)
		resp, err := c.Get(srv.URL + "/login/sso?next=" + url.QueryEscape("/accounts/acme"))
		if err != nil {
			t.Fatal(err)
		}
		return resp, body(t, resp)
	}
	who := func(email string, groups any) map[string]any {
		return map[string]any{"sub": "sub-" + email, "email": email, "email_verified": true, "name": "Zoe Quinn", "groups": groups}
	}
	role := func(email string) string {
		p, err := db.PersonByEmail(context.Background(), email)
		if err != nil {
			return "none"
		}
		return p.Role
	}

	login, _ := browser(t).Get(srv.URL + "/login")
	if page := body(t, login); !strings.Contains(page, `href="/login/sso?next=%2f"`) || !strings.Contains(page, "Sign in with Acme ID") {
		t.Fatalf("the sign-in page offers no single sign-on:\n%s", page)
	}

	c := follow()
	resp, page := signOn(c, who("zoe@seller.example", []any{"sales", "beacon-admins"}))
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/accounts/acme" || !strings.Contains(page, "<h1>Acme") {
		t.Fatalf("an admin's sign-on: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if r := role("zoe@seller.example"); r != store.RoleAdmin {
		t.Fatalf("role after signing on with the admin group: %s", r)
	}
	// The next sign-on, in the sales group alone: a member now.
	if resp, _ := signOn(follow(), who("zoe@seller.example", "sales")); resp.StatusCode != 200 || role("zoe@seller.example") != store.RoleMember {
		t.Fatalf("a member's sign-on: %d, role %s", resp.StatusCode, role("zoe@seller.example"))
	}
	// A person known by password keeps it, and takes the role the claims give.
	if resp, _ := signOn(follow(), who("ana@seller.example", []any{"beacon-admins"})); resp.StatusCode != 200 || role("ana@seller.example") != store.RoleAdmin {
		t.Fatalf("a known person's sign-on: %d, role %s", resp.StatusCode, role("ana@seller.example"))
	}
	signedIn(t, srv) // her password still works

	refused := []struct {
		name   string
		claims map[string]any
		tamper *bool
		status int
		says   string
	}{
		{"no group that gives a role", who("max@seller.example", []any{"marketing"}), nil, 403, "no role in Beacon"},
		{"no groups claim", map[string]any{"sub": "s", "email": "max@seller.example", "email_verified": true}, nil, 403, "no role in Beacon"},
		{"an unverified email", map[string]any{"sub": "s", "email": "max@seller.example", "email_verified": false, "groups": "sales"}, nil, 403, "does not vouch"},
		{"a token signed with a key not published", who("max@seller.example", "sales"), &idp.ForeignKey, 502, "failed"},
		{"a token for another sign-in", who("max@seller.example", "sales"), &idp.WrongNonce, 502, "failed"},
		{"an expired token", who("max@seller.example", "sales"), &idp.Expired, 502, "failed"},
	}
	for _, tc := range refused {
		if tc.tamper != nil {
			*tc.tamper = true
		}
		c := follow()
		resp, page := signOn(c, tc.claims)
		if tc.tamper != nil {
			*tc.tamper = false
		}
		if resp.StatusCode != tc.status || !strings.Contains(page, tc.says) {
			t.Errorf("%s: %d, want %d saying %q", tc.name, resp.StatusCode, tc.status, tc.says)
		}
		if home, _ := c.Get(srv.URL + "/"); home.Request.URL.Path != "/login" {
			t.Errorf("%s: a session opened", tc.name)
		}
		if r := role("max@seller.example"); r != "none" {
			t.Errorf("%s: a person was made (%s)", tc.name, r)
		}
	}

	// A callback this browser did not begin: the provider's answer to
	// someone else's sign-in, replayed.
	idp.SignIn(who("zoe@seller.example", "sales"))
	noFollow := browser(t)
	start, err := noFollow.Get(srv.URL + "/login/sso")
	if err != nil {
		t.Fatal(err)
	}
	start.Body.Close()
	back, err := noFollow.Get(start.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	back.Body.Close()
	stranger := browser(t)
	resp, err = stranger.Get(back.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if page := body(t, resp); resp.StatusCode != 400 || !strings.Contains(page, "not started here") {
		t.Fatalf("a callback another browser began: %d", resp.StatusCode)
	}

	log, err := db.AuditLog(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var signIns, refusals int
	for _, e := range log {
		switch e.Action {
		case store.AuditSignIn:
			signIns++
		case store.AuditSignInRefused:
			refusals++
		}
	}
	if signIns < 4 || refusals != 3 {
		t.Fatalf("audit log: %d sign-ins, %d refusals: %+v", signIns, refusals, log)
	}
}
