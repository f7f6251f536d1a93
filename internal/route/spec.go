package route

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// Destination types.
const (
	Webhook    = "webhook"
	Slack      = "slack"
	HubSpot    = "hubspot"
	Salesforce = "salesforce"
)

// Spec is one destination in beacon.yaml.
type Spec struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`
	// URL is where to post (webhook, slack) or the API's base URL (hubspot:
	// https://api.hubapi.com; salesforce: the org's instance URL).
	URL string `yaml:"url"`
	// Secret signs webhooks (whsec_ followed by base64, as Standard
	// Webhooks has it) or is the CRM's access token. SecretEnv names an
	// environment variable to read it from instead, to keep it out of files.
	Secret    string `yaml:"secret,omitempty"`
	SecretEnv string `yaml:"secret_env,omitempty"`
	// MaxAttempts before a delivery is dead (default 10).
	MaxAttempts int `yaml:"max_attempts,omitempty"`
	// Timeout of one attempt (default 10s).
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// CRM: the object written, the property (HubSpot) or external id field
	// (Salesforce) that finds it, and properties to set, each a Beacon field
	// (see Fields) by CRM property name.
	Object     string            `yaml:"object,omitempty"`
	IDProperty string            `yaml:"id_property,omitempty"`
	Properties map[string]string `yaml:"properties,omitempty"`
	// IDField is the Beacon field whose value IDProperty holds (default
	// account_id; crm_id writes onto the linked CRM record; per person,
	// user_email).
	IDField string `yaml:"id_field,omitempty"`
	// Per says what a record is: the account (default), or each of its
	// people with an email (contacts, leads), given the account's fields.
	Per string `yaml:"per,omitempty"`
	// RateLimit caps requests per second to the destination (CRMs limit
	// their APIs); 0 is no cap.
	RateLimit float64 `yaml:"rate_limit,omitempty"`
	// Create, for a CRM, makes records that no existing one matches; without
	// it Beacon only updates what it finds, and says which it did not.
	Create bool `yaml:"create,omitempty"`
	// OAuth, for Salesforce, signs in through a connected app instead of
	// a fixed token (secret), and keeps the session alive.
	OAuth *SalesforceOAuth `yaml:"oauth,omitempty"`
}

const (
	defaultAttempts = 10
	defaultTimeout  = 10 * time.Second
	maxAttempts     = 100
)

var destName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// secret returns the destination's secret, from the environment if named.
func (s Spec) secret() string {
	if s.SecretEnv != "" {
		return os.Getenv(s.SecretEnv)
	}
	return s.Secret
}

func (s Spec) attempts() int {
	if s.MaxAttempts == 0 {
		return defaultAttempts
	}
	return s.MaxAttempts
}

// What a CRM record stands for.
const (
	PerAccount = "account"
	PerPerson  = "person"
)

func (s Spec) idField() string {
	switch {
	case s.IDField != "":
		return s.IDField
	case s.Per == PerPerson:
		return "user_email"
	}
	return "account_id"
}

func (s Spec) timeout() time.Duration {
	if s.Timeout == 0 {
		return defaultTimeout
	}
	return s.Timeout
}

// Validate checks destinations, each problem named by its index and field.
func Validate(specs []Spec) error {
	var errs []error
	seen := map[string]bool{}
	for i, s := range specs {
		fail := func(field, format string, args ...any) {
			errs = append(errs, fmt.Errorf("destinations[%d].%s: %s", i, field, fmt.Sprintf(format, args...)))
		}
		switch {
		case !destName.MatchString(s.Name):
			fail("name", "%q: want lower-case letters, digits, - or _", s.Name)
		case seen[s.Name]:
			fail("name", "destination %q is defined twice", s.Name)
		}
		seen[s.Name] = true
		switch s.Type {
		case Webhook, Slack, HubSpot, Salesforce:
		default:
			fail("type", "%q: want webhook, slack, hubspot or salesforce", s.Type)
		}
		if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			fail("url", "%q: want an http(s) URL", s.URL)
		}
		if s.Secret != "" && s.SecretEnv != "" {
			fail("secret", "set secret or secret_env, not both")
		}
		if s.SecretEnv != "" && os.Getenv(s.SecretEnv) == "" {
			fail("secret_env", "%s is not set", s.SecretEnv)
		}
		if err := checkSecret(s); err != nil {
			fail("secret", "%v", err)
		}
		if s.MaxAttempts < 0 || s.MaxAttempts > maxAttempts {
			fail("max_attempts", "%d: want 1 to %d", s.MaxAttempts, maxAttempts)
		}
		if s.Timeout < 0 || s.RateLimit < 0 {
			fail("timeout", "timeout and rate_limit cannot be negative")
		}
		if s.Type == HubSpot || s.Type == Salesforce {
			errs = append(errs, checkCRM(i, s)...)
		}
	}
	return errors.Join(errs...)
}

func checkSecret(s Spec) error {
	secret := s.secret()
	switch s.Type {
	case Webhook:
		if secret == "" {
			return errors.New("a webhook needs a signing secret (whsec_…): receivers verify with it")
		}
		if _, err := decodeSecret(secret); err != nil {
			return err
		}
	case Salesforce:
		switch {
		case s.OAuth != nil && (s.Secret != "" || s.SecretEnv != ""):
			return errors.New("salesforce takes oauth or an access token (secret), not both")
		case s.OAuth != nil:
			if problems := s.OAuth.check(); len(problems) > 0 {
				return errors.New(strings.Join(problems, "; "))
			}
		case secret == "" && s.SecretEnv == "":
			return errors.New("salesforce needs oauth (a connected app) or an access token")
		}
	case HubSpot:
		if secret == "" && s.SecretEnv == "" {
			return fmt.Errorf("%s needs an access token", s.Type)
		}
	}
	if s.OAuth != nil && s.Type != Salesforce {
		return fmt.Errorf("oauth is for salesforce, not %s", s.Type)
	}
	return nil
}

func checkCRM(i int, s Spec) []error {
	var errs []error
	if s.Object == "" {
		errs = append(errs, fmt.Errorf("destinations[%d].object: name the CRM object to write", i))
	}
	if s.IDProperty == "" {
		errs = append(errs, fmt.Errorf("destinations[%d].id_property: name the property that finds the record", i))
	}
	if len(s.Properties) == 0 {
		errs = append(errs, fmt.Errorf("destinations[%d].properties: map at least one CRM property to a Beacon field", i))
	}
	if s.Per != "" && s.Per != PerAccount && s.Per != PerPerson {
		errs = append(errs, fmt.Errorf("destinations[%d].per: %q: want account or person", i, s.Per))
	}
	if s.Create && s.Type == HubSpot && s.IDProperty == "hs_object_id" {
		errs = append(errs, fmt.Errorf("destinations[%d].create: HubSpot chooses hs_object_id itself, so records cannot be made by it: find them by a property Beacon can set, or drop create", i))
	}
	if s.IDField != "" && !knownField(s.IDField) {
		errs = append(errs, fmt.Errorf("destinations[%d].id_field: %q is not a Beacon field", i, s.IDField))
	}
	for prop, field := range s.Properties {
		if !knownField(field) {
			errs = append(errs, fmt.Errorf("destinations[%d].properties.%s: %q is not a Beacon field (want one of %s, or signals.NAME)",
				i, prop, field, strings.Join(Fields, ", ")))
		}
	}
	return errs
}
