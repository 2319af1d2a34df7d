-- Activation from a letter (seed 001): what the HR import brings, the provisional
-- credentials of the letter, and what the person chooses while activating.
-- PINs and SIN digits are salted slow hashes; nothing here holds a secret in clear.

ALTER TABLE people ADD COLUMN date_of_birth TEXT;
ALTER TABLE people ADD COLUMN employee_number TEXT;
ALTER TABLE people ADD COLUMN pin_hash TEXT;
ALTER TABLE people ADD COLUMN sin_hash TEXT;
-- Keyed digest of the last imported row: a re-import of the same row changes nothing.
ALTER TABLE people ADD COLUMN import_digest TEXT;
ALTER TABLE people ADD COLUMN provisional_hash TEXT;
ALTER TABLE people ADD COLUMN provisional_expires_at BIGINT;
ALTER TABLE people ADD COLUMN letter_issued_at BIGINT;
ALTER TABLE people ADD COLUMN recovery_email TEXT;
ALTER TABLE people ADD COLUMN charter_version TEXT;
ALTER TABLE people ADD COLUMN charter_accepted_at BIGINT;
-- NULL: not asked yet; 0 or 1 afterwards.
ALTER TABLE people ADD COLUMN directory_consent BIGINT;
ALTER TABLE people ADD COLUMN directory_consent_at BIGINT;
ALTER TABLE people ADD COLUMN mailbox_address TEXT;
ALTER TABLE people ADD COLUMN forward_to TEXT;
ALTER TABLE people ADD COLUMN keep_copy BIGINT;
ALTER TABLE people ADD COLUMN activated_at BIGINT;
CREATE UNIQUE INDEX people_by_mailbox ON people (mailbox_address);
CREATE INDEX people_by_employee_number ON people (employee_number);
CREATE INDEX people_by_date_of_birth ON people (date_of_birth);

-- An address being verified inside a flow: a link (128-bit token) and a 6-digit code,
-- both stored as keyed hashes, single use (`used_at`), at most a few wrong codes.
CREATE TABLE verifications (
    id TEXT PRIMARY KEY,
    flow_id TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    address TEXT NOT NULL,
    link_hash TEXT NOT NULL UNIQUE,
    code_hash TEXT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX verifications_by_flow ON verifications (flow_id, purpose);
