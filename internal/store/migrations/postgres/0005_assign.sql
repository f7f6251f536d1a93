-- An alert can be assigned to a person who signs in (by email); '' when
-- no one is.
ALTER TABLE alerts ADD COLUMN assigned_to TEXT NOT NULL DEFAULT '';
