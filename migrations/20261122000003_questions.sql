-- Security questions (seed 000): a person's questions, each one of the institution's
-- (`question_id`, shown in the page's language) or their own (`custom_question`), with the
-- answer as a salted slow hash of its normalized form. The helpdesk can remove them all.
CREATE TABLE security_answers (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    question_id TEXT,
    custom_question TEXT,
    answer_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX security_answers_by_person ON security_answers (person_id, position);
