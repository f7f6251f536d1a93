-- Core: keys, the append-only event log, identity (users, aliases, accounts,
-- domains, memberships) and projection cursors. Times are Unix milliseconds.
CREATE TABLE keys (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('write', 'admin')),
    name       TEXT    NOT NULL DEFAULT '',
    hash       BYTEA   NOT NULL UNIQUE,
    prefix     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

CREATE TABLE events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id   TEXT    NOT NULL UNIQUE,
    type         TEXT    NOT NULL,
    name         TEXT    NOT NULL DEFAULT '',
    user_id      TEXT    NOT NULL DEFAULT '',
    anonymous_id TEXT    NOT NULL DEFAULT '',
    group_id     TEXT    NOT NULL DEFAULT '',
    previous_id  TEXT    NOT NULL DEFAULT '',
    ts           BIGINT  NOT NULL,
    original_ts  BIGINT,
    sent_at      BIGINT,
    received_at  BIGINT  NOT NULL,
    body         TEXT    NOT NULL,
    -- the inserting transaction: readers of the stream only pass a position
    -- once every transaction before it has ended (see EventsAfter)
    tx           XID8    NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX events_stream ON events (tx, seq);

-- Who each event belongs to, for timelines: written by the identity projection
-- in bulk, so that taking an event in touches no index keyed by user.
-- key is 'user:<userId>' or 'anon:<anonymousId>'.
CREATE TABLE event_users (
    key TEXT    NOT NULL,
    ts  BIGINT  NOT NULL,
    seq BIGINT  NOT NULL,
    PRIMARY KEY (key, ts, seq)
);

CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    email        TEXT    NOT NULL DEFAULT '',
    email_domain TEXT    NOT NULL DEFAULT '',
    company      TEXT    NOT NULL DEFAULT '',
    traits       TEXT    NOT NULL DEFAULT '{}',
    traits_at    BIGINT  NOT NULL DEFAULT 0,
    first_seen   BIGINT  NOT NULL,
    last_seen    BIGINT  NOT NULL
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
    traits_at        BIGINT  NOT NULL DEFAULT 0,
    owner            TEXT    NOT NULL DEFAULT '',
    employees        BIGINT  NOT NULL DEFAULT 0,
    industry         TEXT    NOT NULL DEFAULT '',
    open_opportunity BOOLEAN NOT NULL DEFAULT FALSE,
    named            BOOLEAN NOT NULL DEFAULT FALSE,
    crm_id           TEXT    NOT NULL DEFAULT '',
    crm_method       TEXT    NOT NULL DEFAULT '',
    crm_confidence   DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at       BIGINT  NOT NULL
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
    confidence DOUBLE PRECISION NOT NULL,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (user_id, account_id)
);
CREATE INDEX memberships_account ON memberships (account_id);

CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    tx   BIGINT  NOT NULL DEFAULT 0,
    seq  BIGINT  NOT NULL DEFAULT 0
);
