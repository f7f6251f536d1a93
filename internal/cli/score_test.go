package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// beacon runs the command line in-process and returns its output.
func beacon(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errw bytes.Buffer
	a := &app{stdout: &out, stderr: &errw}
	root := a.root()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errw)
	err := root.ExecuteContext(context.Background())
	return out.String() + errw.String(), err
}

// init writes a preset, rules check accepts it and names the line of a
// mistake, score --all scores the demo world, explain tells why.
func TestScoringCommands(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "beacon.yaml")
	if out, err := beacon(t, "init", "--preset", "pql-100", "--out", file); err != nil || !strings.Contains(out, "pql-100") {
		t.Fatalf("init: %s %v", out, err)
	}
	if out, err := beacon(t, "init", "--out", file); err == nil || !strings.Contains(out+err.Error(), "exists") {
		t.Fatalf("init over a file: %s %v", out, err)
	}
	out, err := beacon(t, "rules", "check", file)
	if err != nil || !strings.Contains(out, "3 scorecards, 21 rules") || !strings.Contains(out, "version") {
		t.Fatalf("rules check: %s %v", out, err)
	}
	src, _ := os.ReadFile(file)
	broken := strings.Replace(string(src), "when: free_limits_hit >= 1", "when: free_limits_hit >= lots", 1)
	_ = os.WriteFile(file, []byte(broken), 0o644)
	line := 1 + strings.Count(broken[:strings.Index(broken, "free_limits_hit >= lots")], "\n")
	if _, err := beacon(t, "rules", "check", file); err == nil || !strings.Contains(err.Error(), file+":"+strconv.Itoa(line)+":") ||
		!strings.Contains(err.Error(), "unknown name lots") {
		t.Fatalf("rules check of a broken file, want line %d: %v", line, err)
	}

	demoWorlds.copyTo(t, 150, dir)
	dsn := filepath.Join(dir, "beacon.db")
	out, err = beacon(t, "score", "--all", "--db", dsn)
	if err != nil || !strings.Contains(out, "scored") || strings.Contains(out, " 0 scores changed") {
		t.Fatalf("score --all: %s %v", out, err)
	}
	if !strings.Contains(out, "; packed ") {
		t.Fatalf("the first replay of a loaded store packs its stream, and says so: %s", out)
	}
	if out, err = beacon(t, "score", "--all", "--db", dsn); err != nil || !strings.Contains(out, " 0 scores changed") ||
		strings.Contains(out, "packed") {
		t.Fatalf("score --all again changes and packs nothing: %s %v", out, err)
	}
	out, err = beacon(t, "explain", "ws-00001", "--db", dsn)
	if err != nil || !strings.Contains(out, "account:ws-00001  pql:") || !strings.Contains(out, "signals:") {
		t.Fatalf("explain: %s %v", out, err)
	}
	if _, err = beacon(t, "explain", "ws-nope", "--db", dsn); err == nil || !strings.Contains(err.Error(), "no score") {
		t.Fatalf("explain of an unknown account: %v", err)
	}
}

// Commands that read a store refuse one that is not there, naming the path,
// and make no file; commands that fill one make it.
func TestCommandsOnAMissingStore(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "typo.db")
	for _, args := range [][]string{{"explain", "acme"}, {"stats"}, {"score", "--all"}, {"actions", "list"}} {
		out, err := beacon(t, append(args, "--db", dsn)...)
		if err == nil || !strings.Contains(err.Error(), "no store at "+dsn) {
			t.Fatalf("%v on a missing store: %s %v", args, out, err)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("refused commands left %d files", len(left))
	}
	if out, err := beacon(t, "migrate", "--db", dsn); err != nil {
		t.Fatalf("migrate makes the store: %s %v", out, err)
	}
	if out, err := beacon(t, "stats", "--db", dsn); err != nil || !strings.Contains(out, "events") {
		t.Fatalf("stats on the made store: %s %v", out, err)
	}
}
