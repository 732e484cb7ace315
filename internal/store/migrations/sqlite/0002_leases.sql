-- 0002: leases for the job queue (Claim, RenewLease). lease_owner is '' when no
-- replica holds the integration; lease_until is when the lease lapses, in Unix
-- microseconds (UTC), 0 when none.

ALTER TABLE integrations ADD COLUMN lease_owner TEXT    NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
