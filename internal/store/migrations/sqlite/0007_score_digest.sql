-- digest is the scorer's digest of a score's reasons and signals: a full
-- replay compares every new score with the stored one, and reading this
-- instead of the JSON makes that a read of short rows. Rows written before
-- it hold 0, which matches no digest: the next replay writes them again.
ALTER TABLE scores ADD COLUMN digest INTEGER NOT NULL DEFAULT 0;
