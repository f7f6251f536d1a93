-- The event log lives in its own file since this migration (see
-- migrations/sqlite-events). Before it runs, Migrate has copied the rows of
-- these tables there and committed them; only then are they dropped here.
DROP TABLE events;
DROP TABLE event_ids;
