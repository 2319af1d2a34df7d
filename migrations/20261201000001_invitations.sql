-- Invitation-based registration (seed 003): an issuer invites an address; the person
-- signs up from the link, proves the address with a code, and signs in with it.
-- The link's token is stored as a keyed hash only.

CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    -- Normalized (trimmed, lower-case domain), compared case-insensitively.
    email TEXT NOT NULL,
    issuer TEXT NOT NULL,
    language TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    -- pending, used, revoked, replaced (expired is pending past expires_at).
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    person_id TEXT REFERENCES people (id) ON DELETE SET NULL,
    -- Who sent it (operator), for the audit trail and the listing.
    actor TEXT NOT NULL
);
CREATE INDEX invitations_by_email ON invitations (email, state);
CREATE INDEX invitations_by_person ON invitations (person_id);

-- The versions of the terms of use and privacy policy a person accepted, and when.
ALTER TABLE people ADD COLUMN terms_version TEXT;
ALTER TABLE people ADD COLUMN privacy_version TEXT;
ALTER TABLE people ADD COLUMN terms_accepted_at BIGINT;
