-- Scores: the latest score of each subject on each scorecard, and every change
-- of score or tier with the rules version it came from. subject is
-- 'account:<id>' or 'user:<id>'; reasons and signals are JSON.
CREATE TABLE scores (
    scorecard     TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    score         REAL    NOT NULL,
    tier          TEXT    NOT NULL,
    reasons       TEXT    NOT NULL,
    signals       TEXT    NOT NULL,
    rules_version TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,
    tier_since    INTEGER NOT NULL,
    PRIMARY KEY (scorecard, subject)
);
CREATE INDEX scores_queue ON scores (scorecard, tier, score DESC);

CREATE TABLE score_history (
    id            INTEGER PRIMARY KEY,
    scorecard     TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    at            INTEGER NOT NULL,
    score         REAL    NOT NULL,
    tier          TEXT    NOT NULL,
    previous_tier TEXT    NOT NULL,
    rules_version TEXT    NOT NULL,
    reasons       TEXT    NOT NULL
);
CREATE INDEX score_history_subject ON score_history (scorecard, subject, at);
