// Package route owns what happens once routing has decided: the destinations
// alerts go to (Standard Webhooks-signed webhooks, Slack incoming webhooks,
// HubSpot and Salesforce fields), and the dispatcher that delivers the
// outbox the scoring pass wrote, at least once, with retries, exponential
// backoff with jitter, dead letters and replay.
package route
