-- The queue a rep works from. Each account score keeps the account's
-- activity as of its last rescore: momentum (users active in the last 7
-- days minus the 7 before), those active users, when one of them was last
-- active, and the JSON of its daily active users and most active people. The queue
-- ranks by them after the score; rows written before hold 0 and '' until
-- the next rescore (the first replay after the upgrade).
ALTER TABLE scores ADD COLUMN momentum DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE scores ADD COLUMN active_users BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scores ADD COLUMN last_active BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scores ADD COLUMN activity TEXT NOT NULL DEFAULT '';

-- An account held out of one scorecard's queue: snoozed until a date, or
-- disqualified, in both cases only until its tier on that scorecard rises
-- again (scoring deletes the hold in the transaction of the rise).
CREATE TABLE holds (
    scorecard  TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('snooze', 'disqualify')),
    reason     TEXT    NOT NULL,
    ends_at    BIGINT  NOT NULL DEFAULT 0, -- 0: no date
    tier       TEXT    NOT NULL,
    by_whom    TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (scorecard, subject)
);

-- Notes on an account, with their author; holds write one too.
CREATE TABLE notes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX notes_account ON notes (account_id, created_at);

-- A CRM account's page lists the workspaces linked to it.
CREATE INDEX accounts_crm ON accounts (crm_id) WHERE crm_id <> '';
