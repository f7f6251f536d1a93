package billing

import (
	"errors"
	"fmt"
	"time"
)

// Config is the billing section of beacon.yaml.
type Config struct {
	Stripe *StripeConfig `yaml:"stripe"`
}

// StripeConfig is how Stripe's webhooks are received.
type StripeConfig struct {
	// WebhookSecretEnv names the variable holding the endpoint's signing
	// secret (whsec_…, from the endpoint's page in Stripe's dashboard).
	WebhookSecretEnv string `yaml:"webhook_secret_env"`
	// WebhookSecret is read from it at start; never from the file.
	WebhookSecret string `yaml:"-"`
	// Tolerance is how old a signature's timestamp may be: older ones are
	// refused, so that a captured delivery cannot be replayed later.
	// Stripe's libraries default to 5 minutes; so does Beacon.
	Tolerance time.Duration `yaml:"tolerance"`
}

// DefaultTolerance is Stripe's.
const DefaultTolerance = 5 * time.Minute

// Validate reports every problem of the section at once.
func (c *Config) Validate() error {
	if c == nil || c.Stripe == nil {
		return nil
	}
	var errs []error
	s := c.Stripe
	if s.WebhookSecretEnv == "" {
		errs = append(errs, errors.New("billing.stripe.webhook_secret_env: name the variable that holds the endpoint's signing secret (whsec_…)"))
	} else if s.WebhookSecret == "" {
		errs = append(errs, fmt.Errorf("billing.stripe.webhook_secret_env: %s is not set", s.WebhookSecretEnv))
	}
	if s.Tolerance < 0 {
		errs = append(errs, fmt.Errorf("billing.stripe.tolerance %v: must be positive (default %v)", s.Tolerance, DefaultTolerance))
	}
	return errors.Join(errs...)
}
