-- 0014_fund_delta_per_statement: a fund's balance delta is appended once per INSERT of
-- postings, for all the entries that INSERT writes, no longer once per entry.
--
-- fl.entry_commit(), the deferred check of each journal entry, also appended the entry's
-- movement to fl.fund_delta: one row per entry, with its two index entries and its WAL,
-- and one more row for the fold to delete. A set form (0013_bulk.sql) writes a whole run of
-- entries with one INSERT of postings, and its run now appends one row per fund
-- (docs/ledger.md, Balances).
--
-- The figures are the same. Postings are never updated or deleted (posting_append_only),
-- and fl.posting_guard_rows() admits postings only to entries of the inserting
-- transaction. So what the new trigger appends for a fund over a transaction sums to what
-- fl.entry_commit() appended entry by entry: the fold, fl.fund_current() and fund.balance
-- see the same figures. A delta is in fl.fund_delta from its INSERT on; it used to appear
-- at the entry's check, at the end of the call that wrote it (api.call() runs the deferred
-- checks there) or at commit. No method reads its fund's figures after its own postings.
--
-- fl.entry_commit() keeps its checks, unchanged: at least two postings, and a zero sum in
-- each currency.

CREATE FUNCTION fl.posting_fund_delta() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO fl.fund_delta (fund_code, received, earnings, pledged, committed,
	    disbursed)
	SELECT d.fund_code, d.rec, d.earn, d.pled, d.comm, d.disb
	  FROM (SELECT e.fund_code,
		    coalesce(-sum(n.amount) FILTER (WHERE a.short = 'contributions'), 0) AS rec,
		    coalesce(-sum(n.amount) FILTER (WHERE a.short = 'earnings'), 0) AS earn,
		    coalesce(sum(n.amount) FILTER (WHERE a.short = 'pledges_receivable'), 0)
			AS pled,
		    coalesce(-sum(n.amount) FILTER (WHERE a.short = 'commitments'), 0) AS comm,
		    coalesce(sum(n.amount) FILTER (WHERE a.short = 'grants_disbursed'), 0)
			AS disb
		  FROM new_postings n
		  JOIN fl.account a ON a.account_id = n.account_id
		  JOIN fl.journal_entry e ON e.entry_id = n.entry_id
		 WHERE e.fund_code IS NOT NULL
		 GROUP BY e.fund_code) AS d
	 WHERE d.rec <> 0 OR d.earn <> 0 OR d.pled <> 0 OR d.comm <> 0 OR d.disb <> 0
	 ORDER BY d.fund_code;
	RETURN NULL;
END
$$;

CREATE TRIGGER posting_fund_delta AFTER INSERT ON fl.posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION fl.posting_fund_delta();

-- 0012's fl.entry_commit() without the delta: the checks are the same, and without the
-- sums by account it no longer joins fl.account.
CREATE OR REPLACE FUNCTION fl.entry_commit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	-- scalars, not a record (0012_entry_commit_plan.sql)
	v_n	bigint;
	v_lo	text;
	v_hi	text;
	v_total	numeric;
BEGIN
	SELECT count(*), min(p.currency), max(p.currency), sum(p.amount)
	  INTO v_n, v_lo, v_hi, v_total
	  FROM fl.posting p
	 WHERE p.entry_id = NEW.entry_id;
	IF v_n < 2 THEN
		RAISE EXCEPTION 'journal entry % has % postings', NEW.entry_id, v_n;
	END IF;
	IF v_lo = v_hi THEN
		IF v_total <> 0 THEN
			RAISE EXCEPTION 'journal entry % does not balance in every currency',
			    NEW.entry_id;
		END IF;
	ELSIF EXISTS (SELECT 1 FROM fl.posting WHERE entry_id = NEW.entry_id
	     GROUP BY currency HAVING sum(amount) <> 0) THEN
		RAISE EXCEPTION 'journal entry % does not balance in every currency', NEW.entry_id;
	END IF;
	RETURN NULL;
END
$$;
