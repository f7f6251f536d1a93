-- Scores: the latest score of each subject on each scorecard, and every change
-- of score or tier with the rules version it came from. subject is
-- 'account:<id>' or 'user:<id>'; reasons and signals are JSON.
CREATE TABLE scores (
    scorecard     TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    score         DOUBLE PRECISION NOT NULL,
    tier          TEXT    NOT NULL,
    reasons       TEXT    NOT NULL,
    signals       TEXT    NOT NULL,
    rules_version TEXT    NOT NULL,
    updated_at    BIGINT  NOT NULL,
    tier_since    BIGINT  NOT NULL,
    PRIMARY KEY (scorecard, subject)
);
CREATE INDEX scores_queue ON scores (scorecard, tier, score DESC);

CREATE TABLE score_history (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scorecard     TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    at            BIGINT  NOT NULL,
    score         DOUBLE PRECISION NOT NULL,
    tier          TEXT    NOT NULL,
    previous_tier TEXT    NOT NULL,
    rules_version TEXT    NOT NULL,
    reasons       TEXT    NOT NULL
);
CREATE INDEX score_history_subject ON score_history (scorecard, subject, at);
