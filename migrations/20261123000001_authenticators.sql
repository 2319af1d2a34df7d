-- The authenticator app (RFC 6238) a person enrolled under "My account": its secret,
-- sealed with a key derived from the server key (it must be read back, so it cannot be
-- hashed), and the last 30-second step a code was accepted for, so that a code works once.
CREATE TABLE authenticators (
    person_id TEXT PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
