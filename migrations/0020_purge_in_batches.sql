-- 0020_purge_in_batches: fl.purge_idempotency() takes how many keys to drop at most, so
-- that each call of the daemon's housekeeping stays short, within its statement timeout
-- (functions/90_dispatch.sql). The old signature goes; the repeatable file makes the new.

DROP FUNCTION IF EXISTS fl.purge_idempotency();
