/*
 * person_seal.c: what fundd does to returnees' sealed data outside of calls, over blocking
 * libpq, as migrate does (docs/privacy.md):
 *
 * - the migration step seal_returnees (migrations/0037_privacy_sealed.sql): in the
 *   migration's transaction, before 0037 drops the plaintext columns, each returnee gets a
 *   data key of its own, wrapped under [privacy] key_file, and its personal data sealed and
 *   indexed as person_params() seals new data; the personal data of returnees' corrections
 *   and of the answers kept for idempotency keys is sealed under the same keys;
 * - `fundd -c FILE privacy rotate-key NEWKEY`: in batches, each its own transaction, every
 *   data key not yet wrapped under NEWKEY is unwrapped with the key that wrapped it and
 *   wrapped anew; then every returnee whose keyed index was not computed under NEWKEY gets
 *   it computed again, from its name and national id opened. What is done stays done, so a
 *   run killed at any point is resumed by running it again; rows locked by the daemons'
 *   calls are skipped and taken in a later batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "log.h"
#include "person.h"
#include "person_seal.h"
#include "util.h"

/* The personal columns of the plaintext returnee, as params and answers name them. */
static const char *const plain_fields[] = { "full_name", "national_id", "birth_year",
    "gender" };

struct sealer {
	PGconn			*c;
	const struct priv_kek	*k;	/* what seals, or what a rotation wraps under */
	char			*err;	/* the last failure */
};

static char *
bytea_hex(const unsigned char *b, size_t len)
{
	char	*s = xmalloc(2 * len + 3);

	s[0] = '\\';
	s[1] = 'x';
	hex_encode(b, len, s + 2);
	return s;
}

static int
exec_params(struct sealer *s, const char *sql, int n, const char *const *vals,
    PGresult **out)
{
	PGresult	*r = PQexecParams(s->c, sql, n, NULL, vals, NULL, NULL, 0);
	ExecStatusType	 st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		free(s->err);
		s->err = xstrdup(PQresultErrorMessage(r));
		s->err[strcspn(s->err, "\n")] = '\0';
		PQclear(r);
		return -1;
	}
	if (out != NULL)
		*out = r;
	else
		PQclear(r);
	return 0;
}

/* A value sealed for field under (key_id, dek), as bytea text; JSON null stays NULL. */
static char *
seal_json(const unsigned char *key_id, const unsigned char *dek, const char *field,
    const cJSON *v)
{
	unsigned char	*buf;
	char		*text, *out;
	size_t		 len;

	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if ((text = cJSON_PrintUnformatted(v)) == NULL)
		fatalx("out of memory");
	len = strlen(text);
	buf = xmalloc(PRIV_SEALED_LEN(len));
	if (priv_seal(key_id, dek, field, text, len, NULL, NULL, 0, buf) != 0)
		fatalx("personal data: sealing failed");
	out = bytea_hex(buf, PRIV_SEALED_LEN(len));
	OPENSSL_cleanse(text, len);
	free(text);
	free(buf);
	return out;
}

static char *
index_hex(const struct priv_kek *k, const char *kind, const char *key)
{
	unsigned char	mac[PRIV_INDEX_LEN];

	priv_index(k, kind, key, mac);
	return bytea_hex(mac, sizeof(mac));
}

/* Every returnee: a data key, its personal data sealed, its index values. */
static int
seal_returnees(struct sealer *s, long *n)
{
	static const char *sql = "WITH k AS (INSERT INTO fl.person_key (key_id, returnee_id, "
	    "kek_id, wrapped) VALUES ($1, $2, $3, $4)) "
	    "UPDATE fl.returnee SET full_name_sealed = $5, national_id_sealed = $6, "
	    "birth_year_sealed = $7, gender_sealed = $8, national_index = $9, "
	    "name_index = $10, index_kek = $3 WHERE returnee_id = $2";
	PGresult	*r;
	unsigned char	 key_id[PRIV_KEY_ID_LEN], dek[PRIV_KEY_LEN], wrapped[PRIV_WRAPPED_LEN];
	int		 i, j, rc = 0;

	if (exec_params(s, "SELECT returnee_id, to_jsonb(r) FROM fl.returnee r "
	    "WHERE full_name_sealed IS NULL ORDER BY seq", 0, NULL, &r) != 0)
		return -1;
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		cJSON		*row = cJSON_Parse(PQgetvalue(r, i, 1));
		const cJSON	*nid, *name;
		char		*vals[10] = { NULL }, *nk = NULL, *mk = NULL;

		if (row == NULL)
			fatalx("out of memory");
		nid = cJSON_GetObjectItemCaseSensitive(row, "national_id");
		name = cJSON_GetObjectItemCaseSensitive(row, "full_name");
		if (priv_dek_new(s->k, NULL, 0, key_id, dek) != 0 ||
		    priv_wrap(s->k, key_id, dek, NULL, 0, wrapped) != 0)
			fatalx("personal data: no random bytes");
		vals[0] = bytea_hex(key_id, sizeof(key_id));
		vals[1] = xstrdup(PQgetvalue(r, i, 0));
		vals[2] = xstrdup(s->k->id);
		vals[3] = bytea_hex(wrapped, sizeof(wrapped));
		for (j = 0; j < (int)nitems(plain_fields); j++)
			vals[4 + j] = seal_json(key_id, dek, plain_fields[j],
			    cJSON_GetObjectItemCaseSensitive(row, plain_fields[j]));
		if (cJSON_IsString(nid) && (nk = priv_national_key(nid->valuestring)) != NULL &&
		    *nk != '\0')
			vals[8] = index_hex(s->k, "national_id", nk);
		if (!cJSON_IsString(name) || (mk = priv_name_key(name->valuestring)) == NULL ||
		    *mk == '\0') {
			free(s->err);
			s->err = xasprintf("returnee %s has no full name to index",
			    PQgetvalue(r, i, 0));
			rc = -1;
		} else {
			vals[9] = index_hex(s->k, "name", mk);
			rc = exec_params(s, sql, 10, (const char *const *)vals, NULL);
		}
		if (vals[8] == NULL && cJSON_IsString(nid) && rc == 0) {
			free(s->err);
			s->err = xasprintf("returnee %s has a national id that is nothing once "
			    "normalised", PQgetvalue(r, i, 0));
			rc = -1;
		}
		for (j = 0; j < 10; j++)
			free(vals[j]);
		free(nk);
		free(mk);
		cJSON_Delete(row);
		(*n)++;
	}
	OPENSSL_cleanse(dek, sizeof(dek));
	PQclear(r);
	return rc;
}

/* The data key of a person_key row (kek id and wrapped bytea text): 0 or -1. */
static int
unwrap_row(struct sealer *r, const char *kid_text, const char *kek, const char *w_text,
    unsigned char key_id[PRIV_KEY_ID_LEN], unsigned char dek[PRIV_KEY_LEN])
{
	const struct priv_kek	*k = person_kek_find(kek);
	unsigned char		*kid, *w;
	size_t			 klen, wlen;
	int			 rc = -1;

	if (k == NULL) {
		free(r->err);
		r->err = xasprintf("a data key is wrapped under key-encryption key %s, which "
		    "neither [privacy] key_file nor old_key_files holds", kek);
		return -1;
	}
	kid = PQunescapeBytea((const unsigned char *)kid_text, &klen);
	w = PQunescapeBytea((const unsigned char *)w_text, &wlen);
	if (kid != NULL && w != NULL && klen == PRIV_KEY_ID_LEN &&
	    priv_unwrap(k, kid, w, wlen, dek) == 0) {
		memcpy(key_id, kid, PRIV_KEY_ID_LEN);
		rc = 0;
	} else {
		free(r->err);
		r->err = xasprintf("a data key does not unwrap under key-encryption key %s",
		    kek);
	}
	PQfreemem(kid);
	PQfreemem(w);
	return rc;
}

/* The data key of a returnee sealed above (its only one): 0 or -1. */
static int
returnee_key(struct sealer *s, const char *id, unsigned char *key_id, unsigned char *dek)
{
	const char	*vals[1] = { id };
	PGresult	*r;
	int		 rc = -1;

	if (exec_params(s, "SELECT key_id, kek_id, wrapped FROM fl.person_key "
	    "WHERE returnee_id = $1", 1, vals, &r) != 0)
		return -1;
	if (PQntuples(r) == 1)
		rc = unwrap_row(s, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
		    PQgetvalue(r, 0, 2), key_id, dek);
	else {
		free(s->err);
		s->err = xasprintf("no data key for returnee %s", id);
	}
	PQclear(r);
	return rc;
}

/* o (a correction's old or new values): each personal field <f> as <f>_sealed. */
static void
seal_values(cJSON *o, const unsigned char *key_id, const unsigned char *dek)
{
	size_t	 j;
	char	*b, *name;
	cJSON	*v;

	for (j = 0; j < nitems(plain_fields); j++) {
		if ((v = cJSON_DetachItemFromObjectCaseSensitive(o, plain_fields[j])) == NULL)
			continue;
		b = seal_json(key_id, dek, plain_fields[j], v);
		name = xasprintf("%s_sealed", plain_fields[j]);
		if (b != NULL)
			cJSON_AddStringToObject(o, name, b);
		else
			cJSON_AddNullToObject(o, name);
		free(name);
		free(b);
		cJSON_Delete(v);
	}
}

/* Corrections of returnees: their personal values sealed, under the returnee's key. */
static int
seal_corrections(struct sealer *s, long *n)
{
	PGresult	*r;
	unsigned char	 key_id[PRIV_KEY_ID_LEN], dek[PRIV_KEY_LEN];
	int		 i, rc = 0;

	if (exec_params(s, "SELECT seq, object_id, old, new, to_jsonb(fields) "
	    "FROM fl.correction WHERE object_kind = 'returnee' ORDER BY seq", 0, NULL, &r) != 0)
		return -1;
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		cJSON	*old = cJSON_Parse(PQgetvalue(r, i, 2));
		cJSON	*new = cJSON_Parse(PQgetvalue(r, i, 3));
		cJSON	*fields = cJSON_Parse(PQgetvalue(r, i, 4)), *f;
		char	*vals[4] = { NULL };
		size_t	 j;

		if (old == NULL || new == NULL || fields == NULL)
			fatalx("out of memory");
		if ((rc = returnee_key(s, PQgetvalue(r, i, 1), key_id, dek)) == 0) {
			seal_values(old, key_id, dek);
			seal_values(new, key_id, dek);
			cJSON_ArrayForEach(f, fields) {
				for (j = 0; j < nitems(plain_fields); j++) {
					if (cJSON_IsString(f) &&
					    strcmp(f->valuestring, plain_fields[j]) == 0) {
						char *sn = xasprintf("%s_sealed", plain_fields[j]);

						cJSON_SetValuestring(f, sn);
						free(sn);
					}
				}
			}
			vals[0] = xstrdup(PQgetvalue(r, i, 0));
			vals[1] = cJSON_PrintUnformatted(fields);
			vals[2] = cJSON_PrintUnformatted(old);
			vals[3] = cJSON_PrintUnformatted(new);
			rc = exec_params(s, "UPDATE fl.correction SET fields = ARRAY(SELECT "
			    "jsonb_array_elements_text($2::jsonb)), old = $3, new = $4 "
			    "WHERE seq = $1", 4, (const char *const *)vals, NULL);
			for (j = 0; j < 4; j++)
				free(vals[j]);
			(*n)++;
		}
		cJSON_Delete(old);
		cJSON_Delete(new);
		cJSON_Delete(fields);
	}
	OPENSSL_cleanse(dek, sizeof(dek));
	PQclear(r);
	return rc;
}

/* An answer kept for an idempotency key: a returnee's personal values, or a grant's
 * beneficiary_name, as the sealed values the methods answer with now. */
static int
seal_answers(struct sealer *s, long *n)
{
	PGresult	*r;
	unsigned char	 key_id[PRIV_KEY_ID_LEN], dek[PRIV_KEY_LEN];
	int		 i, rc = 0;

	if (exec_params(s, "SELECT principal_id, key, result FROM fl.idempotency "
	    "WHERE result ?| ARRAY['full_name', 'beneficiary_name'] "
	    "AND result ? 'returnee_id'", 0, NULL, &r) != 0)
		return -1;
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		cJSON		*res = cJSON_Parse(PQgetvalue(r, i, 2)), *v, *o;
		const cJSON	*rid;
		char		*vals[3] = { NULL }, *b;
		size_t		 j;

		if (res == NULL)
			fatalx("out of memory");
		rid = cJSON_GetObjectItemCaseSensitive(res, "returnee_id");
		if (!cJSON_IsString(rid) || (rc = returnee_key(s, rid->valuestring, key_id,
		    dek)) != 0) {
			cJSON_Delete(res);
			break;
		}
		for (j = 0; j <= nitems(plain_fields); j++) {
			const char *name = j < nitems(plain_fields) ? plain_fields[j] :
			    "beneficiary_name";
			const char *field = j < nitems(plain_fields) ? plain_fields[j] :
			    "full_name";

			if ((v = cJSON_GetObjectItemCaseSensitive(res, name)) == NULL ||
			    cJSON_IsNull(v))
				continue;
			b = seal_json(key_id, dek, field, v);
			if ((o = cJSON_CreateObject()) == NULL)
				fatalx("out of memory");
			cJSON_AddStringToObject(o, "$sealed", field);
			cJSON_AddStringToObject(o, "v", b + 2);
			cJSON_ReplaceItemInObjectCaseSensitive(res, name, o);
			free(b);
		}
		vals[0] = xstrdup(PQgetvalue(r, i, 0));
		vals[1] = xstrdup(PQgetvalue(r, i, 1));
		vals[2] = cJSON_PrintUnformatted(res);
		rc = exec_params(s, "UPDATE fl.idempotency SET result = $3 "
		    "WHERE principal_id = $1 AND key = $2", 3, (const char *const *)vals, NULL);
		for (j = 0; j < 3; j++)
			free(vals[j]);
		cJSON_Delete(res);
		(*n)++;
	}
	OPENSSL_cleanse(dek, sizeof(dek));
	PQclear(r);
	return rc;
}

int
person_seal_step(PGconn *c, const char *name, void *arg, char **cause)
{
	struct sealer	 s = { c, person_kek(), NULL };
	long		 nr = 0, nc = 0, na = 0;
	int		 rc;

	(void)arg;
	if (strcmp(name, "seal_returnees") != 0) {
		*cause = xasprintf("no such step");
		return -1;
	}
	if (s.k == NULL) {
		*cause = xstrdup("[privacy] key_file is required to seal returnees' personal "
		    "data: create one with 'fundd privacy new-key FILE' (docs/privacy.md)");
		return -1;
	}
	/* corrections are append-only: only this step, as the schema's owner, rewrites */
	rc = exec_params(&s, "ALTER TABLE fl.correction DISABLE TRIGGER USER",
	    0, NULL, NULL);
	if (rc == 0)
		rc = seal_returnees(&s, &nr);
	if (rc == 0)
		rc = seal_corrections(&s, &nc);
	if (rc == 0)
		rc = seal_answers(&s, &na);
	if (rc == 0)
		rc = exec_params(&s, "ALTER TABLE fl.correction ENABLE TRIGGER "
		    "USER", 0, NULL, NULL);
	if (rc != 0) {
		*cause = s.err;
		return -1;
	}
	printf("sealed the personal data of %ld returnees, %ld corrections and %ld kept "
	    "answers under key-encryption key %s\n", nr, nc, na, s.k->id);
	free(s.err);
	return 0;
}

/* Key rotation ------------------------------------------------------------------------- */

/* One batch of data keys wrapped anew under r->k; how many, or -1. */
static long
keys_batch(struct sealer *r, int batch)
{
	char		 lim[16];
	const char	*vals[3] = { r->k->id, lim, NULL };
	unsigned char	 key_id[PRIV_KEY_ID_LEN], dek[PRIV_KEY_LEN], w[PRIV_WRAPPED_LEN];
	PGresult	*res;
	long		 n = 0;
	int		 i;

	snprintf(lim, sizeof(lim), "%d", batch);
	if (exec_params(r, "BEGIN", 0, NULL, NULL) != 0)
		return -1;
	if (exec_params(r, "SELECT key_id, kek_id, wrapped FROM fl.person_key WHERE kek_id <> $1 "
	    "ORDER BY key_id LIMIT $2 FOR UPDATE SKIP LOCKED", 2, vals, &res) != 0)
		goto fail;
	for (i = 0; i < PQntuples(res); i++) {
		char	*wt, *kt;
		int	 rc;

		if (unwrap_row(r, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2), key_id, dek) != 0 ||
		    priv_wrap(r->k, key_id, dek, NULL, 0, w) != 0) {
			PQclear(res);
			goto fail;
		}
		kt = bytea_hex(key_id, sizeof(key_id));
		wt = bytea_hex(w, sizeof(w));
		vals[0] = kt;
		vals[1] = r->k->id;
		vals[2] = wt;
		rc = exec_params(r, "UPDATE fl.person_key SET kek_id = $2, wrapped = $3 "
		    "WHERE key_id = $1", 3, vals, NULL);
		free(kt);
		free(wt);
		if (rc != 0) {
			PQclear(res);
			goto fail;
		}
		n++;
	}
	PQclear(res);
	OPENSSL_cleanse(dek, sizeof(dek));
	if (exec_params(r, "COMMIT", 0, NULL, NULL) != 0)
		return -1;
	return n;
fail:
	OPENSSL_cleanse(dek, sizeof(dek));
	(void)exec_params(r, "ROLLBACK", 0, NULL, NULL);
	return -1;
}

/* A sealed value of field (bytea text; "" is none) opened with the key of its row, and
 * normalised by norm; NULL for none; -1 in *bad when it does not open. */
static char *
open_key(struct sealer *r, const char *sealed_text, const char *field, const char *kid,
    const char *kek, const char *w, char *(*norm)(const char *), int *bad)
{
	unsigned char	 key_id[PRIV_KEY_ID_LEN], dek[PRIV_KEY_LEN], *v, *plain;
	size_t		 len, plen;
	cJSON		*j;
	char		*out = NULL;

	if (*sealed_text == '\0')
		return NULL;
	if (unwrap_row(r, kid, kek, w, key_id, dek) != 0) {
		*bad = 1;
		return NULL;
	}
	v = PQunescapeBytea((const unsigned char *)sealed_text, &len);
	plain = xmalloc(len + 1);
	if (v == NULL || priv_open(dek, field, v, len, plain, &plen) != 0) {
		free(r->err);
		r->err = xasprintf("a sealed %s does not open", field);
		*bad = 1;
	} else {
		plain[plen] = '\0';
		if ((j = cJSON_ParseWithLength((char *)plain, plen)) != NULL &&
		    cJSON_IsString(j))
			out = norm(j->valuestring);
		cJSON_Delete(j);
		OPENSSL_cleanse(plain, plen);
		if (out == NULL) {
			free(r->err);
			r->err = xasprintf("a sealed %s opens to no text", field);
			*bad = 1;
		}
	}
	OPENSSL_cleanse(dek, sizeof(dek));
	PQfreemem(v);
	free(plain);
	return out;
}

/* One batch of returnees indexed anew under r->k; how many, or -1. */
static long
index_batch(struct sealer *r, int batch)
{
	char		 lim[16];
	const char	*vals[4] = { r->k->id, lim, NULL, NULL };
	PGresult	*res;
	long		 n = 0;
	int		 i, bad = 0;

	snprintf(lim, sizeof(lim), "%d", batch);
	if (exec_params(r, "BEGIN", 0, NULL, NULL) != 0)
		return -1;
	if (exec_params(r, "SELECT x.returnee_id, x.full_name_sealed, a.key_id, a.kek_id, a.wrapped, "
	    "coalesce(x.national_id_sealed::text, ''), b.key_id, b.kek_id, b.wrapped "
	    "FROM fl.returnee x "
	    "JOIN fl.person_key a ON a.key_id = substring(x.full_name_sealed FROM 2 FOR 16) "
	    "LEFT JOIN fl.person_key b ON b.key_id = substring(x.national_id_sealed FROM 2 "
	    "FOR 16) "
	    "WHERE x.erased_at IS NULL AND x.index_kek IS DISTINCT FROM $1 "
	    "ORDER BY x.seq LIMIT $2 FOR UPDATE OF x SKIP LOCKED", 2, vals, &res) != 0)
		goto fail;
	for (i = 0; i < PQntuples(res) && !bad; i++) {
		char	*name, *nat, *hn, *hi = NULL;
		int	 rc;

		name = open_key(r, PQgetvalue(res, i, 1), "full_name", PQgetvalue(res, i, 2),
		    PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), priv_name_key, &bad);
		nat = open_key(r, PQgetvalue(res, i, 5), "national_id", PQgetvalue(res, i, 6),
		    PQgetvalue(res, i, 7), PQgetvalue(res, i, 8), priv_national_key, &bad);
		if (bad || name == NULL) {
			free(name);
			free(nat);
			if (!bad) {
				free(r->err);
				r->err = xasprintf("returnee %s has no sealed name",
				    PQgetvalue(res, i, 0));
			}
			PQclear(res);
			goto fail;
		}
		hn = index_hex(r->k, "name", name);
		if (nat != NULL)
			hi = index_hex(r->k, "national_id", nat);
		vals[0] = r->k->id;
		vals[1] = PQgetvalue(res, i, 0);
		vals[2] = hn;
		vals[3] = hi;
		rc = exec_params(r, "UPDATE fl.returnee SET index_kek = $1, name_index = $3, "
		    "national_index = $4 WHERE returnee_id = $2", 4, vals, NULL);
		OPENSSL_cleanse(name, strlen(name));
		free(name);
		if (nat != NULL)
			OPENSSL_cleanse(nat, strlen(nat));
		free(nat);
		free(hn);
		free(hi);
		if (rc != 0) {
			PQclear(res);
			goto fail;
		}
		n++;
	}
	PQclear(res);
	if (exec_params(r, "COMMIT", 0, NULL, NULL) != 0)
		return -1;
	return n;
fail:
	(void)exec_params(r, "ROLLBACK", 0, NULL, NULL);
	return -1;
}

/* How many data keys and returnees are not yet under r->k, locked or not; -1. */
static long
remaining(struct sealer *r)
{
	const char	*vals[1] = { r->k->id };
	PGresult	*res;
	long		 n;

	if (exec_params(r, "SELECT (SELECT count(*) FROM fl.person_key WHERE kek_id <> $1) + "
	    "(SELECT count(*) FROM fl.returnee WHERE erased_at IS NULL "
	    "AND index_kek IS DISTINCT FROM $1)", 1, vals, &res) != 0)
		return -1;
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

int
person_rotate(PGconn *c, const struct priv_kek *to, int batch, char **cause)
{
	struct sealer	 r = { c, to, NULL };
	struct timespec	 pause = { 0, 100 * 1000 * 1000 };
	long		 k, p, left, keys = 0, people = 0;

	for (;;) {
		while ((k = keys_batch(&r, batch)) > 0) {
			keys += k;
			printf("wrapped %ld data keys under %s\n", keys, to->id);
			fflush(stdout);
		}
		p = 0;
		while (k == 0 && (p = index_batch(&r, batch)) > 0) {
			people += p;
			printf("indexed %ld returnees under %s\n", people, to->id);
			fflush(stdout);
		}
		/* rows a call held locked were skipped; a daemon not yet given the new key
		 * may have written some under an older one: until none is left */
		if (k < 0 || p < 0 || (left = remaining(&r)) < 0) {
			*cause = r.err != NULL ? r.err : xstrdup("the rotation failed");
			return -1;
		}
		if (left == 0)
			break;
		nanosleep(&pause, NULL);
	}
	printf("rotation to key-encryption key %s done: %ld data keys wrapped anew, %ld "
	    "returnees indexed anew; every data key and index is under it now\n", to->id,
	    keys, people);
	free(r.err);
	return 0;
}
