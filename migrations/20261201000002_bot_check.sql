-- The bot check's challenges once solved. Challenges are signed, not stored, when a page is
-- served (crawlers write nothing); a challenge's nonce is written here when a solution is
-- accepted, so the primary key makes it single use, and kept until it expires. The rows of
-- the last minute are the load that raises the difficulty, on every instance alike.
CREATE TABLE bot_check_spent (
    nonce TEXT PRIMARY KEY,
    spent_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX bot_check_spent_by_time ON bot_check_spent (spent_at);
CREATE INDEX bot_check_spent_by_expiry ON bot_check_spent (expires_at);
