package cli

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// users add makes a password when none is given and prints it once; a taken
// email, an unknown role and a short password are refused by name.
func TestUsersAdd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "b.db")
	out, err := beacon(t, "users", "add", "ana@example.com", "--role", "admin", "--db", db)
	if err != nil || !regexp.MustCompile(`ana@example.com can sign in as admin with the password \S{20}\n`).MatchString(out) {
		t.Fatalf("add: %q %v", out, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"users", "add", "ANA@example.com"}, "conflict"},
		{[]string{"users", "add", "bo@example.com", "--role", "owner"}, `role "owner"`},
		{[]string{"users", "add", "not-an-email"}, `email "not-an-email"`},
	} {
		out, err := beacon(t, append(tc.args, "--db", db)...)
		if err == nil || !strings.Contains(out+err.Error(), tc.want) {
			t.Errorf("%v: %q %v, want an error with %q", tc.args, out, err, tc.want)
		}
	}
}
