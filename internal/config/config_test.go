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
