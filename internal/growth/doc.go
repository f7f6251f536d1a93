// Package growth owns the PLG metrics: the funnel from visitor to
// expansion, seed 002's acquisition, activation, engagement and
// monetization tables, retention cohorts, virality, revenue by segment,
// and seed 004's bands that judge them. Its Book keeps what the metrics
// need of every user as the signal stage takes events in (so a metric is
// never a scan of the event log), and a Report is computed from the book,
// the accounts, the PQL tier entries and the billing ledger for any
// period, at the time it is asked for: a late event is in the next report.
package growth
