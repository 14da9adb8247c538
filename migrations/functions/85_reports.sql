-- Reports (docs/reports.md): report.grants, report.contributions, report.pipeline. Each is
-- one aggregation over its tables, grouped by the dimensions the caller names in "by",
-- with the totals of the same statement (GROUPING SETS). The dimensions are a fixed list
-- per report: a name picks one of the expressions written here, and no text of a request
-- ever becomes part of a statement.

-- Reports ------------------------------------------------------------------------------------

-- The SQL expression of dimension p_dim of report p_report over a row dated p_t (a UTC
-- timestamp expression), or NULL when that report has no such dimension.
CREATE OR REPLACE FUNCTION fl.report_dim_sql(p_report text, p_dim text, p_t text)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF p_dim = 'month' THEN
		RETURN format('to_char(%s, ''YYYY-MM'')', p_t);
	ELSIF p_dim = 'quarter' THEN
		RETURN format('to_char(%s, ''YYYY-"Q"Q'')', p_t);
	ELSIF p_dim = 'year' THEN
		RETURN format('to_char(%s, ''YYYY'')', p_t);
	END IF;
	RETURN CASE p_report || '.' || p_dim
	    WHEN 'grants.region' THEN 'g.region'
	    WHEN 'grants.category' THEN 'g.category'
	    WHEN 'grants.fund' THEN 'g.fund_code'
	    WHEN 'grants.status' THEN 'g.status'
	    WHEN 'grants.kind' THEN 'r.kind'
	    WHEN 'grants.gender' THEN 'g.beneficiary_gender'
	    WHEN 'grants.age_band' THEN 'g.beneficiary_age_band'
	    WHEN 'contributions.partner_country' THEN 'p.country'
	    WHEN 'contributions.partner_kind' THEN 'p.kind'
	    WHEN 'contributions.fund' THEN 'x.fund_code'
	    WHEN 'contributions.currency' THEN 'x.currency'
	    WHEN 'pipeline.region' THEN 'g.region'
	    WHEN 'pipeline.category' THEN 'g.category'
	    WHEN 'pipeline.fund' THEN 'g.fund_code'
	    WHEN 'pipeline.kind' THEN 'r.kind'
	    END;
END
$$;

-- The dimensions each report offers, in the order a report lists them.
CREATE OR REPLACE FUNCTION fl.report_dims(p_report text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE p_report
	    WHEN 'grants' THEN ARRAY['fund', 'region', 'category', 'status', 'kind', 'gender',
		'age_band', 'year', 'quarter', 'month']
	    WHEN 'contributions' THEN ARRAY['fund', 'partner_country', 'partner_kind',
		'currency', 'year', 'quarter', 'month']
	    WHEN 'pipeline' THEN ARRAY['fund', 'region', 'category', 'kind', 'year', 'quarter',
		'month']
	    END
$$;

-- A report's request, checked: its dimensions in "by" (each known to the report, once;
-- -32602 unknown_dimension or repeated_dimension with data.allowed), its fund (-32004
-- fund_not_found), and its range: "from" and "to" (dates, both days included; -32602
-- end_before_start on "to").
CREATE OR REPLACE FUNCTION fl.report_request(p_report text, params jsonb, OUT dims text[],
    OUT t0 timestamptz, OUT t1 timestamptz) LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_dim	text;
BEGIN
	dims := '{}';
	FOR v_dim IN SELECT jsonb_array_elements_text(coalesce(params->'by', '[]')) LOOP
		IF NOT v_dim = ANY (fl.report_dims(p_report)) THEN
			PERFORM fl.rpc_error(-32602, 'unknown_dimension', 'by',
			    format('report.%s has no dimension %s', p_report, v_dim),
			    jsonb_build_object('allowed', to_jsonb(fl.report_dims(p_report))));
		END IF;
		IF v_dim = ANY (dims) THEN
			PERFORM fl.rpc_error(-32602, 'repeated_dimension', 'by');
		END IF;
		dims := dims || v_dim;
	END LOOP;
	IF params ? 'fund' THEN
		PERFORM fl.fund_get(params->>'fund', 'fund');
	END IF;
	t0 := fl.time_in(params->>'from');
	t1 := fl.time_in(params->>'to') + interval '1 day';
	IF t1 <= t0 THEN
		PERFORM fl.rpc_error(-32602, 'end_before_start', 'to',
		    'the range ends before it starts');
	END IF;
END
$$;

-- The parts of a report's statement for dimensions p_by over rows dated p_t: the select
-- list (", expr AS d_<name>" each), the grouping sets (each dimension and p_implicit, then
-- p_implicit alone: the totals), the total flag, the output object of a row and the order.
CREATE OR REPLACE FUNCTION fl.report_sql(p_report text, p_by text[], p_t text,
    p_implicit text, OUT sel text, OUT grp text, OUT total text, OUT obj text,
    OUT ord text) LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_dim	text;
	v_exprs	text[] := '{}';
BEGIN
	sel := '';
	obj := '';
	ord := 'x.total';
	FOREACH v_dim IN ARRAY p_by LOOP
		v_exprs := v_exprs || fl.report_dim_sql(p_report, v_dim, p_t);
		sel := sel || format(', %s AS d_%s', fl.report_dim_sql(p_report, v_dim, p_t), v_dim);
		obj := obj || format('%s%L, %s', CASE WHEN obj = '' THEN '' ELSE ', ' END, v_dim,
		    CASE v_dim WHEN 'region' THEN '(SELECT rg.region FROM fl.region rg WHERE '
			'rg.region_code = x.d_region)'
		    ELSE 'x.d_' || v_dim END);
		ord := ord || ', x.d_' || v_dim;
	END LOOP;
	IF cardinality(v_exprs) = 0 THEN
		grp := CASE WHEN p_implicit = '' THEN '()' ELSE p_implicit END;
		total := '0';
	ELSE
		grp := format('GROUPING SETS ((%s%s), (%s))', array_to_string(v_exprs, ', '),
		    CASE WHEN p_implicit = '' THEN '' ELSE ', ' || p_implicit END, p_implicit);
		total := format('GROUPING(%s)', v_exprs[1]);
	END IF;
	obj := 'jsonb_build_object(' || obj || ')';
END
$$;

-- The most rows a report answers (cells and totals); past it -32602 too_many_rows.
CREATE OR REPLACE FUNCTION fl.report_max_rows() RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT 10000 $$;

-- The smallest group of beneficiaries a partner sees a cell of ([privacy] report_min_cell,
-- set on the daemon's sessions; 5 without it).
CREATE OR REPLACE FUNCTION fl.report_min_cell() RETURNS int
LANGUAGE sql STABLE AS $$
	SELECT coalesce(nullif(current_setting('fundd.report_min_cell', true), '')::int, 5)
$$;

-- A report's answer: its columns (name and type, in order: text, month, integer, money,
-- number), rows and totals, from the statement's rows p_out, each marked "_total": the
-- totals are those of the grouping set without dimensions (every row, without any).
CREATE OR REPLACE FUNCTION fl.report_answer(p_report text, p_by text[], p_measures jsonb,
    p_out jsonb, p_extra jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_cols	jsonb := '[]';
	v_dim	text;
	v_rows	jsonb := coalesce((SELECT jsonb_agg(e - '_total' ORDER BY i)
		    FROM jsonb_array_elements(p_out) WITH ORDINALITY x(e, i)
		   WHERE NOT (e->>'_total')::boolean), '[]');
	v_tot	jsonb := coalesce((SELECT jsonb_agg(e - '_total' - p_by ORDER BY i)
		    FROM jsonb_array_elements(p_out) WITH ORDINALITY x(e, i)
		   WHERE (e->>'_total')::boolean OR cardinality(p_by) = 0), '[]');
BEGIN
	FOREACH v_dim IN ARRAY p_by LOOP
		v_cols := v_cols || jsonb_build_object('name', v_dim, 'type',
		    CASE v_dim WHEN 'month' THEN 'month' ELSE 'text' END);
	END LOOP;
	IF cardinality(p_by) > 0 AND jsonb_array_length(v_rows) > fl.report_max_rows() THEN
		PERFORM fl.rpc_error(-32602, 'too_many_rows', 'by',
		    format('more than %s rows: group by fewer dimensions or a shorter range',
			fl.report_max_rows()));
	END IF;
	RETURN jsonb_build_object('report', p_report, 'by', to_jsonb(p_by),
	    'columns', v_cols || p_measures, 'rows', v_rows, 'totals', v_tot) || p_extra;
END
$$;

-- The statement of report.grants by p_dims, dated by p_dated ('decided', or else the
-- application's date): its cells from $1 to $2 (timestamptz), of fund $3 (null: every fund),
-- at most $4 rows. api.report_grants runs it; the bench runs the same text as the
-- report's baseline (tests/bench/run.sh).
CREATE OR REPLACE FUNCTION fl.report_grants_query(p_dims text[], p_dated text)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_t	text := CASE p_dated WHEN 'decided' THEN 'g.decided_at' ELSE 'g.created_at' END;
	s	record := fl.report_sql('grants', p_dims, format('(%s AT TIME ZONE ''UTC'')', v_t),
		    'f.currency');
BEGIN
	RETURN format($q$
	    SELECT x.total = 1 AS total, %s AS dims, x.currency, fl.minor(x.currency) AS minor,
		x.grants, x.beneficiaries, x.requested, x.committed, x.disbursed
	      FROM (SELECT %s AS total, f.currency, count(*) AS grants,
			count(DISTINCT g.returnee_id) AS beneficiaries,
			sum(g.amount) AS requested, sum(g.committed) AS committed,
			sum(g.disbursed) AS disbursed %s
		      FROM fl.grant_application g
		      JOIN fl.fund f ON f.code = g.fund_code %s
		     WHERE %s >= $1 AND %s < $2 AND ($3::text IS NULL OR g.fund_code = $3)
		     GROUP BY %s) x
	     ORDER BY %s, x.currency LIMIT $4$q$,
	    s.obj, s.total, s.sel,
	    CASE WHEN 'kind' = ANY (p_dims)
		THEN 'JOIN fl.returnee r ON r.returnee_id = g.returnee_id' ELSE '' END,
	    v_t, v_t, s.grp, s.ord);
END
$$;

-- report.grants: applications dated in the range (applied, or decided with
-- dated=decided), counted and summed by the dimensions asked for and by currency. A
-- partner reads it programme-wide with small cells suppressed (docs/reports.md, Privacy).
CREATE OR REPLACE FUNCTION api.report_grants(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SET jit = off SET work_mem = '64MB' AS $$
DECLARE
	q	record := fl.report_request('grants', params);
	v_partner boolean := NOT (p.roles && ARRAY['admin', 'approver', 'auditor']);
	v_min	int := fl.report_min_cell();
	v_out	jsonb := '[]';
	v_cells	record;
	v_all	jsonb[] := '{}';
	v_hide	text[] := '{}';
	v_cur	text;
	v_left	bigint;
	v_total	boolean;
	v_minor	int;
	v_row	jsonb;
	v_extra	jsonb := '{}';
	o	jsonb;
BEGIN
	IF v_partner AND q.dims @> ARRAY['gender', 'age_band'] THEN
		PERFORM fl.rpc_error(-32602, 'identifying_dimensions', 'by',
		    'gender and age band together could single a person out');
	END IF;
	FOR v_cells IN EXECUTE fl.report_grants_query(q.dims, params->>'dated')
	    USING q.t0, q.t1, params->>'fund', fl.report_max_rows() + 1
	LOOP
		v_all := v_all || to_jsonb(v_cells);
	END LOOP;
	-- the cells a partner may not see: under the smallest group, and then, while the
	-- hidden cells of a currency together describe fewer grants than that, the next
	-- smallest, so that no subtraction from the totals tells a small group
	IF v_partner THEN
		FOR o IN SELECT e FROM unnest(v_all) e WHERE NOT (e->>'total')::boolean
		    ORDER BY e->>'currency', (e->>'beneficiaries')::bigint, (e->>'grants')::bigint
		LOOP
			IF o->>'currency' IS DISTINCT FROM v_cur THEN
				v_cur := o->>'currency';
				v_left := 0;
			ELSIF v_left < 0 THEN
				CONTINUE;	-- this currency's hidden cells are enough
			END IF;
			IF (o->>'beneficiaries')::int >= v_min AND (v_left = 0 OR v_left >= v_min)
			THEN
				v_left := -1;
				CONTINUE;
			END IF;
			v_hide := v_hide || (v_cur || ' ' || (o->'dims')::text);
			v_left := v_left + (o->>'grants')::bigint;
		END LOOP;
	END IF;
	FOREACH o IN ARRAY v_all LOOP
		v_total := (o->>'total')::boolean;
		v_minor := (o->>'minor')::int;
		v_row := (o->'dims') || jsonb_build_object('currency', o->'currency');
		IF v_partner AND (o->>'currency' || ' ' || (o->'dims')::text = ANY (v_hide) OR
		    (v_total AND (o->>'beneficiaries')::int < v_min)) THEN
			v_row := v_row || jsonb_build_object('grants', NULL, 'beneficiaries', NULL,
			    'requested', NULL, 'committed', NULL, 'disbursed', NULL,
			    'suppressed', true);
		ELSE
			v_row := v_row || jsonb_build_object('grants', o->'grants',
			    'beneficiaries', o->'beneficiaries',
			    'requested', fl.total_out((o->>'requested')::numeric, v_minor),
			    'committed', fl.total_out((o->>'committed')::numeric, v_minor),
			    'disbursed', fl.total_out((o->>'disbursed')::numeric, v_minor));
			IF v_partner THEN
				v_row := v_row || jsonb_build_object('suppressed', false);
			END IF;
		END IF;
		v_out := v_out || (v_row || jsonb_build_object('_total', v_total));
	END LOOP;
	IF v_partner THEN
		v_extra := jsonb_build_object('min_cell', v_min,
		    'suppressed', (SELECT count(*) FROM jsonb_array_elements(v_out) e
			WHERE (e->>'suppressed')::boolean AND NOT (e->>'_total')::boolean));
	END IF;
	RETURN fl.report_answer('grants', q.dims, '[{"name": "currency", "type": "text"},
	    {"name": "grants", "type": "integer"}, {"name": "beneficiaries", "type": "integer"},
	    {"name": "requested", "type": "money"}, {"name": "committed", "type": "money"},
	    {"name": "disbursed", "type": "money"}]'::jsonb
	    || CASE WHEN v_partner THEN '[{"name": "suppressed", "type": "boolean"}]'::jsonb
		ELSE '[]' END, v_out, v_extra);
END
$$;

-- Whether partner p_partner made a gift that stands in [p_from, p_to): a direct receipt
-- not reversed, or a receipt of one of its pledges.
CREATE OR REPLACE FUNCTION fl.gave(p_partner text, p_from timestamptz, p_to timestamptz)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT FROM fl.contribution c
		WHERE c.partner_id = p_partner AND c.pledged_at IS NULL
		  AND c.status = 'received' AND c.received_at >= p_from AND c.received_at < p_to)
	    OR EXISTS (SELECT FROM fl.contribution c
		JOIN fl.pledge_receipt r USING (contribution_id)
		WHERE c.partner_id = p_partner AND c.pledged_at IS NOT NULL
		  AND r.received_at >= p_from AND r.received_at < p_to)
$$;

-- The statement of report.contributions by p_dims: its cells from $1 to $2
-- (timestamptz), of fund $3 (null: every fund), at most $4 rows. api.report_contributions
-- runs it; the bench runs the same text as the report's baseline (tests/bench/run.sh).
CREATE OR REPLACE FUNCTION fl.report_contributions_query(p_dims text[])
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	s	record := fl.report_sql('contributions', p_dims, '(x.t AT TIME ZONE ''UTC'')',
		    'f.currency');
	v_orig	boolean := 'currency' = ANY (p_dims);
	v_dim	text;
	v_bsel	text := '';		-- a movement's own dimensions, and its grouping
	v_bgrp	text := '';
	v_csel	text := '';		-- the partner's dimensions
	v_cols	text := '';		-- every dimension's column, with a leading comma
	v_on	text := '';		-- a cell's median row: the same dimensions
	v_grp	text;
	v_total	text;
BEGIN
	FOREACH v_dim IN ARRAY p_dims LOOP
		IF v_dim IN ('partner_country', 'partner_kind') THEN
			v_csel := v_csel || format(', %s AS d_%s',
			    fl.report_dim_sql('contributions', v_dim, NULL), v_dim);
		ELSE
			v_bsel := v_bsel || format(', %s AS d_%s', fl.report_dim_sql('contributions',
			    v_dim, '(x.t AT TIME ZONE ''UTC'')'), v_dim);
			v_bgrp := v_bgrp || ', ' || fl.report_dim_sql('contributions', v_dim,
			    '(x.t AT TIME ZONE ''UTC'')');
		END IF;
		v_cols := v_cols || ', c.d_' || v_dim;
		v_on := v_on || format(' AND m.d_%s IS NOT DISTINCT FROM x.d_%s', v_dim, v_dim);
	END LOOP;
	IF v_cols = '' THEN
		v_grp := 'c.currency';
		v_total := '0';
	ELSE
		v_grp := format('GROUPING SETS ((%s, c.currency), (c.currency))', substr(v_cols, 3));
		v_total := format('GROUPING(c.d_%s)', p_dims[1]);
	END IF;
	RETURN format($q$
	    WITH mv AS (
		-- direct receipts, reversed ones too: their reversal is a movement of its own
		SELECT c.partner_id, c.fund_code, c.currency, c.received_at AS t, 1 AS n,
		    c.fund_amount AS amt, c.amount AS orig, 0 AS pl, 0::bigint AS pl_amt,
		    0::bigint AS outst, c.status <> 'reversed' AS gift
		  FROM fl.contribution c
		 WHERE c.pledged_at IS NULL AND c.received_at >= $1 AND c.received_at < $2
		   AND ($3::text IS NULL OR c.fund_code = $3)
		UNION ALL
		SELECT c.partner_id, c.fund_code, c.currency, e.value_at, -1, -c.fund_amount,
		    -c.amount, 0, 0, 0, false
		  FROM fl.contribution c JOIN fl.journal_entry e ON e.entry_id = c.reversal_entry
		 WHERE c.reversal_entry IS NOT NULL AND e.value_at >= $1 AND e.value_at < $2
		   AND ($3::text IS NULL OR c.fund_code = $3)
		UNION ALL
		SELECT c.partner_id, r.fund_code, c.currency, r.received_at, 1, r.fund_amount,
		    r.amount, 0, 0, 0, true
		  FROM fl.pledge_receipt r JOIN fl.contribution c USING (contribution_id)
		 WHERE r.received_at >= $1 AND r.received_at < $2
		   AND ($3::text IS NULL OR r.fund_code = $3)
		UNION ALL
		SELECT c.partner_id, c.fund_code, c.currency, c.pledged_at, 0, 0, 0, 1,
		    c.fund_amount, CASE WHEN c.status = 'pledged' THEN c.fund_amount -
			coalesce((SELECT sum(r.cleared) FROM fl.pledge_receipt r
			    WHERE r.contribution_id = c.contribution_id), 0) ELSE 0 END, false
		  FROM fl.contribution c
		 WHERE c.pledged_at >= $1 AND c.pledged_at < $2
		   AND ($3::text IS NULL OR c.fund_code = $3)),
	    -- the movements by fund, donor, gift amount (none: not a gift) and their own
	    -- dimensions
	    b AS MATERIALIZED (
		SELECT x.fund_code, x.partner_id, CASE WHEN x.gift THEN x.amt END AS gamt,
		    sum(x.pl) AS pl, sum(x.pl_amt) AS pl_amt, sum(x.outst) AS outst,
		    sum(x.n) AS n, sum(x.amt) AS amt, sum(x.orig) AS orig,
		    min(x.currency) AS ccy, count(*) FILTER (WHERE x.gift) AS gifts %s
		  FROM mv x GROUP BY x.fund_code, x.partner_id, 3 %s),
	    -- each donor of the range: new when no gift of it that stands (a direct receipt
	    -- not reversed, a receipt of a pledge) is dated before the range, retained when
	    -- one is dated in the period of the same length before it
	    donor AS (
		SELECT d.partner_id,
		    NOT fl.gave(d.partner_id, '-infinity', $1) AS new,
		    fl.gave(d.partner_id, $1 - ($2 - $1), $1) AS retained
		  FROM (SELECT DISTINCT partner_id FROM b WHERE gifts > 0) d),
	    c AS MATERIALIZED (
		SELECT b.*, f.currency, dn.new, dn.retained %s
		  FROM b JOIN fl.fund f ON f.code = b.fund_code
		  LEFT JOIN donor dn ON dn.partner_id = b.partner_id %s),
	    cell AS (
		SELECT %s AS total, c.currency, CASE WHEN %L THEN min(c.ccy) END AS ccy,
		    sum(c.pl) AS pledges, sum(c.pl_amt) AS pledged, sum(c.outst) AS outstanding,
		    sum(c.n) AS receipts, sum(c.amt) AS received, sum(c.orig) AS received_original,
		    count(DISTINCT c.partner_id) FILTER (WHERE c.gifts > 0) AS donors,
		    count(DISTINCT c.partner_id) FILTER (WHERE c.gifts > 0 AND c.new) AS new_donors,
		    count(DISTINCT c.partner_id) FILTER (WHERE c.gifts > 0 AND c.retained)
			AS retained_donors,
		    round(sum(c.gamt::numeric * c.gifts) / nullif(sum(c.gifts), 0))
			AS average_gift %s
		  FROM c GROUP BY %s),
	    -- the median gift (percentile_disc): the least amount whose gifts, with the
	    -- smaller ones, are at least half the cell's
	    med AS (
		SELECT w.total, w.currency, min(w.gamt) FILTER (WHERE 2 * w.run >= w.n)
		    AS median_gift %s
		  FROM (SELECT %s AS total, c.currency, c.gamt,
			    sum(sum(c.gifts)) OVER (PARTITION BY %s, c.currency %s
				ORDER BY c.gamt) AS run,
			    sum(sum(c.gifts)) OVER (PARTITION BY %s, c.currency %s) AS n %s
			  FROM c WHERE c.gifts > 0
			 GROUP BY %s, c.gamt) w
		 GROUP BY w.total, w.currency %s)
	    SELECT x.total = 1 AS total, %s AS dims, x.currency, fl.minor(x.currency) AS minor,
		x.ccy, fl.minor(x.ccy) AS cminor, x.pledges, x.pledged, x.outstanding,
		x.receipts, x.received, x.received_original, x.donors, x.new_donors,
		x.retained_donors, x.average_gift, m.median_gift
	      FROM cell x
	      LEFT JOIN med m ON m.total = x.total AND m.currency = x.currency %s
	     ORDER BY %s, x.currency LIMIT $4$q$,
	    v_bsel, v_bgrp, v_csel,
	    CASE WHEN p_dims && ARRAY['partner_country', 'partner_kind']
		THEN 'JOIN fl.partner p ON p.partner_id = b.partner_id' ELSE '' END,
	    v_total, v_orig, v_cols, v_grp,
	    replace(v_cols, 'c.', 'w.'), v_total, v_total, v_cols, v_total, v_cols, v_cols,
	    v_grp,
	    replace(v_cols, 'c.', 'w.'), s.obj, v_on, s.ord);
END
$$;

-- report.contributions: the money of the range by the dimensions asked for and the fund's
-- currency: pledges made (and what of them is still outstanding), receipts (direct ones
-- and each receipt of a pledge, less the reversals dated in the range), and the gifts
-- (receipts that were not reversed): the donors who gave, those who gave for the first
-- time, those who also gave in the period of the same length before, and the average and
-- median gift. The movements are first summed by donor and gift amount (and the
-- dimensions a movement has itself: fund, currency, date), which leaves few rows however
-- many gifts there were; the partner's dimensions, the donors and the median are taken
-- from those.
CREATE OR REPLACE FUNCTION api.report_contributions(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SET jit = off SET work_mem = '64MB' AS $$
DECLARE
	q	record := fl.report_request('contributions', params);
	v_orig	boolean := 'currency' = ANY (q.dims);
	v_out	jsonb := '[]';
	c	record;
	v_row	jsonb;
BEGIN
	FOR c IN EXECUTE fl.report_contributions_query(q.dims)
	    USING q.t0, q.t1, params->>'fund', fl.report_max_rows() + 1
	LOOP
		v_row := c.dims || jsonb_build_object('fund_currency', c.currency,
		    'pledges', c.pledges, 'pledged', fl.total_out(c.pledged, c.minor),
		    'outstanding', fl.total_out(c.outstanding, c.minor),
		    'receipts', c.receipts, 'received', fl.total_out(c.received, c.minor),
		    'donors', c.donors, 'new_donors', c.new_donors,
		    'retained_donors', c.retained_donors,
		    'average_gift', fl.total_out(c.average_gift, c.minor),
		    'median_gift', fl.total_out(c.median_gift, c.minor));
		IF v_orig AND NOT c.total THEN
			v_row := v_row || jsonb_build_object('received_original',
			    fl.total_out(c.received_original, c.cminor));
		END IF;
		v_out := v_out || (v_row || jsonb_build_object('_total', c.total));
	END LOOP;
	RETURN fl.report_answer('contributions', q.dims, '[{"name": "fund_currency",
	    "type": "text"}, {"name": "pledges", "type": "integer"}, {"name": "pledged",
	    "type": "money"}, {"name": "outstanding", "type": "money"}, {"name": "receipts",
	    "type": "integer"}, {"name": "received", "type": "money"}, {"name": "donors",
	    "type": "integer"}, {"name": "new_donors", "type": "integer"},
	    {"name": "retained_donors", "type": "integer"}, {"name": "average_gift",
	    "type": "money"}, {"name": "median_gift", "type": "money"}]'::jsonb
	    || CASE WHEN v_orig THEN '[{"name": "received_original", "type": "money"}]'::jsonb
		ELSE '[]' END, v_out);
END
$$;

-- The statement of report.pipeline by p_dims: its cells from $1 to $2 (timestamptz), of
-- fund $3 (null: every fund), at most $4 rows. api.report_pipeline runs it; the bench runs
-- the same text as the report's baseline (tests/bench/run.sh).
CREATE OR REPLACE FUNCTION fl.report_pipeline_query(p_dims text[])
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	s	record := fl.report_sql('pipeline', p_dims, '(g.created_at AT TIME ZONE ''UTC'')',
		    '');
BEGIN
	RETURN format($q$
	    SELECT x.total = 1 AS total, %s AS dims, x.*
	      FROM (SELECT %s AS total, count(*) AS applications,
			count(*) FILTER (WHERE g.status = 'submitted') AS submitted,
			count(*) FILTER (WHERE g.status IN ('approved', 'completed'))
			    AS approved,
			count(*) FILTER (WHERE g.status = 'rejected') AS rejected,
			count(*) FILTER (WHERE g.status = 'withdrawn') AS withdrawn,
			count(*) FILTER (WHERE g.status = 'cancelled') AS cancelled,
			count(*) FILTER (WHERE g.status = 'submitted' AND
			    g.created_at > now() - interval '7 days') AS waiting_0_7,
			count(*) FILTER (WHERE g.status = 'submitted' AND
			    g.created_at <= now() - interval '7 days' AND
			    g.created_at > now() - interval '30 days') AS waiting_8_30,
			count(*) FILTER (WHERE g.status = 'submitted' AND
			    g.created_at <= now() - interval '30 days' AND
			    g.created_at > now() - interval '90 days') AS waiting_31_90,
			count(*) FILTER (WHERE g.status = 'submitted' AND
			    g.created_at <= now() - interval '90 days') AS waiting_over_90,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
			    g.decided_at - g.created_at) / 86400) FILTER (WHERE g.status IN
			    ('approved', 'completed', 'rejected')) AS days_to_decision,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
			    g.first_paid_at - g.decided_at) / 86400) FILTER (WHERE g.status IN
			    ('approved', 'completed') AND g.first_paid_at IS NOT NULL)
			    AS days_to_first_payment %s
		      FROM fl.grant_application g %s
		     WHERE g.created_at >= $1 AND g.created_at < $2
		       AND ($3::text IS NULL OR g.fund_code = $3)
		     GROUP BY %s) x
	     ORDER BY %s LIMIT $4$q$,
	    s.obj, s.total, s.sel,
	    CASE WHEN 'kind' = ANY (p_dims)
		THEN 'JOIN fl.returnee r ON r.returnee_id = g.returnee_id' ELSE '' END,
	    s.grp, s.ord);
END
$$;

-- report.pipeline: applications made in the range by the dimensions asked for: how many
-- are in each status now, how long the open ones have waited, the approval rate of those
-- decided, and the median days from submission to decision and from approval to the
-- first payment.
CREATE OR REPLACE FUNCTION api.report_pipeline(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SET jit = off SET work_mem = '64MB' AS $$
DECLARE
	q	record := fl.report_request('pipeline', params);
	v_out	jsonb := '[]';
	c	record;
	v_row	jsonb;
BEGIN
	FOR c IN EXECUTE fl.report_pipeline_query(q.dims)
	    USING q.t0, q.t1, params->>'fund', fl.report_max_rows() + 1
	LOOP
		v_row := c.dims || jsonb_build_object('applications', c.applications,
		    'submitted', c.submitted, 'approved', c.approved, 'rejected', c.rejected,
		    'withdrawn', c.withdrawn, 'cancelled', c.cancelled,
		    'approval_rate', round(c.approved::numeric /
			nullif(c.approved + c.rejected, 0), 4),
		    'median_days_to_decision', round(c.days_to_decision::numeric, 1),
		    'median_days_to_first_payment', round(c.days_to_first_payment::numeric, 1),
		    'waiting_0_7_days', c.waiting_0_7, 'waiting_8_30_days', c.waiting_8_30,
		    'waiting_31_90_days', c.waiting_31_90,
		    'waiting_over_90_days', c.waiting_over_90);
		v_out := v_out || (v_row || jsonb_build_object('_total', c.total));
	END LOOP;
	RETURN fl.report_answer('pipeline', q.dims, '[{"name": "applications",
	    "type": "integer"}, {"name": "submitted", "type": "integer"}, {"name": "approved",
	    "type": "integer"}, {"name": "rejected", "type": "integer"}, {"name": "withdrawn",
	    "type": "integer"}, {"name": "cancelled", "type": "integer"},
	    {"name": "approval_rate", "type": "number"}, {"name": "median_days_to_decision",
	    "type": "number"}, {"name": "median_days_to_first_payment", "type": "number"},
	    {"name": "waiting_0_7_days", "type": "integer"}, {"name": "waiting_8_30_days",
	    "type": "integer"}, {"name": "waiting_31_90_days", "type": "integer"},
	    {"name": "waiting_over_90_days", "type": "integer"}]'::jsonb, v_out);
END
$$;
