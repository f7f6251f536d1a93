// Package revenue owns the arithmetic of recurring revenue: a Stripe
// subscription's monthly recurring revenue (MRR, every billing interval
// normalised to a month), the movement a change of MRR is (new,
// expansion, contraction, churn, reactivation), and net and gross revenue
// retention with seed 004's bands by segment. It reads no store: callers
// hand it amounts.
package revenue
