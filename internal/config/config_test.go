package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "beacon.yaml")
	if err := os.WriteFile(file, []byte("db: from-file.db\naddr: :7000\nlog:\n  level: debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	if err := c.LoadFile(file, true); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BEACON_ADDR": ":7001", "BEACON_SHUTDOWN_TIMEOUT": "3s"}
	if err := c.LoadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if c.DB != "from-file.db" || c.Addr != ":7001" || c.Log.Level != "debug" || c.ShutdownTimeout != 3*time.Second {
		t.Fatalf("config = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "beacon.yaml")
	_ = os.WriteFile(file, []byte("db: x.db\nadr: :7000\n"), 0o600)
	c := Default()
	err := c.LoadFile(file, true)
	if err == nil || !strings.Contains(err.Error(), "[2:1]") || !strings.Contains(err.Error(), "adr") {
		t.Fatalf("unknown key error should name it and its line: %v", err)
	}
	if err := c.LoadFile(filepath.Join(dir, "absent.yaml"), false); err != nil {
		t.Fatalf("absent default file: %v", err)
	}
	if err := c.LoadFile(filepath.Join(dir, "absent.yaml"), true); err == nil {
		t.Fatal("absent named file should fail")
	}
}

func TestValidateJoinsEveryError(t *testing.T) {
	c := Config{DB: " ", Addr: "nope", Log: Log{Level: "loud", Format: "xml"}}
	err := c.Validate()
	for _, want := range []string{"db:", "addr", "log.level", "log.format", "shutdown_timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

// The scoring section: a file's own replaces the default whole, its mistakes
// name their line, and YAML the parser chokes on is an error, not a crash.
func TestScoringSection(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		file := filepath.Join(dir, "beacon.yaml")
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	for _, tc := range []struct {
		name, body string
		want       string // "" when the file must load and validate
	}{
		{"no scoring: the default preset", "db: x.db\n", ""},
		{"own rules", "scoring:\n  signals:\n    - {name: logins, measure: count, events: [Signed In]}\n  scorecards:\n" +
			"    - name: pql\n      of: account\n      rules: [{name: r, label: Logged in, when: logins > 0, points: 5}]\n" +
			"      tiers: [{name: warm, min: 5}]\n", ""},
		{"unknown key inside scoring", "scoring:\n  signals: []\n  scorecard: []\n", "[3:3]"},
		{"a rule's mistake", "scoring:\n  signals: []\n  scorecards:\n    - name: pql\n      of: account\n" +
			"      rules: [{name: r, label: x, when: logins > 0, points: 5}]\n      tiers: [{name: warm, min: 5}]\n",
			"beacon.yaml:6:"},
		{"an empty tag", "scoring:\n  scorecards: ! ", "could not be parsed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			err := c.LoadFile(write(tc.body), true)
			if err == nil {
				err = c.Validate()
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
			if tc.want == "" {
				r, err := c.Rules()
				own := strings.Contains(tc.body, "scoring")
				if err != nil || (own && len(r.Cards) != 1) || (!own && len(r.Cards) < 2) {
					t.Fatalf("rules %v %v", r, err)
				}
			}
		})
	}
}
