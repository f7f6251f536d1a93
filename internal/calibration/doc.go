// Package calibration owns whether the scoring rules fit this product: the
// evidence book of what every user did each day (a signal.Watcher, filled
// by a replay), the conversions billing knows of, discovery of the
// behaviours that come before a conversion, with their uncertainty, the
// rubric it proposes, backtests that score every account as of past days
// and follow what happened next, each judged against seed 004's bands, the
// activation milestone, a model beside the rules, and the calibration
// page's report.
package calibration
