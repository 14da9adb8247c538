-- Common helpers: ids, times, JSON-RPC errors, money, paging and regions, which every area
-- uses; the append-only trigger function; system.version and region.list; and the id
-- defaults of the tables.
--
-- Each file of functions/ is applied again whenever it changes, in name order, after the
-- versioned migrations and with check_function_bodies off; every statement replaces its
-- object. Most helpers are PL/pgSQL even where SQL would do: a SQL-language function called
-- from PL/pgSQL is parsed again on every call. Patterns say "+" and test the length apart,
-- never a bounded repetition such as {1,128}, which the regex engine expands into as many
-- states.

-- Ids and times ----------------------------------------------------------------------------

-- An opaque id: a prefix and 20 hex digits of randomness.
CREATE OR REPLACE FUNCTION fl.new_id(p_prefix text) RETURNS text
LANGUAGE sql VOLATILE AS $$
	SELECT p_prefix || '_' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 20)
$$;

-- RFC 3339 UTC, as the protocol writes times: 2026-11-23T10:00:00.123456Z
CREATE OR REPLACE FUNCTION fl.ts(p_t timestamptz) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN to_char(p_t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
END
$$;

-- RFC 3339 time or YYYY-MM-DD (midnight UTC), already validated in C.
CREATE OR REPLACE FUNCTION fl.time_in(p_text text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF p_text IS NULL THEN
		RETURN NULL;
	END IF;
	IF length(p_text) = 10 THEN
		RETURN (p_text || 'T00:00:00Z')::timestamptz;
	END IF;
	RETURN p_text::timestamptz;
END
$$;

-- Errors -----------------------------------------------------------------------------------

-- Raise a JSON-RPC error. The daemon maps SQLSTATE FLERR to the error object in the message;
-- any other SQLSTATE becomes -32603 without details.
CREATE OR REPLACE FUNCTION fl.rpc_error(p_code int, p_reason text, p_field text DEFAULT NULL,
    p_message text DEFAULT NULL, p_extra jsonb DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'FLERR', MESSAGE = jsonb_build_object(
	    'code', p_code,
	    'message', coalesce(p_message, replace(p_reason, '_', ' ')),
	    'data', jsonb_strip_nulls(jsonb_build_object('reason', p_reason, 'field', p_field))
	        || p_extra)::text;
END
$$;

-- -32009 wrong_state: the object's status does not allow the call.
CREATE OR REPLACE FUNCTION fl.wrong_state(p_status text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM fl.rpc_error(-32009, 'wrong_state', NULL,
	    'not allowed in state ' || p_status, jsonb_build_object('status', p_status));
END
$$;

-- Money ------------------------------------------------------------------------------------

-- 10^n for the minor units we have, as bigint (no floating point anywhere).
CREATE OR REPLACE FUNCTION fl.pow10(p_n int) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN (ARRAY[1, 10, 100, 1000, 10000]::bigint[])[p_n + 1];
END
$$;

-- The minor units of a currency; NULL for an unknown code.
CREATE OR REPLACE FUNCTION fl.minor(p_currency text) RETURNS int
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT minor_unit FROM fl.currency WHERE code = p_currency);
END
$$;

-- A decimal money string into minor units, or a -32602 naming p_field; zero only with
-- p_allow_zero.
CREATE OR REPLACE FUNCTION fl.money_in(p_text text, p_minor int, p_field text,
    p_allow_zero boolean DEFAULT false) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_int	text;
	v_frac	text;
	v	bigint;
BEGIN
	IF p_text IS NULL OR p_text !~ '^[0-9]+(\.[0-9]+)?$' THEN
		PERFORM fl.rpc_error(-32602, 'bad_format', p_field);
	END IF;
	v_int := split_part(p_text, '.', 1);
	v_frac := split_part(p_text, '.', 2);
	IF length(v_int) > 18 THEN
		PERFORM fl.rpc_error(-32602, 'bad_format', p_field);
	END IF;
	IF length(v_frac) > p_minor THEN
		PERFORM fl.rpc_error(-32602, 'too_many_decimals', p_field);
	END IF;
	v := v_int::numeric * fl.pow10(p_minor);
	IF p_minor > 0 THEN
		v := v + rpad(v_frac, p_minor, '0')::numeric;
	END IF;
	IF v > 100000000000000000 THEN
		PERFORM fl.rpc_error(-32602, 'too_large', p_field);
	END IF;
	IF v = 0 AND NOT p_allow_zero THEN
		PERFORM fl.rpc_error(-32602, 'not_positive', p_field);
	END IF;
	RETURN v;
END
$$;

-- Minor units as a decimal string with exactly p_minor decimals.
CREATE OR REPLACE FUNCTION fl.money_out(p_amount bigint, p_minor int) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_abs	numeric := abs(p_amount::numeric);
	v_p	bigint := fl.pow10(p_minor);
BEGIN
	IF p_minor = 0 THEN
		RETURN p_amount::text;
	END IF;
	RETURN CASE WHEN p_amount < 0 THEN '-' ELSE '' END || div(v_abs, v_p)::text || '.' ||
	    lpad(mod(v_abs, v_p)::text, p_minor, '0');
END
$$;

-- A total (numeric: a sum may pass what bigint holds) as money_out() writes an amount.
CREATE OR REPLACE FUNCTION fl.total_out(p_total numeric, p_minor int) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_abs	numeric := abs(p_total);
	v_p	numeric := fl.pow10(p_minor);
BEGIN
	IF p_minor = 0 THEN
		RETURN p_total::text;
	END IF;
	RETURN CASE WHEN p_total < 0 THEN '-' ELSE '' END || div(v_abs, v_p)::text || '.' ||
	    lpad(mod(v_abs, v_p)::text, p_minor, '0');
END
$$;

-- amount (minor units at p_src_minor) * rate, in minor units at p_dst_minor, rounded half
-- to even. numeric is exact decimal arithmetic.
CREATE OR REPLACE FUNCTION fl.fx_convert(p_amount bigint, p_src_minor int, p_rate numeric,
    p_dst_minor int) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v	numeric := p_amount::numeric * p_rate * fl.pow10(p_dst_minor) /
		    fl.pow10(p_src_minor);
	f	numeric := floor(v);
	d	numeric := v - f;
BEGIN
	IF d > 0.5 OR (d = 0.5 AND mod(f, 2) = 1) THEN
		f := f + 1;
	END IF;
	IF f > 100000000000000000 THEN
		PERFORM fl.rpc_error(-32602, 'too_large', 'amount',
		    'the amount in the fund''s currency is too large');
	END IF;
	RETURN f::bigint;
END
$$;

-- Lists ------------------------------------------------------------------------------------

-- Paging: a cursor is "c" and the last row's seq (0 without one); -32602 bad_cursor
-- otherwise.
CREATE OR REPLACE FUNCTION fl.cursor_in(p_cursor text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF p_cursor IS NULL THEN
		RETURN 0;
	END IF;
	IF p_cursor !~ '^c[0-9]+$' OR length(p_cursor) > 19 THEN
		PERFORM fl.rpc_error(-32602, 'bad_cursor', 'cursor');
	END IF;
	RETURN substr(p_cursor, 2)::bigint;
END
$$;

-- The page size asked for; 100 by default (bounds checked in C).
CREATE OR REPLACE FUNCTION fl.limit_in(p_params jsonb) RETURNS int
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN coalesce((p_params->>'limit')::int, 100);
END
$$;

-- One page of a list. p_rows holds up to p_lim + 1 rows {"s": position, "j": object}, in
-- order (the one row more says whether a next page exists). Returns {p_key: the first
-- p_lim objects, "next_cursor": the cursor after the last of them, or null at the end}.
CREATE OR REPLACE FUNCTION fl.page(p_key text, p_rows jsonb, p_lim int) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_n	int := coalesce(jsonb_array_length(p_rows), 0);
BEGIN
	RETURN jsonb_build_object(p_key, coalesce((SELECT jsonb_agg(e.x->'j' ORDER BY e.i)
	    FROM jsonb_array_elements(p_rows) WITH ORDINALITY AS e(x, i) WHERE e.i <= p_lim),
	    '[]'),
	    'next_cursor', CASE WHEN v_n > p_lim THEN 'c' || (p_rows->(p_lim - 1)->>'s') END);
END
$$;

-- Regions ----------------------------------------------------------------------------------

-- A region: a name (any case) or an ISO 3166-2 code, or -32602 naming p_field.
CREATE OR REPLACE FUNCTION fl.region_resolve(p_text text, p_field text) RETURNS fl.region
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v	fl.region;
BEGIN
	-- by its code (the primary key), or else its name in English, Armenian or Russian as
	-- fl.name_key() reads names (case and diacritics aside)
	SELECT * INTO v FROM fl.region WHERE region_code = upper(p_text);
	IF v.region_code IS NULL THEN
		SELECT * INTO v FROM fl.region
		 WHERE fl.name_key(p_text) IN (fl.name_key(region), fl.name_key(region_hy),
			fl.name_key(region_ru))
		 ORDER BY region_code LIMIT 1;
	END IF;
	IF v.region_code IS NULL THEN
		PERFORM fl.rpc_error(-32602, 'unknown_region', p_field);
	END IF;
	RETURN v;
END
$$;

-- region.list: every region, by country and name, with its names in each language.
CREATE OR REPLACE FUNCTION api.region_list(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT jsonb_build_object('regions', coalesce(jsonb_agg(jsonb_build_object(
	    'region', region, 'region_code', region_code, 'country', country,
	    'names', jsonb_strip_nulls(jsonb_build_object('en', region, 'hy', region_hy,
		'ru', region_ru)))
	    ORDER BY country, region), '[]'))
	  FROM fl.region);
END
$$;

-- system.* ---------------------------------------------------------------------------------

-- system.version: the daemon's version (from ctx) and the protocol's.
CREATE OR REPLACE FUNCTION api.system_version(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('version', ctx->>'version', 'protocol', 1);
END
$$;

-- History is append-only, for every role: the trigger function of the tables whose rows
-- are never updated or deleted (journal, accounts, grant decisions, audit trail).
CREATE OR REPLACE FUNCTION fl.append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$;

-- Corrections ------------------------------------------------------------------------------

-- AFTER UPDATE of a partner, a returnee or a grant (TG_ARGV: the object's kind, its id
-- column, then the columns a correction may change): one fl.correction row with the fields
-- that changed, their old and new values, and who changed them (the setting
-- fl.principal_id, which the API's update methods set; NULL when someone else did). So no
-- correction is silent, whoever makes it.
CREATE OR REPLACE FUNCTION fl.correction_record() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	o	jsonb := to_jsonb(OLD);
	n	jsonb := to_jsonb(NEW);
	v_f	text[];
BEGIN
	SELECT array_agg(c ORDER BY k) INTO v_f
	  FROM unnest(TG_ARGV[2:]) WITH ORDINALITY AS x(c, k)
	 WHERE o->c IS DISTINCT FROM n->c;
	IF v_f IS NOT NULL THEN
		INSERT INTO fl.correction (object_kind, object_id, principal_id, fields, old, new)
		VALUES (TG_ARGV[0], n->>TG_ARGV[1],
		    nullif(current_setting('fl.principal_id', true), ''), v_f,
		    (SELECT jsonb_object_agg(c, o->c) FROM unnest(v_f) c),
		    (SELECT jsonb_object_agg(c, n->c) FROM unnest(v_f) c));
	END IF;
	RETURN NULL;
END
$$;

-- BEFORE UPDATE of a partner or a returnee: who it is never changes (TG_ARGV: the columns
-- that identify it).
CREATE OR REPLACE FUNCTION fl.identity_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	c	text;
BEGIN
	FOREACH c IN ARRAY TG_ARGV LOOP
		IF to_jsonb(OLD)->c IS DISTINCT FROM to_jsonb(NEW)->c THEN
			RAISE EXCEPTION '%: % never changes', TG_TABLE_NAME, c;
		END IF;
	END LOOP;
	RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER correction_append_only BEFORE UPDATE OR DELETE ON fl.correction
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER correction_no_truncate BEFORE TRUNCATE ON fl.correction
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();

-- A history as the *.history methods show it: the corrections of one object, oldest first,
-- a page at a time; p_extra(seq) may add to each (a grant's withdrawn approvals).
CREATE OR REPLACE FUNCTION fl.history(p_kind text, p_id text, params jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
	-- a grant's amount, in minor units in the row, is money on the wire
	m	int := (SELECT fl.minor(f.currency) FROM fl.grant_application g
		    JOIN fl.fund f ON f.code = g.fund_code
		   WHERE p_kind = 'grant' AND g.grant_id = p_id);
	-- a returnee's sealed values, which no key opens once erased
	v_erased boolean := coalesce((SELECT erased_at IS NOT NULL FROM fl.returnee
		   WHERE p_kind = 'returnee' AND returnee_id = p_id), false);
BEGIN
	RETURN fl.page('history', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
	    'j', jsonb_build_object('at', fl.ts(t.at), 'principal_id', t.principal_id,
		'name', (SELECT name FROM fl.principal WHERE principal_id = t.principal_id),
		'fields', to_jsonb(ARRAY(SELECT regexp_replace(f, '_sealed$', '')
		    FROM unnest(t.fields) f)),
		'old', CASE WHEN m IS NOT NULL AND t.old ? 'amount' THEN t.old ||
		    jsonb_build_object('amount', fl.money_out((t.old->>'amount')::bigint, m))
		    ELSE fl.sealed_fields_out(t.old, v_erased) END,
		'new', CASE WHEN m IS NOT NULL AND t.new ? 'amount' THEN t.new ||
		    jsonb_build_object('amount', fl.money_out((t.new->>'amount')::bigint, m))
		    ELSE fl.sealed_fields_out(t.new, v_erased) END)
		|| CASE p_kind WHEN 'grant' THEN jsonb_build_object('withdrawn_approvals',
		    coalesce((SELECT jsonb_agg(jsonb_build_object('principal_id', w.principal_id,
			'name', (SELECT name FROM fl.principal
				  WHERE principal_id = w.principal_id),
			'at', fl.ts(w.decided_at), 'comment', w.comment) ORDER BY w.decided_at)
		      FROM fl.grant_decision_withdrawn w
		     WHERE w.correction_seq = t.seq), '[]'))
		ELSE '{}' END) ORDER BY t.seq)
	  FROM (SELECT * FROM fl.correction
	         WHERE object_kind = p_kind AND object_id = p_id
	           AND seq > fl.cursor_in(params->>'cursor')
	         ORDER BY seq LIMIT v_lim + 1) t), v_lim);
END
$$;

-- Id defaults ------------------------------------------------------------------------------

-- The tables' ids default to fl.new_id() with their prefix. Set here rather than in the
-- CREATE TABLEs: fl.new_id() lives in this file, which is applied after the tables exist.
ALTER TABLE fl.principal ALTER COLUMN principal_id SET DEFAULT fl.new_id('pr');
ALTER TABLE fl.partner ALTER COLUMN partner_id SET DEFAULT fl.new_id('pa');
ALTER TABLE fl.contribution ALTER COLUMN contribution_id SET DEFAULT fl.new_id('co');
ALTER TABLE fl.returnee ALTER COLUMN returnee_id SET DEFAULT fl.new_id('re');
ALTER TABLE fl.grant_application ALTER COLUMN grant_id SET DEFAULT fl.new_id('gr');
ALTER TABLE fl.disbursement ALTER COLUMN disbursement_id SET DEFAULT fl.new_id('di');

-- Names ------------------------------------------------------------------------------------

-- A name as people search for it (partner.find, regions): Unicode NFKD in lower case
-- in every script (the ICU root collation), without combining marks, spaces collapsed,
-- trimmed (migrations/0033_finding.sql computed it the same way for the rows it found).
CREATE OR REPLACE FUNCTION fl.name_key(p_name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT btrim(regexp_replace(regexp_replace(
	    lower(normalize(p_name, NFKD) COLLATE "und-x-icu"), E'[\u0300-\u036f]', '', 'g'),
	    E'\\s+', ' ', 'g'))
$$;

-- Keeps a partner's name_key with its name (the column TG_ARGV[0]), whoever writes it.
-- (A returnee's name is found through its keyed index: functions/55_privacy.sql.)
CREATE OR REPLACE FUNCTION fl.name_key_set() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.name_key := fl.name_key(to_jsonb(NEW)->>TG_ARGV[0]);
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER partner_name_key BEFORE INSERT OR UPDATE OF name
	ON fl.partner FOR EACH ROW EXECUTE FUNCTION fl.name_key_set('name');

-- A LIKE pattern that matches what starts with p_text, its own % and _ taken literally.
CREATE OR REPLACE FUNCTION fl.like_prefix(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT replace(replace(replace(p_text, '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

