-- 0012_entry_commit_plan: the check of each journal entry plans nothing per call.
--
-- In 0008's fl.entry_commit() one IF held both cases, an entry in one currency and one in
-- several, and so a subquery. PL/pgSQL runs such a condition as a query, and the plan
-- cache kept planning it again for every entry: with its parameters known, the planner
-- drops the subquery of the other case, so every custom plan looked cheaper than the
-- generic one (pg_stat_statements on a fresh database under make bench's receipts: 46,163
-- plans for 46,155 calls, 22 us of planning each). Now the one-currency case is a plain
-- comparison and the subquery runs only for an entry in several currencies (none of the
-- methods writes one). What the trigger checks and refuses is unchanged.

CREATE OR REPLACE FUNCTION fl.entry_commit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	-- scalars, not a record: an expression reading a record's fields is planned again
	-- on every call
	v_n	bigint;
	v_lo	text;
	v_hi	text;
	v_total	numeric;
	v_rec	numeric;
	v_earn	numeric;
	v_pled	numeric;
	v_comm	numeric;
	v_disb	numeric;
BEGIN
	SELECT count(*), min(p.currency), max(p.currency), sum(p.amount),
	    coalesce(-sum(p.amount) FILTER (WHERE a.short = 'contributions'), 0),
	    coalesce(-sum(p.amount) FILTER (WHERE a.short = 'earnings'), 0),
	    coalesce(sum(p.amount) FILTER (WHERE a.short = 'pledges_receivable'), 0),
	    coalesce(-sum(p.amount) FILTER (WHERE a.short = 'commitments'), 0),
	    coalesce(sum(p.amount) FILTER (WHERE a.short = 'grants_disbursed'), 0)
	  INTO v_n, v_lo, v_hi, v_total, v_rec, v_earn, v_pled, v_comm, v_disb
	  FROM fl.posting p
	  JOIN fl.account a USING (account_id)
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
	IF NEW.fund_code IS NOT NULL AND (v_rec <> 0 OR v_earn <> 0 OR v_pled <> 0 OR
	    v_comm <> 0 OR v_disb <> 0) THEN
		INSERT INTO fl.fund_delta (fund_code, received, earnings, pledged, committed,
		    disbursed)
		VALUES (NEW.fund_code, v_rec, v_earn, v_pled, v_comm, v_disb);
	END IF;
	RETURN NULL;
END
$$;
