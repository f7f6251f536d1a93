-- The first sales activity the CRM records for an alert's account after the
-- alert (a call, an email, a meeting, a task): when, and from which
-- destination; and when Beacon last looked for one (docs/routing.md,
-- "Response times"). 0: none yet.
ALTER TABLE alerts ADD COLUMN outreach_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN outreach_via TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN outreach_checked_at INTEGER NOT NULL DEFAULT 0;
