-- Linked accounts (issue 6): accounts a person holds in other systems (named in the
-- configuration), proven once with that system's password, which is never stored. A new
-- Sésame password is also written there; when that fails it waits here, sealed with the
-- server key, until a retry delivers it or gives up.

CREATE TABLE linked_accounts (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- The configuration's key ([linked_systems.<id>]).
    system_id TEXT NOT NULL,
    -- As typed; `account_key` is its lower-case form, so one account of a system is
    -- linked to one person only, whatever its case.
    account_name TEXT NOT NULL,
    account_key TEXT NOT NULL,
    linked_at BIGINT NOT NULL,
    last_push_at BIGINT,
    -- 1: the last password written there was set; 0: it failed; NULL: none yet.
    last_push_ok BIGINT,
    UNIQUE (person_id, system_id),
    UNIQUE (system_id, account_key)
);

-- One pending password per linked account: a newer password replaces an older one (and
-- the row's id, so a retry of the older one cannot delete the newer). A worker claims a
-- row (`locked_until`) before trying it, so two instances never try it at once.
CREATE TABLE password_pushes (
    id TEXT PRIMARY KEY,
    linked_account_id TEXT NOT NULL UNIQUE REFERENCES linked_accounts (id) ON DELETE CASCADE,
    -- crypto::sealed, purpose "password-push", context the linked account's id.
    sealed_password TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX password_pushes_due ON password_pushes (next_attempt_at);
