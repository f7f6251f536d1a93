// Package identity owns identity resolution: it turns the committed event
// stream into users (traits, latest timestamp wins), merges anonymous ids into
// the user they turn out to be, and links each user to an account by, in order,
// an explicit group, the email domain (never a free or disposable mail
// provider), the company name fuzzy-matched to a CRM account, or else an
// account of their own. Every link says how it was made and how sure it is.
// It also loads CRM accounts and links product workspaces to them.
package identity
