// Package config owns Beacon's typed configuration: where it comes from (an
// optional beacon.yaml, then BEACON_* environment variables, then flags, each
// overriding the one before) and its validation, done once with every problem
// reported together.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/growth"
	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/sso"
)

// Config is everything Beacon reads at start.
type Config struct {
	// DB is a SQLite file path or a postgres:// URL.
	DB string `yaml:"db"`
	// Addr is where `beacon serve` listens.
	Addr string `yaml:"addr"`
	Log  Log    `yaml:"log"`
	// ShutdownTimeout bounds how long in-flight requests may finish on stop.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// StageMaxLag is how far identity or scoring may fall behind what was
	// committed before /readyz says so; 0 never does.
	StageMaxLag time.Duration `yaml:"stage_max_lag"`
	// Scoring holds the signals, scorecards and tiers; without a scoring
	// section the default preset applies.
	Scoring *score.Spec `yaml:"scoring"`
	// Destinations carry alerts out: webhooks, Slack, HubSpot, Salesforce.
	// Routing actions name them.
	Destinations []route.Spec `yaml:"destinations"`
	// PublicURL is where people open Beacon (https://beacon.example.com),
	// for links in messages; empty for none.
	PublicURL string `yaml:"public_url"`
	// SSO, if set, signs people in to the web app with an OpenID Connect
	// provider beside passwords.
	SSO *sso.Config `yaml:"sso"`
	// Billing, if set, receives the billing system's events (Stripe's
	// webhooks).
	Billing *billing.Config `yaml:"billing"`
	// Metrics names the events the PLG metrics count (sign-up,
	// activation, onboarding, invitations, core features) and their
	// targets.
	Metrics growth.Config `yaml:"metrics"`
}

// SignOn is the single sign-on section as it is used: its redirect URL,
// when not given, under public_url. nil without one.
func (c Config) SignOn() *sso.Config {
	if c.SSO == nil {
		return nil
	}
	s := *c.SSO
	if s.RedirectURL == "" && c.PublicURL != "" {
		s.RedirectURL = strings.TrimSuffix(c.PublicURL, "/") + "/login/sso/callback"
	}
	return &s
}

// Log configures structured logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Default is the configuration with nothing set: an embedded store in the
// working directory.
func Default() Config {
	// The default preset is embedded and compiled by the tests: it cannot be
	// missing, and Validate would say so if it were.
	scoring, _ := score.Preset(score.DefaultPreset)
	return Config{DB: "beacon.db", Addr: ":8080", Log: Log{Level: "info", Format: "text"}, ShutdownTimeout: 15 * time.Second,
		StageMaxLag: 5 * time.Minute, Scoring: scoring, Metrics: growth.Default()}
}

// DefaultFile is read when it exists and no other file is named.
const DefaultFile = "beacon.yaml"

// LoadFile overlays a YAML file on c. A file named explicitly must exist; the
// default one may be absent. Unknown keys are errors, with their line.
func (c *Config) LoadFile(path string, explicit bool) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	// A scoring section replaces the default one whole: merging two sets of
	// rules would score by rules nobody wrote.
	defaults := c.Scoring
	c.Scoring = nil
	if err := score.DecodeYAML(data, c, true); err != nil {
		c.Scoring = defaults
		return fmt.Errorf("config %s: %w", path, err)
	}
	if c.Scoring == nil {
		c.Scoring = defaults
	} else {
		c.Scoring.Source, c.Scoring.File, c.Scoring.Path = data, path, "$.scoring"
	}
	return nil
}

// LoadEnv overlays BEACON_* variables found by lookup (os.LookupEnv).
func (c *Config) LoadEnv(lookup func(string) (string, bool)) error {
	var errs []error
	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok {
			*dst = v
		}
	}
	str("BEACON_DB", &c.DB)
	str("BEACON_ADDR", &c.Addr)
	str("BEACON_LOG_LEVEL", &c.Log.Level)
	str("BEACON_LOG_FORMAT", &c.Log.Format)
	str("BEACON_PUBLIC_URL", &c.PublicURL)
	if c.SSO != nil && c.SSO.ClientSecretEnv != "" {
		v, ok := lookup(c.SSO.ClientSecretEnv)
		if !ok {
			errs = append(errs, fmt.Errorf("sso.client_secret_env: %s is not set", c.SSO.ClientSecretEnv))
		}
		c.SSO.ClientSecret = v
	}
	if c.Billing != nil && c.Billing.Stripe != nil && c.Billing.Stripe.WebhookSecretEnv != "" {
		// Validate names a variable that is not set.
		c.Billing.Stripe.WebhookSecret, _ = lookup(c.Billing.Stripe.WebhookSecretEnv)
	}
	for _, e := range []struct {
		name string
		dst  *time.Duration
	}{{"BEACON_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout}, {"BEACON_STAGE_MAX_LAG", &c.StageMaxLag}} {
		if v, ok := lookup(e.name); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", e.name, err))
			}
			*e.dst = d
		}
	}
	return errors.Join(errs...)
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.DB) == "" {
		errs = append(errs, errors.New("db: must name a SQLite file or a postgres:// URL"))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: want host:port, e.g. :8080", c.Addr))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level %q: want debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log.format %q: want text or json", c.Log.Format))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown_timeout %v: must be positive", c.ShutdownTimeout))
	}
	if c.StageMaxLag < 0 {
		errs = append(errs, fmt.Errorf("stage_max_lag %v: must be 0 (never) or positive", c.StageMaxLag))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("public_url %q: want an http(s) URL", c.PublicURL))
		}
	}
	if s := c.SignOn(); s != nil {
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.Billing.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Metrics.Validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.bandAlertsTo()...)
	if err := route.Validate(c.Destinations); err != nil {
		errs = append(errs, err)
	}
	switch {
	case c.Scoring == nil:
		errs = append(errs, errors.New("scoring: no rules"))
	case c.Scoring.Routing != nil:
		for _, d := range c.Scoring.Routing.Destinations() {
			if !slices.ContainsFunc(c.Destinations, func(s route.Spec) bool { return s.Name == d }) {
				errs = append(errs, fmt.Errorf("scoring.routing: an action sends to %q, which is not among the destinations", d))
			}
		}
	}
	return errors.Join(errs...)
}

// bandAlertsTo checks that the metrics' band alerts go to declared
// destinations that can carry them: a band alert names no account for a
// CRM to write to.
func (c Config) bandAlertsTo() []error {
	var errs []error
	for i, name := range c.Metrics.AlertTo {
		j := slices.IndexFunc(c.Destinations, func(d route.Spec) bool { return d.Name == name })
		switch {
		case j < 0:
			errs = append(errs, fmt.Errorf("metrics.alert_to[%d] %q: no such destination", i, name))
		case c.Destinations[j].Type != route.Webhook && c.Destinations[j].Type != route.Slack:
			errs = append(errs, fmt.Errorf("metrics.alert_to[%d] %q: a %s destination cannot carry band alerts (webhook or slack)", i, name, c.Destinations[j].Type))
		}
	}
	return errs
}
