-- A key's life: revoked_at is when it stops working (0: it does not; a
-- time ahead: a rotation's grace), last_used_at when a node last looked it
-- up to let a request in (at most every half minute a node).
ALTER TABLE keys ADD COLUMN revoked_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
