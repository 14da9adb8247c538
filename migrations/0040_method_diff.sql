-- The start-up check of the method table is fl.method_diff (functions/95_privileges.sql),
-- which names what differs; fl.method_same goes.
DROP FUNCTION IF EXISTS fl.method_same(jsonb);
