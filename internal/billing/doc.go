// Package billing owns what Beacon learns from the billing system: Stripe's
// webhooks received at POST /v1/billing/stripe, their signatures verified
// before anything of them is read, and each event stored once by its id
// (a retried delivery is a no-op). Events of every type are kept as they
// came; a subscription and what its MRR is made of are read from them
// (ParseSubscription), for package revenue to price.
package billing
