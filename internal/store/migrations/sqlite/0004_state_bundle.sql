-- 0004: the bundle version of the applied state, in the clear (the state itself is
-- sealed), so that the migration queue finds the integrations an older bundle made
-- with one indexed query; 0 for none.

ALTER TABLE integrations ADD COLUMN state_bundle INTEGER NOT NULL DEFAULT 0;
CREATE INDEX integrations_state_bundle ON integrations (status, state_bundle);
