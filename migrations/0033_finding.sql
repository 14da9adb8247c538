-- 0033_finding: indexes for finding grants (grant.list by beneficiary and by dates of
-- application and decision, docs/protocol.md) and returnees and partners by name
-- (returnee.find, partner.find).

CREATE INDEX grant_returnee ON fl.grant_application (returnee_id, seq);
CREATE INDEX grant_created ON fl.grant_application (created_at);
CREATE INDEX grant_decided ON fl.grant_application (decided_at) WHERE decided_at IS NOT NULL;

-- A returnee's and a partner's name as people search for it (fl.name_key(),
-- functions/10_common.sql, which a trigger applies to every row written from now on;
-- the rows here get it the same way): Unicode NFKD in lower case in every script (the ICU
-- root collation), without combining marks (diacritics: "Hakobyan" finds "Hakobyán",
-- "Семен" finds "Семён"), spaces collapsed, trimmed.
ALTER TABLE fl.returnee ADD COLUMN name_key text;
UPDATE fl.returnee SET name_key = btrim(regexp_replace(regexp_replace(
    lower(normalize(full_name, NFKD) COLLATE "und-x-icu"), E'[\u0300-\u036f]', '', 'g'),
    E'\\s+', ' ', 'g'));
CREATE INDEX returnee_name_key ON fl.returnee (name_key text_pattern_ops, seq);
ALTER TABLE fl.partner ADD COLUMN name_key text;
UPDATE fl.partner SET name_key = btrim(regexp_replace(regexp_replace(
    lower(normalize(name, NFKD) COLLATE "und-x-icu"), E'[\u0300-\u036f]', '', 'g'),
    E'\\s+', ' ', 'g'));
CREATE INDEX partner_name_key ON fl.partner (name_key text_pattern_ops, seq);

-- Region names in Armenian and Russian as well as English: any of them names a region
-- wherever a region is taken (fl.region_resolve()).
ALTER TABLE fl.region ADD COLUMN region_hy text CHECK (length(region_hy) BETWEEN 1 AND 100),
    ADD COLUMN region_ru text CHECK (length(region_ru) BETWEEN 1 AND 100);
UPDATE fl.region r SET region_hy = v.hy, region_ru = v.ru
  FROM (VALUES ('AM-AG', 'Արագածոտն', 'Арагацотн'), ('AM-AR', 'Արարատ', 'Арарат'),
	('AM-AV', 'Արմավիր', 'Армавир'), ('AM-GR', 'Գեղարքունիք', 'Гегаркуник'),
	('AM-KT', 'Կոտայք', 'Котайк'), ('AM-LO', 'Լոռի', 'Лори'),
	('AM-SH', 'Շիրակ', 'Ширак'), ('AM-SU', 'Սյունիք', 'Сюник'),
	('AM-TV', 'Տավուշ', 'Тавуш'), ('AM-VD', 'Վայոց ձոր', 'Вайоц Дзор'),
	('AM-ER', 'Երևան', 'Ереван')) v(code, hy, ru)
 WHERE r.region_code = v.code;

-- Tokens may expire (principal.create, principal.rotate_token: expires_at); an expired
-- token is refused like a revoked one. When each principal was last seen making a call,
-- kept apart from fl.principal (whose every write flushes the daemons' credentials
-- caches) and written at most once a minute per principal (fl.principal_seen()).
ALTER TABLE fl.principal ADD COLUMN token_expires_at timestamptz;
CREATE TABLE fl.principal_seen (
	principal_id	text PRIMARY KEY REFERENCES fl.principal,
	last_used_at	timestamptz NOT NULL
);
-- principals in the order they were created, for principal.list's pages
ALTER TABLE fl.principal ADD COLUMN seq bigserial UNIQUE;
