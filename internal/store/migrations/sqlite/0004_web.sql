-- People who sign in to the web app, and their sessions. Passwords are kept
-- as bcrypt hashes; a session is kept as the SHA-256 of its cookie, with the
-- CSRF token its forms must carry.
CREATE TABLE people (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
    password_hash BLOB    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    hash       BLOB    PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    csrf       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
