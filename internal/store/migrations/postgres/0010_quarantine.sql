-- Messages a stage could not apply, set aside so that the stage moves on
-- (docs/operations.md, "Quarantine"). identity keeps events (seq, tx: the
-- event's place in the stream); scoring keeps subjects (seq 0). A row is
-- open while resolved_at is 0; a retry that applies it resolves it.
CREATE TABLE quarantine (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stage       TEXT    NOT NULL,
    seq         BIGINT  NOT NULL DEFAULT 0,
    tx          BIGINT  NOT NULL DEFAULT 0,
    message_id  TEXT    NOT NULL DEFAULT '',
    user_id     TEXT    NOT NULL DEFAULT '',
    account_id  TEXT    NOT NULL DEFAULT '',
    error       TEXT    NOT NULL,
    attempts    BIGINT  NOT NULL DEFAULT 1,
    first_at    BIGINT  NOT NULL,
    last_at     BIGINT  NOT NULL,
    resolved_at BIGINT  NOT NULL DEFAULT 0
);
-- One open row per event, or per scored subject.
CREATE UNIQUE INDEX quarantine_open ON quarantine (stage, seq, tx, user_id, account_id) WHERE resolved_at = 0;
CREATE INDEX quarantine_user ON quarantine (user_id) WHERE user_id <> '';
CREATE INDEX quarantine_account ON quarantine (account_id) WHERE account_id <> '';
