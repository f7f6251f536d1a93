-- Core: keys, the append-only event log, identity (users, aliases, accounts,
-- domains, memberships) and projection cursors. Times are Unix milliseconds.
CREATE TABLE keys (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('write', 'admin')),
    name       TEXT    NOT NULL DEFAULT '',
    hash       BLOB    NOT NULL UNIQUE,
    prefix     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,
    message_id   TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    name         TEXT    NOT NULL DEFAULT '',
    user_id      TEXT    NOT NULL DEFAULT '',
    anonymous_id TEXT    NOT NULL DEFAULT '',
    group_id     TEXT    NOT NULL DEFAULT '',
    previous_id  TEXT    NOT NULL DEFAULT '',
    ts           INTEGER NOT NULL,
    original_ts  INTEGER,
    sent_at      INTEGER,
    received_at  INTEGER NOT NULL,
    body         TEXT    NOT NULL
);

-- The 128-bit digest of each stored messageId, in commit order. Beacon keeps
-- them in memory to refuse duplicates without a unique index on random ids,
-- whose upkeep would cost a page write per event (docs/benchmarks.md).
CREATE TABLE event_ids (
    seq INTEGER PRIMARY KEY,
    h1  INTEGER NOT NULL,
    h2  INTEGER NOT NULL
);

-- Who each event belongs to, for timelines: written by the identity projection
-- in bulk, so that taking an event in touches no index keyed by user.
-- key is 'user:<userId>' or 'anon:<anonymousId>'.
CREATE TABLE event_users (
    key TEXT    NOT NULL,
    ts  INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (key, ts, seq)
) WITHOUT ROWID;

CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    email        TEXT    NOT NULL DEFAULT '',
    email_domain TEXT    NOT NULL DEFAULT '',
    company      TEXT    NOT NULL DEFAULT '',
    traits       TEXT    NOT NULL DEFAULT '{}',
    traits_at    INTEGER NOT NULL DEFAULT 0,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL
);
CREATE INDEX users_email_domain ON users (email_domain) WHERE email_domain <> '';

CREATE TABLE aliases (
    anonymous_id TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL
);
CREATE INDEX aliases_user ON aliases (user_id);

CREATE TABLE accounts (
    id               TEXT PRIMARY KEY,
    kind             TEXT    NOT NULL CHECK (kind IN ('group', 'crm', 'domain', 'individual')),
    name             TEXT    NOT NULL DEFAULT '',
    domains          TEXT    NOT NULL DEFAULT '[]',
    traits           TEXT    NOT NULL DEFAULT '{}',
    traits_at        INTEGER NOT NULL DEFAULT 0,
    owner            TEXT    NOT NULL DEFAULT '',
    employees        INTEGER NOT NULL DEFAULT 0,
    industry         TEXT    NOT NULL DEFAULT '',
    open_opportunity BOOLEAN NOT NULL DEFAULT FALSE,
    named            BOOLEAN NOT NULL DEFAULT FALSE,
    crm_id           TEXT    NOT NULL DEFAULT '',
    crm_method       TEXT    NOT NULL DEFAULT '',
    crm_confidence   REAL    NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL
);
CREATE INDEX accounts_kind ON accounts (kind);

CREATE TABLE account_domains (
    domain     TEXT PRIMARY KEY,
    account_id TEXT NOT NULL
);

CREATE TABLE memberships (
    user_id    TEXT    NOT NULL,
    account_id TEXT    NOT NULL,
    method     TEXT    NOT NULL CHECK (method IN ('group', 'domain', 'name', 'individual')),
    confidence REAL    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, account_id)
);
CREATE INDEX memberships_account ON memberships (account_id);

CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    tx   INTEGER NOT NULL DEFAULT 0,
    seq  INTEGER NOT NULL DEFAULT 0
);
