-- People who sign in to the web app, and their sessions. Passwords are kept
-- as bcrypt hashes; a session is kept as the SHA-256 of its cookie, with the
-- CSRF token its forms must carry.
CREATE TABLE people (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
    password_hash BYTEA   NOT NULL,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE sessions (
    hash       BYTEA   PRIMARY KEY,
    person_id  BIGINT  NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    csrf       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
