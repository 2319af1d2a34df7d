-- Portable SQL: this one migration runs on SQLite and PostgreSQL alike (TEXT, BIGINT,
-- no engine-specific types). Times are Unix seconds unless the column says _ms.

CREATE TABLE people (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT,
    category TEXT NOT NULL,
    language TEXT NOT NULL,
    password_hash TEXT,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    client_ip TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX sessions_by_person ON sessions (person_id);

-- One row per self-service procedure (DESIGN §2). `binding_hash` ties it to the browser
-- that started it; `data` is server-only JSON.
CREATE TABLE flows (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    person_id TEXT REFERENCES people (id) ON DELETE CASCADE,
    locale TEXT NOT NULL,
    binding_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX flows_by_expiry ON flows (expires_at);

-- Failure counters shared by every instance: key = what is counted (login, address).
CREATE TABLE throttle (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    person_id TEXT,
    actor_id TEXT,
    client_ip TEXT,
    request_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_by_person ON audit_events (person_id, at_ms);
CREATE INDEX audit_by_time ON audit_events (at_ms);

-- Mail waiting to be sent, written in the transaction of the step that causes it.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at BIGINT
);
CREATE INDEX outbox_by_due ON outbox (state, next_attempt_at);
