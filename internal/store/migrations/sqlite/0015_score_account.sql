-- An account's scores name the account in a column of its own, so that the
-- queue joins accounts by it instead of cutting the subject string apart
-- in SQL; '' for a user's scores. Rows written before are filled once here.
ALTER TABLE scores ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
UPDATE scores SET account_id = substr(subject, 9) WHERE subject LIKE 'account:%';
