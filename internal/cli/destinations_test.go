package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// destinations check reads each CRM destination's object and fails when
// one cannot be read or lacks what its mapping needs; setup takes only a
// CRM destination that exists.
func TestDestinationsCommands(t *testing.T) {
	file := filepath.Join(t.TempDir(), "beacon.yaml")
	t.Setenv("BEACON_TEST_WHSEC", "whsec_"+strings.Repeat("QUJD", 8))
	err := os.WriteFile(file, []byte(`destinations:
  - {name: hook, type: webhook, url: 'https://hooks.example.com/b', secret_env: BEACON_TEST_WHSEC}
  - {name: hubspot, type: hubspot, url: 'http://127.0.0.1:1', secret: t, object: companies, id_property: beacon_account_id,
     properties: {beacon_score: score}, timeout: 2s, max_attempts: 1}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	out, err := beacon(t, "destinations", "check", "--config", file)
	if err == nil || !strings.Contains(out, "hubspot: reading the companies properties") || strings.Contains(out, "hook:") {
		t.Fatalf("check with HubSpot unreachable: %q, %v", out, err)
	}
	for _, args := range [][]string{{"destinations", "setup", "nope"}, {"destinations", "setup", "hook"}, {"destinations", "setup"}} {
		if out, err := beacon(t, append(args, "--config", file)...); err == nil {
			t.Errorf("%v succeeded: %s", args, out)
		}
	}
}
