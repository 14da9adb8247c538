-- 0005_contribution_status: what each contribution paid for (PROTOCOL section 7;
-- docs/ledger.md has the rule and a worked example).
--
-- Pass-through funds: the fund's disbursements, in the order of their journal entries, are
-- allocated to its received contributions first in, first out by (received_at,
-- contribution_id); a contribution earmarked for a region goes only to grants in that
-- region. What no contribution can cover (earnings paid out, or contributions used up)
-- stays unattributed. Endowments: a contribution's share is its amount over the fund's
-- capital (all received contributions), and its use is that share of what was disbursed,
-- rounded down. Partners see grants by id, region, category and amount only.

-- Every (contribution, grant, amount) allocation of a pass-through fund, from the journal's
-- disbursement entries and the contributions' received_at.
CREATE FUNCTION fl.fifo_allocations(p_fund text)
RETURNS TABLE (contribution_id text, grant_id text, amount bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	c_ids	text[];
	c_left	bigint[];
	c_mark	text[];
	d	record;
	i	int;
	v_need	bigint;
	v_take	bigint;
BEGIN
	SELECT array_agg(c.contribution_id ORDER BY c.received_at, c.contribution_id),
	    array_agg(c.fund_amount ORDER BY c.received_at, c.contribution_id),
	    array_agg(c.earmark_region ORDER BY c.received_at, c.contribution_id)
	  INTO c_ids, c_left, c_mark
	  FROM fl.contribution c WHERE c.fund_code = p_fund AND c.status = 'received';
	FOR d IN
		SELECT x.grant_id, g.region, p.amount
		  FROM fl.journal_entry e
		  JOIN fl.disbursement x ON x.disbursement_id = e.ref_id
		  JOIN fl.grant_application g ON g.grant_id = x.grant_id
		  JOIN fl.posting p ON p.entry_id = e.entry_id
		  JOIN fl.account a ON a.account_id = p.account_id AND a.short = 'grants_disbursed'
		 WHERE e.fund_code = p_fund AND e.kind = 'disbursement'
		 ORDER BY e.entry_id
	LOOP
		v_need := d.amount;
		FOR i IN 1 .. coalesce(cardinality(c_ids), 0) LOOP
			EXIT WHEN v_need = 0;
			CONTINUE WHEN c_left[i] = 0 OR
			    (c_mark[i] IS NOT NULL AND c_mark[i] <> d.region);
			v_take := least(v_need, c_left[i]);
			c_left[i] := c_left[i] - v_take;
			v_need := v_need - v_take;
			contribution_id := c_ids[i];
			grant_id := d.grant_id;
			amount := v_take;
			RETURN NEXT;
		END LOOP;
	END LOOP;
END
$$;

CREATE FUNCTION api.contribution_status(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	c	fl.contribution := fl.contribution_get(params->>'contribution_id', false);
	f	fl.fund := fl.fund_get(c.fund_code, 'fund');
	m	int := fl.minor(f.currency);
	v_alloc	jsonb := '[]';
	v_used	bigint := 0;
	v_cap	numeric;
	v_disb	numeric;
BEGIN
	IF c.status = 'received' AND f.kind = 'pass_through' THEN
		SELECT coalesce(jsonb_agg(jsonb_build_object('grant_id', a.grant_id,
		    'region', r.region, 'region_code', r.region_code, 'category', g.category,
		    'amount', fl.money_out(a.amount, m)) ORDER BY a.first), '[]'),
		    coalesce(sum(a.amount), 0)
		  INTO v_alloc, v_used
		  FROM (SELECT x.grant_id, sum(x.amount)::bigint AS amount,
		               min(x.ord) AS first
		          FROM (SELECT fa.*, row_number() OVER () AS ord
		                  FROM fl.fifo_allocations(f.code) fa) x
		         WHERE x.contribution_id = c.contribution_id
		         GROUP BY x.grant_id) a
		  JOIN fl.grant_application g ON g.grant_id = a.grant_id
		  JOIN fl.region r ON r.region_code = g.region;
	ELSIF c.status = 'received' THEN
		SELECT sum(fund_amount) INTO v_cap FROM fl.contribution
		 WHERE fund_code = f.code AND status = 'received';
		SELECT coalesce(sum(disbursed), 0) INTO v_disb FROM fl.grant_application
		 WHERE fund_code = f.code;
		v_used := floor(c.fund_amount * v_disb / v_cap);
		SELECT coalesce(jsonb_agg(jsonb_build_object('grant_id', g.grant_id,
		    'region', r.region, 'region_code', r.region_code, 'category', g.category,
		    'amount', fl.money_out(floor(c.fund_amount * g.disbursed / v_cap)::bigint, m))
		    ORDER BY g.seq), '[]')
		  INTO v_alloc
		  FROM fl.grant_application g JOIN fl.region r ON r.region_code = g.region
		 WHERE g.fund_code = f.code AND g.disbursed > 0;
	END IF;
	RETURN fl.contribution_json(c, f) || jsonb_build_object(
	    'used', fl.money_out(v_used, m),
	    'unused', fl.money_out(CASE WHEN c.status = 'received' THEN c.fund_amount - v_used
	        ELSE 0 END, m),
	    'allocations', v_alloc);
END
$$;
