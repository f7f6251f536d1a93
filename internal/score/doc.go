// Package score owns how accounts and users are scored: the rules file
// (signals, plans, the ideal customer profile, scorecards of rules with points
// and labels, tiers with their routes, the grade that combines a fit and an
// engagement card), its compilation with errors that name
// the line, the presets that ship with Beacon, the evaluation of a subject
// into a score, a tier and the reasons behind them, and the service that keeps
// every score current: it rescores the subjects its signal stage marks and
// identity's changes touch, and writes what changed.
package score
