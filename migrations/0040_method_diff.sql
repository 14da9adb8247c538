-- fundd-compatible-from: 0040
-- The start-up check of the method table is fl.method_diff (functions/95_privileges.sql),
-- which names what differs; fl.method_same goes. (A fundd whose migrations end before
-- 0040 serves no newer schema: docs/migrations.md, "Rolling upgrades".)
DROP FUNCTION IF EXISTS fl.method_same(jsonb);
