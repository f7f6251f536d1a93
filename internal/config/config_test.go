package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/sso"
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
	env := map[string]string{"BEACON_ADDR": ":7001", "BEACON_SHUTDOWN_TIMEOUT": "3s", "BEACON_STAGE_MAX_LAG": "90s"}
	if err := c.LoadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if c.DB != "from-file.db" || c.Addr != ":7001" || c.Log.Level != "debug" || c.ShutdownTimeout != 3*time.Second ||
		c.StageMaxLag != 90*time.Second {
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
	c := Config{DB: " ", Addr: "nope", Log: Log{Level: "loud", Format: "xml"}, StageMaxLag: -time.Second}
	err := c.Validate()
	for _, want := range []string{"db:", "addr", "log.level", "log.format", "shutdown_timeout", "stage_max_lag"} {
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
			if err == nil { // config decodes; scoring compiles what it hands over
				_, err = score.Compile(*c.Scoring)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
			if tc.want == "" {
				r, err := score.Compile(*c.Scoring)
				own := strings.Contains(tc.body, "scoring")
				if err != nil || (own && len(r.Cards) != 1) || (!own && len(r.Cards) < 2) {
					t.Fatalf("rules %v %v", r, err)
				}
			}
		})
	}
}

// Destinations are checked with the rest: each mistake names its entry and
// field, and an action may only send to a destination that is declared.
func TestDestinations(t *testing.T) {
	const scoring = `scoring:
  signals: [{name: logins, measure: count, events: [Signed In]}]
  scorecards:
    - name: pql
      of: account
      rules: [{name: r, label: Logged in, when: logins > 0, points: 5}]
      tiers: [{name: warm, min: 5}]
  routing:
    scorecard: pql
    segments: [{name: all, zone: sales_available}]
    zones: {sales_available: {tiers: {warm: [tell]}}}
    actions: [{name: tell, label: Tell sales, to: [sales-hook]}]
`
	secret := "whsec_" + strings.Repeat("QUJD", 8)
	t.Setenv("BEACON_TEST_HOOK_SECRET", secret)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	t.Setenv("BEACON_TEST_SF_KEY", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	for _, tc := range []struct {
		name, destinations string
		want               []string // fragments of the error; none when valid
	}{
		{"declared", "destinations:\n  - {name: sales-hook, type: webhook, url: 'https://hooks.example.com/b', secret_env: BEACON_TEST_HOOK_SECRET}\n", nil},
		{"not declared", "destinations:\n  - {name: other, type: slack, url: 'https://hooks.slack.com/services/T/B/x'}\n",
			[]string{`an action sends to "sales-hook", which is not among the destinations`}},
		{"webhook without a secret", "destinations:\n  - {name: sales-hook, type: webhook, url: 'https://hooks.example.com/b'}\n",
			[]string{"destinations[0].secret: a webhook needs a signing secret"}},
		{"secret not in the environment", "destinations:\n  - {name: sales-hook, type: webhook, url: 'https://h.example.com', secret_env: BEACON_NOT_SET_ANYWHERE}\n",
			[]string{"destinations[0].secret_env: BEACON_NOT_SET_ANYWHERE is not set"}},
		{"bad url, bad type, twice the name", "destinations:\n  - {name: sales-hook, type: webhook, url: 'ftp://x', secret: '" + secret + "'}\n" +
			"  - {name: sales-hook, type: pager, url: 'https://x.example.com'}\n",
			[]string{`destinations[0].url: "ftp://x"`, `destinations[1].name: destination "sales-hook" is defined twice`,
				`destinations[1].type: "pager"`}},
		{"a CRM without its mapping", "destinations:\n  - {name: sales-hook, type: hubspot, url: 'https://api.hubapi.com', secret: t}\n",
			[]string{"destinations[0].object", "destinations[0].id_property", "destinations[0].properties"}},
		{"salesforce by the jwt flow", "destinations:\n  - {name: sales-hook, type: salesforce, url: 'https://login.salesforce.com', object: Account, id_property: Beacon_Id__c, properties: {Beacon_Score__c: score}, oauth: {flow: jwt, client_id: k, username: u@x.example, private_key_env: BEACON_TEST_SF_KEY}}\n", nil},
		{"salesforce by the jwt flow, not a key", "destinations:\n  - {name: sales-hook, type: salesforce, url: 'https://login.salesforce.com', object: Account, id_property: Beacon_Id__c, properties: {Beacon_Score__c: score}, oauth: {flow: jwt, client_id: k, username: u@x.example, private_key_env: BEACON_TEST_HOOK_SECRET}}\n",
			[]string{"oauth: the private key: not PEM"}},
		{"salesforce by the jwt flow, half said", "destinations:\n  - {name: sales-hook, type: salesforce, url: 'https://login.salesforce.com', object: Account, id_property: Beacon_Id__c, properties: {Beacon_Score__c: score}, oauth: {flow: jwt}}\n",
			[]string{"oauth.client_id", "oauth.username", "oauth.private_key_file or private_key_env"}},
		{"salesforce by refresh token, variables unset", "destinations:\n  - {name: sales-hook, type: salesforce, url: 'https://login.salesforce.com', object: Account, id_property: Beacon_Id__c, properties: {Beacon_Score__c: score}, oauth: {flow: refresh_token, client_id: k, client_secret_env: BEACON_NOPE_1}}\n",
			[]string{"oauth.client_secret_env", "oauth.refresh_token_env"}},
		{"salesforce with a token and oauth", "destinations:\n  - {name: sales-hook, type: salesforce, url: 'https://login.salesforce.com', secret: t, object: Account, id_property: Beacon_Id__c, properties: {Beacon_Score__c: score}, oauth: {flow: jwt}}\n",
			[]string{"oauth or an access token (secret), not both"}},
		{"oauth for hubspot", "destinations:\n  - {name: sales-hook, type: hubspot, url: 'https://api.hubapi.com', secret: t, object: Account, id_property: Beacon_Id__c, properties: {Beacon_Score__c: score}, oauth: {flow: jwt}}\n",
			[]string{"oauth is for salesforce"}},
		{"an unknown flow", "destinations:\n  - {name: sales-hook, type: salesforce, url: 'https://login.salesforce.com', object: Account, id_property: Beacon_Id__c, properties: {Beacon_Score__c: score}, oauth: {flow: password, client_id: k}}\n",
			[]string{`oauth.flow "password": want jwt or refresh_token`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "beacon.yaml")
			if err := os.WriteFile(file, []byte(scoring+tc.destinations), 0o600); err != nil {
				t.Fatal(err)
			}
			c := Default()
			err := c.LoadFile(file, true)
			if err == nil {
				err = c.Validate()
			}
			if len(tc.want) == 0 && err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v lacks %q", err, w)
				}
			}
		})
	}
}

// The sso section: its secret from the variable it names, its redirect
// under public_url, and each mistake said.
func TestSSOSection(t *testing.T) {
	file := filepath.Join(t.TempDir(), "beacon.yaml")
	_ = os.WriteFile(file, []byte(`public_url: https://beacon.example.com/
sso:
  issuer: https://id.example.com
  client_id: beacon
  client_secret_env: ID_SECRET
  role_claim: groups
  admin_values: [beacon-admins]
`), 0o600)
	c := Default()
	if err := c.LoadFile(file, true); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ID_SECRET": "shh"}
	if err := c.LoadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	s := c.SignOn()
	if s.ClientSecret != "shh" || s.RedirectURL != "https://beacon.example.com/login/sso/callback" || c.Validate() != nil {
		t.Fatalf("sso = %+v, %v", s, c.Validate())
	}
	c = Default()
	_ = c.LoadFile(file, true)
	if err := c.LoadEnv(func(string) (string, bool) { return "", false }); err == nil || !strings.Contains(err.Error(), "ID_SECRET is not set") {
		t.Fatalf("a secret variable unset: %v", err)
	}
	c.PublicURL, c.SSO = "", &sso.Config{Issuer: "id.example.com", AdminValues: []string{"x"}}
	err := c.Validate()
	for _, want := range []string{"sso.issuer", "sso.client_id", "sso.client_secret", "sso.redirect_url", "sso.role_claim"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

// The billing section names where Stripe's signing secret is; a missing
// name, an unset variable or a negative tolerance is refused, naming it.
func TestBillingSection(t *testing.T) {
	t.Setenv("BEACON_TEST_STRIPE_SECRET", "whsec_test")
	dir := t.TempDir()
	for _, tc := range []struct{ name, body, want string }{
		{"set", "billing:\n  stripe: {webhook_secret_env: BEACON_TEST_STRIPE_SECRET, tolerance: 10m}\n", ""},
		{"no variable named", "billing:\n  stripe: {tolerance: 10m}\n", "billing.stripe.webhook_secret_env: name the variable"},
		{"variable not set", "billing:\n  stripe: {webhook_secret_env: BEACON_NOT_SET_ANYWHERE}\n", "BEACON_NOT_SET_ANYWHERE is not set"},
		{"negative tolerance", "billing:\n  stripe: {webhook_secret_env: BEACON_TEST_STRIPE_SECRET, tolerance: -1s}\n", "billing.stripe.tolerance -1s"},
		{"unknown key", "billing:\n  stripe: {secret: whsec_x}\n", "[2:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadBody(t, dir, tc.name, tc.body)
			switch {
			case tc.want == "" && (err != nil || c.Billing.Stripe.WebhookSecret != "whsec_test" || c.Billing.Stripe.Tolerance != 10*time.Minute):
				t.Fatalf("%v; %+v", err, c.Billing.Stripe)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

// The metrics section merges with its defaults, and each mistake is named
// by its key.
func TestMetricsSection(t *testing.T) {
	dir := t.TempDir()
	dests := "destinations:\n  - {name: growth, type: slack, url: 'https://hooks.slack.com/services/T/B/x'}\n" +
		"  - {name: crm, type: hubspot, url: 'https://api.hubapi.com', secret: t, object: companies, id_property: beacon_account_id, properties: {beacon_score: score}}\n"
	for _, tc := range []struct{ name, body, want string }{
		{"set", dests + "metrics:\n  activation_event: Project Created\n  core_features: [A, B]\n  targets: {free_to_paid: 6}\n  alert_to: [growth]\n", ""},
		{"unknown target", "metrics:\n  targets: {free_to_pay: 6}\n", "metrics.targets.free_to_pay: no such metric"},
		{"bad model", "metrics:\n  model: enterprise\n", `metrics.model "enterprise": want freemium or trial`},
		{"repeated feature", "metrics:\n  core_features: [A, A]\n", `metrics.core_features[1] "A": empty or repeated`},
		{"no sign-up", "metrics:\n  signup_event: ''\n", "metrics.signup_event: name the event"},
		{"alerts to nowhere", "metrics:\n  alert_to: [ops]\n", `metrics.alert_to[0] "ops": no such destination`},
		{"alerts to a CRM", dests + "metrics:\n  alert_to: [crm]\n", `metrics.alert_to[0] "crm": a hubspot destination cannot carry band alerts`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadBody(t, dir, tc.name, tc.body)
			m := c.Metrics
			switch {
			case tc.want == "" && (err != nil || m.SignUpEvent != "Signed Up" || m.ActivationEvent != "Project Created" ||
				len(m.CoreFeatures) != 2 || m.Targets["free_to_paid"] != 6 || m.AlertTo[0] != "growth"):
				t.Fatalf("%v; %+v", err, m)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

// loadBody writes a beacon.yaml of body and loads it as `beacon serve`
// does: the file, the environment, then validation.
func loadBody(t *testing.T, dir, name, body string) (Config, error) {
	t.Helper()
	file := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	err := c.LoadFile(file, true)
	if err == nil {
		err = c.LoadEnv(os.LookupEnv)
	}
	if err == nil {
		err = c.Validate()
	}
	return c, err
}
