package growth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Config is the metrics section of beacon.yaml: which of the product's
// events mark the moments the metrics count, and the targets each metric
// is shown against.
type Config struct {
	// SignUpEvent marks a user's sign-up; its properties `channel`,
	// `utm_medium` or `utm_source` name the acquisition channel.
	SignUpEvent string `yaml:"signup_event"`
	// ActivationEvent is the activation milestone: a user is activated the
	// first time they do it, an account when its first user does.
	ActivationEvent string `yaml:"activation_event"`
	// OnboardingEvent marks a completed onboarding; empty for none.
	OnboardingEvent string `yaml:"onboarding_event"`
	// InviteEvent is an invitation sent to a teammate.
	InviteEvent string `yaml:"invite_event"`
	// CoreFeatures are the events that are the product's core features,
	// for core feature adoption and feature breadth.
	CoreFeatures []string `yaml:"core_features"`
	// PQLTiers are the tiers of the routing scorecard that make an account
	// a PQL; empty takes every tier but the lowest.
	PQLTiers []string `yaml:"pql_tiers"`
	// Model is the free tier's kind, freemium or trial: seed 004 judges
	// free-to-paid conversion by it. Default freemium.
	Model string `yaml:"model"`
	// Targets are each metric's target, by its name (Defs).
	Targets map[string]float64 `yaml:"targets"`
	// AlertTo names the destinations (webhooks, Slack) that carry band
	// alerts: a metric crossing into warning or red. Without any, they are
	// kept in Beacon.
	AlertTo []string `yaml:"alert_to"`
}

// model is the free tier's kind, freemium unless set.
func (c Config) model() string {
	if c.Model == "" {
		return "freemium"
	}
	return c.Model
}

// Default names the events as Segment's B2B SaaS spec does.
func Default() Config {
	return Config{SignUpEvent: "Signed Up", InviteEvent: "Invite Sent"}
}

// maxCore bounds the core features: breadth is shown out of their number.
const maxCore = 16

// Validate reports every problem of the section at once.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.SignUpEvent) == "" {
		errs = append(errs, errors.New("metrics.signup_event: name the event a sign-up sends (Segment's spec: Signed Up)"))
	}
	if len(c.CoreFeatures) > maxCore {
		errs = append(errs, fmt.Errorf("metrics.core_features: %d events, at most %d", len(c.CoreFeatures), maxCore))
	}
	for i, f := range c.CoreFeatures {
		if strings.TrimSpace(f) == "" || slices.Index(c.CoreFeatures, f) != i {
			errs = append(errs, fmt.Errorf("metrics.core_features[%d] %q: empty or repeated", i, f))
		}
	}
	if c.Model != "" && c.Model != "freemium" && c.Model != "trial" {
		errs = append(errs, fmt.Errorf("metrics.model %q: want freemium or trial", c.Model))
	}
	for name := range c.Targets {
		if _, ok := defs[name]; !ok {
			errs = append(errs, fmt.Errorf("metrics.targets.%s: no such metric (see docs/metrics.md)", name))
		}
	}
	return errors.Join(errs...)
}
