-- Where each banded metric stood at the last check (a day's close, a
-- week's): the band alerts fire on a crossing into warning or red, once.
-- checked_at is the close it was computed for, in Unix milliseconds.
CREATE TABLE metric_levels (
    name       TEXT    PRIMARY KEY,
    level      TEXT    NOT NULL,
    value      DOUBLE PRECISION NOT NULL,
    checked_at BIGINT  NOT NULL
);
