/* person.c: returnees' personal data between the API and the database (person.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "log.h"
#include "person.h"
#include "util.h"

/* The personal values of a returnee, as params and answers name them (docs/privacy.md). */
static const char *const personal[] = {
	"full_name", "national_id", "birth_year", "gender", "contact", "notes",
};

static struct priv_kek	keks[PERSON_MAX_KEKS];	/* [0] wraps new data keys */
static int		nkeks;
static int		retention_years = 5;

void
person_retention_set(int years)
{
	retention_years = years;
}

int
person_retention_years(void)
{
	return retention_years;
}

int
person_keys_load(const char *path, const char *old, char **cause)
{
	char	*copy, *tok, *save = NULL;
	int	 i;

	person_keys_free();
	if (path == NULL || *path == '\0') {
		*cause = xstrdup("[privacy] key_file is required: create one with "
		    "'fundd privacy new-key FILE' (docs/privacy.md)");
		return -1;
	}
	if (priv_kek_load(path, &keks[0], cause) != 0)
		return -1;
	nkeks = 1;
	copy = xstrdup(old != NULL ? old : "");
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t,", &save)) {
		if (nkeks == PERSON_MAX_KEKS) {
			*cause = xasprintf("[privacy] old_key_files: more than %d keys",
			    PERSON_MAX_KEKS - 1);
			goto fail;
		}
		if (priv_kek_load(tok, &keks[nkeks], cause) != 0)
			goto fail;
		/* the same key named twice is loaded once */
		for (i = 0; i < nkeks; i++)
			if (strcmp(keks[i].id, keks[nkeks].id) == 0)
				break;
		if (i < nkeks)
			priv_kek_clear(&keks[nkeks]);
		else
			nkeks++;
	}
	free(copy);
	return 0;
fail:
	free(copy);
	person_keys_free();
	return -1;
}

void
person_keys_free(void)
{
	int	i;

	for (i = 0; i < nkeks; i++)
		priv_kek_clear(&keks[i]);
	nkeks = 0;
}

const struct priv_kek *
person_kek(void)
{
	return nkeks > 0 ? &keks[0] : NULL;
}

const struct priv_kek *
person_kek_find(const char *id)
{
	int	i;

	for (i = 0; i < nkeks; i++)
		if (strcmp(keks[i].id, id) == 0)
			return &keks[i];
	return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

unsigned char *
person_seed(const char *method, const char *token_sha256, const char *cert_sha256,
    const char *idem, const cJSON *params, size_t *len)
{
	const cJSON	*it;
	const char	**names;
	char		*s, *v;
	size_t		 n = 0, i;

	cJSON_ArrayForEach(it, params)
		n++;
	names = xcalloc(n + 1, sizeof(*names));
	n = 0;
	cJSON_ArrayForEach(it, params)
		if (it->string != NULL)
			names[n++] = it->string;
	qsort(names, n, sizeof(*names), cmp_str);
	/* NUL-separated: none of the parts holds a NUL (JSON text escapes it) */
	s = xasprintf("%s%c%s%c%s%c%s", method, 0, token_sha256 != NULL ? token_sha256 : "",
	    0, cert_sha256 != NULL ? cert_sha256 : "", 0, idem != NULL ? idem : "");
	*len = strlen(method) + 3 + (token_sha256 != NULL ? strlen(token_sha256) : 0) +
	    (cert_sha256 != NULL ? strlen(cert_sha256) : 0) + (idem != NULL ? strlen(idem) : 0);
	for (i = 0; i < n; i++) {
		it = cJSON_GetObjectItemCaseSensitive(params, names[i]);
		if ((v = cJSON_PrintUnformatted(it)) == NULL)
			fatalx("out of memory");
		s = xrealloc(s, *len + strlen(names[i]) + strlen(v) + 3);
		s[(*len)++] = '\0';
		memcpy(s + *len, names[i], strlen(names[i]));
		*len += strlen(names[i]);
		s[(*len)++] = '\0';
		memcpy(s + *len, v, strlen(v));
		*len += strlen(v);
		free(v);
	}
	free(names);
	return (unsigned char *)s;
}

static cJSON *
hex_item(const unsigned char *b, size_t len)
{
	char	*h = xmalloc(2 * len + 1);
	cJSON	*s;

	hex_encode(b, len, h);
	s = cJSON_CreateString(h);
	free(h);
	if (s == NULL)
		fatalx("out of memory");
	return s;
}

/* The index values of key under every loaded KEK, the one of keks[0] first. */
static cJSON *
index_array(const char *kind, const char *key)
{
	unsigned char	 mac[PRIV_INDEX_LEN];
	cJSON		*a = cJSON_CreateArray();
	int		 i;

	if (a == NULL)
		fatalx("out of memory");
	for (i = 0; i < nkeks; i++) {
		priv_index(&keks[i], kind, key, mac);
		cJSON_AddItemToArray(a, hex_item(mac, sizeof(mac)));
	}
	return a;
}

int
person_utc_year(void)
{
	time_t		t = time(NULL);
	struct tm	tm;

	gmtime_r(&t, &tm);
	return tm.tm_year + 1900;
}

/* The normalised form of params' string member name (norm: priv_national_key,
 * priv_name_key) into *out, NULL without one; -1 when nothing is left of it (blank). */
static int
normalised(const cJSON *params, const char *name, char *(*norm)(const char *), char **out)
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(params, name);

	*out = NULL;
	if (!cJSON_IsString(it))
		return 0;
	if ((*out = norm(it->valuestring)) == NULL || **out == '\0') {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* returnee.find: "$find" with the index values of national_id and name. */
static int
find_params(cJSON *params, const char **field, const char **reason)
{
	char	*nk = NULL, *mk = NULL;
	cJSON	*f;

	*reason = "blank";
	if (normalised(params, "national_id", priv_national_key, &nk) != 0) {
		*field = "national_id";
		return -1;
	}
	if (normalised(params, "name", priv_name_key, &mk) != 0) {
		free(nk);
		*field = "name";
		return -1;
	}
	if ((f = cJSON_AddObjectToObject(params, "$find")) == NULL)
		fatalx("out of memory");
	if (nk != NULL)
		cJSON_AddItemToObject(f, "national_index", index_array("national_id", nk));
	if (mk != NULL)
		cJSON_AddItemToObject(f, "name_index", index_array("name", mk));
	cJSON_DeleteItemFromObjectCaseSensitive(params, "national_id");
	cJSON_DeleteItemFromObjectCaseSensitive(params, "name");
	free(nk);
	free(mk);
	return 0;
}

int
person_params(const char *method, cJSON *params, const void *seed, size_t seedlen,
    const char **field, const char **reason)
{
	const struct priv_kek	*k = person_kek();
	unsigned char		 key_id[PRIV_KEY_ID_LEN], dek[PRIV_KEY_LEN];
	unsigned char		 wrapped[PRIV_WRAPPED_LEN], *buf;
	cJSON			*it, *person, *sealed, *year;
	char			*nk = NULL, *mk = NULL, *text;
	size_t			 i, len;
	int			 any = 0;

	if (strcmp(method, "returnee.find") == 0)
		return find_params(params, field, reason);
	for (i = 0; i < nitems(personal); i++)
		if (cJSON_GetObjectItemCaseSensitive(params, personal[i]) != NULL)
			any = 1;
	if (!any)
		return 0;
	/* what the database can no longer check, checked before anything changes */
	year = cJSON_GetObjectItemCaseSensitive(params, "birth_year");
	if (cJSON_IsNumber(year) && year->valuedouble > person_utc_year()) {
		*field = "birth_year";
		*reason = "in_the_future";
		return -1;
	}
	*reason = "blank";
	if (normalised(params, "national_id", priv_national_key, &nk) != 0) {
		*field = "national_id";
		return -1;
	}
	if (normalised(params, "full_name", priv_name_key, &mk) != 0) {
		free(nk);
		*field = "full_name";
		return -1;
	}
	if (k == NULL || priv_dek_new(k, seed, seedlen, key_id, dek) != 0 ||
	    priv_wrap(k, key_id, dek, seed, seedlen, wrapped) != 0)
		fatalx("personal data: no key-encryption key, or no random bytes");
	if ((person = cJSON_AddObjectToObject(params, "$person")) == NULL ||
	    (sealed = cJSON_CreateObject()) == NULL)
		fatalx("out of memory");
	cJSON_AddItemToObject(person, "key_id", hex_item(key_id, sizeof(key_id)));
	cJSON_AddStringToObject(person, "kek", k->id);
	cJSON_AddItemToObject(person, "wrapped", hex_item(wrapped, sizeof(wrapped)));
	cJSON_AddItemToObject(person, "sealed", sealed);
	for (i = 0; i < nitems(personal); i++) {
		if ((it = cJSON_GetObjectItemCaseSensitive(params, personal[i])) == NULL)
			continue;
		/* a value is sealed as its JSON text: "Anna", 1984 */
		if ((text = cJSON_PrintUnformatted(it)) == NULL)
			fatalx("out of memory");
		len = strlen(text);
		buf = xmalloc(PRIV_SEALED_LEN(len));
		if (priv_seal(key_id, dek, personal[i], text, len, k, seed, seedlen, buf) != 0)
			fatalx("personal data: sealing failed");
		cJSON_AddItemToObject(sealed, personal[i], hex_item(buf, PRIV_SEALED_LEN(len)));
		OPENSSL_cleanse(text, len);
		free(text);
		free(buf);
		cJSON_DeleteItemFromObjectCaseSensitive(params, personal[i]);
	}
	OPENSSL_cleanse(dek, sizeof(dek));
	if (nk != NULL || mk != NULL)
		cJSON_AddStringToObject(person, "index_kek", k->id);
	if (nk != NULL)
		cJSON_AddItemToObject(person, "national_index", index_array("national_id", nk));
	if (mk != NULL)
		cJSON_AddItemToObject(person, "name_index", index_array("name", mk));
	free(nk);
	free(mk);
	return 0;
}

/* The data keys of one answer, unwrapped once each. */
struct dek_cache {
	unsigned char	id[16][PRIV_KEY_ID_LEN];
	unsigned char	dek[16][PRIV_KEY_LEN];
	int		n;
};

static int
unhex(const char *h, unsigned char *out, size_t max, size_t *len)
{
	size_t	n = strlen(h), i;
	int	hi, lo;

	if (n % 2 != 0 || n / 2 > max)
		return -1;
	for (i = 0; i < n / 2; i++) {
		hi = h[2 * i] >= 'a' ? h[2 * i] - 'a' + 10 : h[2 * i] - '0';
		lo = h[2 * i + 1] >= 'a' ? h[2 * i + 1] - 'a' + 10 : h[2 * i + 1] - '0';
		if (hi < 0 || hi > 15 || lo < 0 || lo > 15)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

/* The data key of key_id: 0, 1 when keys has none, -1 when it does not unwrap. */
static int
dek_get(struct dek_cache *dc, const cJSON *keys, const unsigned char *key_id,
    unsigned char dek[PRIV_KEY_LEN], char **cause)
{
	char			 idhex[2 * PRIV_KEY_ID_LEN + 1], kek[PRIV_KEK_ID_LEN + 1];
	unsigned char		 wrapped[PRIV_WRAPPED_LEN];
	const struct priv_kek	*k;
	const cJSON		*w;
	const char		*colon;
	size_t			 len;
	int			 i;

	for (i = 0; i < dc->n; i++) {
		if (memcmp(dc->id[i], key_id, PRIV_KEY_ID_LEN) == 0) {
			memcpy(dek, dc->dek[i], PRIV_KEY_LEN);
			return 0;
		}
	}
	hex_encode(key_id, PRIV_KEY_ID_LEN, idhex);
	w = cJSON_GetObjectItemCaseSensitive(keys, idhex);
	if (!cJSON_IsString(w))
		return 1;
	colon = strchr(w->valuestring, ':');
	if (colon == NULL || colon - w->valuestring != PRIV_KEK_ID_LEN ||
	    unhex(colon + 1, wrapped, sizeof(wrapped), &len) != 0) {
		*cause = xasprintf("data key %s: malformed", idhex);
		return -1;
	}
	memcpy(kek, w->valuestring, PRIV_KEK_ID_LEN);
	kek[PRIV_KEK_ID_LEN] = '\0';
	if ((k = person_kek_find(kek)) == NULL) {
		*cause = xasprintf("data key %s is wrapped under key-encryption key %s, which "
		    "this daemon has not loaded ([privacy] key_file, old_key_files)", idhex,
		    kek);
		return -1;
	}
	if (priv_unwrap(k, key_id, wrapped, len, dek) != 0) {
		*cause = xasprintf("data key %s does not unwrap under key-encryption key %s",
		    idhex, kek);
		return -1;
	}
	if (dc->n < (int)nitems(dc->id)) {
		memcpy(dc->id[dc->n], key_id, PRIV_KEY_ID_LEN);
		memcpy(dc->dek[dc->n], dek, PRIV_KEY_LEN);
		dc->n++;
	}
	return 0;
}

/* The value a sealed one opens to (allocated), or NULL with *cause. */
static cJSON *
open_value(struct dek_cache *dc, const cJSON *keys, const cJSON *s, char **cause)
{
	const cJSON	*field = cJSON_GetObjectItemCaseSensitive(s, "$sealed");
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(s, "v");
	unsigned char	*bytes, *plain, key_id[PRIV_KEY_ID_LEN], dek[PRIV_KEY_LEN];
	size_t		 len, plen;
	cJSON		*out = NULL;
	int		 r;

	if (!cJSON_IsString(field) || !cJSON_IsString(v)) {
		*cause = xstrdup("a sealed value without its field or bytes");
		return NULL;
	}
	len = strlen(v->valuestring) / 2;
	bytes = xmalloc(len + 1);
	plain = xmalloc(len + 1);
	if (unhex(v->valuestring, bytes, len, &len) != 0 ||
	    priv_sealed_key_id(bytes, len, key_id) != 0) {
		*cause = xasprintf("a sealed %s that is not one", field->valuestring);
		goto out;
	}
	if ((r = dek_get(dc, keys, key_id, dek, cause)) == 1) {
		char	idhex[2 * PRIV_KEY_ID_LEN + 1];

		/* the database answers null for an erased person's values: a sealed value
		 * without its key was moved or altered */
		hex_encode(key_id, sizeof(key_id), idhex);
		*cause = xasprintf("a sealed %s names data key %s, which the answer's people "
		    "do not have", field->valuestring, idhex);
		goto out;
	}
	if (r == -1)
		goto out;
	if (priv_open(dek, field->valuestring, bytes, len, plain, &plen) != 0) {
		char	idhex[2 * PRIV_KEY_ID_LEN + 1];

		hex_encode(key_id, sizeof(key_id), idhex);
		*cause = xasprintf("a sealed %s under data key %s does not open",
		    field->valuestring, idhex);
		goto out;
	}
	plain[plen] = '\0';
	if ((out = cJSON_ParseWithLength((char *)plain, plen)) == NULL)
		*cause = xasprintf("a sealed %s opens to no JSON value", field->valuestring);
	OPENSSL_cleanse(plain, plen);
out:
	OPENSSL_cleanse(dek, sizeof(dek));
	free(bytes);
	free(plain);
	if (out == NULL && *cause == NULL)
		fatalx("out of memory");
	return out;
}

static int
open_walk(struct dek_cache *dc, cJSON *node, const cJSON *keys, char **cause)
{
	cJSON	*it, *next, *v;

	for (it = node->child; it != NULL; it = next) {
		next = it->next;
		if (cJSON_IsObject(it) &&
		    cJSON_GetObjectItemCaseSensitive(it, "$sealed") != NULL) {
			if ((v = open_value(dc, keys, it, cause)) == NULL)
				return -1;
			/* in an object, the value takes the member's name */
			if (it->string != NULL)
				cJSON_ReplaceItemInObjectCaseSensitive(node, it->string, v);
			else
				cJSON_ReplaceItemViaPointer(node, it, v);
		} else if ((cJSON_IsObject(it) || cJSON_IsArray(it)) &&
		    open_walk(dc, it, keys, cause) != 0)
			return -1;
	}
	return 0;
}

int
person_open(cJSON *result, const cJSON *keys, char **cause)
{
	struct dek_cache	*dc;
	int			 rc;

	*cause = NULL;
	if (!cJSON_IsObject(result) && !cJSON_IsArray(result))
		return 0;
	dc = xcalloc(1, sizeof(*dc));
	rc = open_walk(dc, result, keys, cause);
	OPENSSL_cleanse(dc, sizeof(*dc));
	free(dc);
	return rc;
}

void
person_stats(const cJSON *r, int year, char out[PERSON_STATS_LEN])
{
	static const struct {
		int		 below;
		const char	*band;
	} bands[] = {
		{ 18, "0-17" }, { 25, "18-24" }, { 35, "25-34" }, { 45, "35-44" },
		{ 55, "45-54" }, { 65, "55-64" }, { 1000, "65+" },
	};
	const cJSON	*g = cJSON_GetObjectItemCaseSensitive(r, "gender");
	const cJSON	*b = cJSON_GetObjectItemCaseSensitive(r, "birth_year");
	const char	*gender = "unknown", *band = "unknown";
	size_t		 i;
	int		 age;

	if (cJSON_IsString(g) && (strcmp(g->valuestring, "female") == 0 ||
	    strcmp(g->valuestring, "male") == 0 || strcmp(g->valuestring, "other") == 0 ||
	    strcmp(g->valuestring, "undisclosed") == 0))
		gender = g->valuestring;
	if (cJSON_IsNumber(b) && (age = year - b->valueint) >= 0) {
		for (i = 0; i < nitems(bands); i++) {
			if (age < bands[i].below) {
				band = bands[i].band;
				break;
			}
		}
	}
	snprintf(out, PERSON_STATS_LEN, "{\"gender\":\"%s\",\"age_band\":\"%s\"}", gender,
	    band);
}
