package sso

import (
	"errors"
	"testing"

	"github.com/beaconplg/beacon/internal/store"
)

// The role comes from the role claim, a string or a list: an admin value
// wins, a member value (or none required) makes a member, anything else
// signs nobody in; an email the provider does not vouch for is refused.
func TestRoleFromClaims(t *testing.T) {
	strict := &Provider{cfg: Config{RoleClaim: "groups", AdminValues: []string{"ops"}, MemberValues: []string{"sales"}}}
	open := &Provider{cfg: Config{RoleClaim: "roles", AdminValues: []string{"ops"}}}
	tests := []struct {
		name   string
		p      *Provider
		claims map[string]any
		role   string
		err    error
	}{
		{"admin in a list", strict, map[string]any{"email": "A@X.example", "groups": []any{"sales", "ops"}}, store.RoleAdmin, nil},
		{"member as a string", strict, map[string]any{"email": "a@x.example", "groups": "sales"}, store.RoleMember, nil},
		{"no value that gives a role", strict, map[string]any{"email": "a@x.example", "groups": []any{"eng", 7}}, "", ErrNoRole},
		{"no claim", strict, map[string]any{"email": "a@x.example"}, "", ErrNoRole},
		{"anyone is a member without member values", open, map[string]any{"email": "a@x.example"}, store.RoleMember, nil},
		{"admin without member values", open, map[string]any{"email": "a@x.example", "roles": "ops"}, store.RoleAdmin, nil},
		{"unverified", open, map[string]any{"email": "a@x.example", "email_verified": false}, "", ErrUnverified},
	}
	for _, tc := range tests {
		id, err := tc.p.identity("sub", tc.claims)
		if !errors.Is(err, tc.err) || id.Role != tc.role {
			t.Errorf("%s: %+v, %v; want role %q, error %v", tc.name, id, err, tc.role, tc.err)
		}
		if err == nil && id.Email != "a@x.example" {
			t.Errorf("%s: email %q, want it lowercased", tc.name, id.Email)
		}
	}
	if _, err := open.identity("sub", map[string]any{"name": "no email"}); err == nil {
		t.Error("a token without an email signed someone in")
	}
}
