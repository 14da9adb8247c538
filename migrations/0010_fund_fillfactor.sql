-- 0010_fund_fillfactor: room on a fund's page for the versions of its row.
--
-- Every final grant approval folds the fund's balance deltas into its row (fl.fund_fold),
-- so the row of a busy fund gets many new versions a second, and those a batch of approvals
-- makes cannot be pruned before it commits. On a full page a new version goes to another
-- page, with a new entry in the primary key's index, and every lookup of the fund then
-- reads them all. With pages kept 80% free for updates (funds are few), the versions stay
-- on their page, where they are pruned in place. Pages already full fill this way only as
-- they are pruned; `VACUUM FULL fl.fund` (as the owner, outside a transaction) rewrites them
-- at once.

ALTER TABLE fl.fund SET (fillfactor = 20);
