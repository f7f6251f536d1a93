-- When each anonymous id was tied to its user (the tying event's timestamp,
-- Unix milliseconds), so that a replay as of an instant leaves out the ties
-- made after it. Ties stored before have 0: in force at every instant.
ALTER TABLE aliases ADD COLUMN tied_at INTEGER NOT NULL DEFAULT 0;
