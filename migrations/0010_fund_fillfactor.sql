-- 0010_fund_fillfactor: room on a fund's page for the versions of its row.
--
-- Every final grant approval folds the fund's balance deltas into its row (fl.fund_fold),
-- so at 500 approvals a second the row of one fund gets 500 new versions a second, and a
-- batch of approvals (one transaction) makes up to 32 of them that nothing can prune
-- before it commits. When the row's page is full, a new version goes to another page,
-- with a new entry in the primary key's index: after 12,000 approvals in `make bench`,
-- looking the fund up read 17 index entries and 16 pages, 0.3 ms, four times per
-- approval. With pages kept 80% free for updates (funds are few: about 12 rows a page),
-- the versions stay on their page, where they are pruned in place.
--
-- Measured, grant.approve at 32 connections on one fund: 748 approvals/s against 485.
-- Pages already full fill this way only as they are pruned; `VACUUM FULL fl.fund` (as the
-- owner, outside a transaction) rewrites them at once.

ALTER TABLE fl.fund SET (fillfactor = 20);
