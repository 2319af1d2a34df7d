-- Roles (issue 6): helpdesk agents and administrators are people with a role, granted and
-- revoked by an operator (`sesame admin grant-role` / `revoke-role`). `admin` implies
-- `helpdesk`. `granted_by` names the operator (`cli:<user>`), for the audit trail.
CREATE TABLE person_roles (
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    granted_by TEXT NOT NULL,
    PRIMARY KEY (person_id, role)
);
