/* rpc.c: JSON-RPC 2.0 requests, batches, notifications and errors: parsing and rendering. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "methods.h"
#include "rpc.h"
#include "rpc_error.h"
#include "util.h"
#include "validate.h"

static cJSON *
error_object(int code, const char *reason, const char *field)
{
	cJSON	*e = cJSON_CreateObject(), *d = cJSON_CreateObject();

	cJSON_AddNumberToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", rpc_error_message(code));
	cJSON_AddStringToObject(d, "reason", reason);
	/* a field is a key of the request: one that is not UTF-8 is not echoed */
	if (field != NULL && v_utf8(field, strlen(field)) == 0)
		cJSON_AddStringToObject(d, "field", field);
	cJSON_AddItemToObject(e, "data", d);
	return e;
}

void
rpc_set_error(struct rpc_call *c, int code, const char *reason, const char *field)
{
	cJSON_Delete(c->error);
	cJSON_Delete(c->result);
	c->result = NULL;
	c->error = error_object(code, reason, field);
	c->code = code;
}

/* A -32602 of the parser: every bad param in data.fields, and what the first one takes
 * (data.allowed or data.expected) beside its reason. fields is the call's from now on. */
static void
set_fields(struct rpc_call *c, cJSON *fields)
{
	cJSON	*data = cJSON_GetObjectItemCaseSensitive(c->error, "data");
	cJSON	*first = cJSON_GetArrayItem(fields, 0), *h;

	if (!cJSON_IsObject(data)) {
		cJSON_Delete(fields);
		return;
	}
	if ((h = cJSON_GetObjectItemCaseSensitive(first, "allowed")) != NULL ||
	    (h = cJSON_GetObjectItemCaseSensitive(first, "expected")) != NULL)
		cJSON_AddItemToObject(data, h->string, cJSON_Duplicate(h, 1));
	cJSON_AddItemToObject(data, "fields", fields);
}

static unsigned
key_hash(const char *s)
{
	unsigned	h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* The first key found twice in one object anywhere in o (inner objects first), or NULL.
 * A hash table per object keeps it linear; the recursion is bounded by cJSON's nesting
 * limit, which the strict reader below also enforces. */
static const char *
dup_key(const cJSON *o)
{
	const cJSON	*v, *w, **tab;
	const char	*d = NULL;
	size_t		 n = 0, cap = 16, h;

	for (v = o->child; v != NULL; v = v->next) {
		if ((cJSON_IsObject(v) || cJSON_IsArray(v)) && (d = dup_key(v)) != NULL)
			return d;
		n++;
	}
	if (!cJSON_IsObject(o) || n < 2)
		return NULL;
	if (n <= 8) {
		for (v = o->child; v != NULL; v = v->next)
			for (w = v->next; w != NULL; w = w->next)
				if (strcmp(v->string, w->string) == 0)
					return v->string;
		return NULL;
	}
	while (cap < 2 * n)
		cap *= 2;
	tab = xcalloc(cap, sizeof(*tab));
	for (v = o->child; v != NULL && d == NULL; v = v->next) {
		for (h = key_hash(v->string) & (cap - 1); tab[h] != NULL; h = (h + 1) & (cap - 1))
			if (strcmp(tab[h]->string, v->string) == 0) {
				d = v->string;
				break;
			}
		tab[h] = v;
	}
	free(tab);
	return d;
}

/* One request object into c; raw: the text of its id when that is a number. */
static void
parse_call(const cJSON *o, struct rpc_call *c, const char *raw, size_t rawlen)
{
	const cJSON	*v, *id, *method, *params;
	const char	*field = NULL, *reason = NULL, *d;
	cJSON		*fields = NULL;
	char		*t;

	c->midx = -1;
	if (!cJSON_IsObject(o)) {
		rpc_set_error(c, RPC_INVALID_REQUEST, "not_an_object", NULL);
		return;
	}
	/* cJSON keeps the first copy of a key, PostgreSQL's jsonb the last: neither is right */
	if ((d = dup_key(o)) != NULL) {
		rpc_set_error(c, RPC_INVALID_REQUEST, "duplicate_key", d);
		return;
	}
	id = cJSON_GetObjectItemCaseSensitive(o, "id");
	if (id != NULL && ((!cJSON_IsString(id) && !cJSON_IsNumber(id) && !cJSON_IsNull(id)) ||
	    (cJSON_IsString(id) && v_utf8(id->valuestring, strlen(id->valuestring)) != 0) ||
	    (cJSON_IsNumber(id) && rawlen == 0))) {
		rpc_set_error(c, RPC_INVALID_REQUEST, "bad_id", "id");
		return;
	}
	c->notification = id == NULL;
	if (cJSON_IsNumber(id)) {
		/* echoed as sent: 9007199254740993 is not a double, 1e400 not even finite */
		t = xstrndup(raw, rawlen);
		c->id = cJSON_CreateRaw(t);
		free(t);
	} else
		c->id = id != NULL ? cJSON_Duplicate(id, 1) : NULL;
	cJSON_ArrayForEach(v, o) {
		if (strcmp(v->string, "jsonrpc") != 0 && strcmp(v->string, "method") != 0 &&
		    strcmp(v->string, "params") != 0 && strcmp(v->string, "id") != 0) {
			c->notification = 0;
			rpc_set_error(c, RPC_INVALID_REQUEST, "unknown_member", v->string);
			return;
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "jsonrpc");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0) {
		c->notification = 0;
		rpc_set_error(c, RPC_INVALID_REQUEST, "bad_jsonrpc_version", "jsonrpc");
		return;
	}
	method = cJSON_GetObjectItemCaseSensitive(o, "method");
	if (!cJSON_IsString(method)) {
		c->notification = 0;
		rpc_set_error(c, RPC_INVALID_REQUEST, "method_must_be_a_string", "method");
		return;
	}
	if ((c->m = method_find(method->valuestring, &c->midx)) == NULL) {
		rpc_set_error(c, RPC_METHOD_NOT_FOUND, "method_not_found", "method");
		return;
	}
	params = cJSON_GetObjectItemCaseSensitive(o, "params");
	if (params != NULL && !cJSON_IsObject(params)) {
		rpc_set_error(c, RPC_INVALID_PARAMS, "params_must_be_an_object",
		    "params");
		return;
	}
	c->params = params != NULL ? cJSON_Duplicate(params, 1) : cJSON_CreateObject();
	v = cJSON_GetObjectItemCaseSensitive(c->params, "idempotency_key");
	if (v != NULL) {
		if (!(c->m->flags & M_MUTATES)) {
			rpc_set_error(c, RPC_INVALID_PARAMS, "not_a_mutating_method",
			    "idempotency_key");
			return;
		}
		if (!cJSON_IsString(v)) {
			rpc_set_error(c, RPC_INVALID_PARAMS, "not_a_string",
			    "idempotency_key");
			return;
		}
		if (v_idempotency_key(v->valuestring, &reason) != 0) {
			rpc_set_error(c, RPC_INVALID_PARAMS, reason, "idempotency_key");
			return;
		}
		c->idem = xstrdup(v->valuestring);
		cJSON_DeleteItemFromObjectCaseSensitive(c->params, "idempotency_key");
	}
	/* every read may ask to see every commit made before it (docs/protocol.md) */
	v = cJSON_GetObjectItemCaseSensitive(c->params, "consistent");
	if (v != NULL && !cJSON_IsNull(v)) {
		if (c->m->flags & M_MUTATES) {
			rpc_set_error(c, RPC_INVALID_PARAMS, "not_a_read_method", "consistent");
			return;
		}
		if (!cJSON_IsBool(v)) {
			rpc_set_error(c, RPC_INVALID_PARAMS, "not_a_boolean", "consistent");
			return;
		}
		c->consistent = cJSON_IsTrue(v);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(c->params, "consistent");
	if (method_check_params(c->m, c->params, &field, &reason, &fields) != 0) {
		rpc_set_error(c, RPC_INVALID_PARAMS, reason, field);
		set_fields(c, fields);
	}
}

/* cJSON keeps strings NUL-terminated, so "a\u0000b" would silently become "a": such a
 * body is refused whole. Backslashes occur in JSON only as escapes inside strings, so a
 * linear scan that skips each escape is exact. */
static int
has_nul_escape(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < len && s[i + 2] == '0' && s[i + 3] == '0' &&
		    s[i + 4] == '0' && s[i + 5] == '0')
			return 1;
		i++;	/* skip the escaped character */
	}
	return 0;
}

/*
 * The strict reader: cJSON accepts raw control characters in strings (a raw NUL cuts the
 * value), numbers such as "01" or "1." and keeps no number's text. This pass, before
 * cJSON, checks the RFC 8259 grammar in one linear, non-recursive walk (nesting at most
 * RPC_DEPTH_MAX, cJSON's own limit) and records the text of each call's id when it is a
 * number: ids[k] for the body's object (k = 0) or the k-th element of its array.
 */
enum scan_rc { SCAN_OK, SCAN_SYNTAX, SCAN_CONTROL };

struct id_span {
	size_t	off, len;
};

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_dig(char c)
{
	return c >= '0' && c <= '9';
}

static int
hex_val(char c)
{
	if (is_dig(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The string at s[*i] == '"', to just past its closing quote; *is_id: its value is "id". */
static enum scan_rc
scan_string(const char *s, size_t len, size_t *i, int *is_id)
{
	size_t		j = *i + 1, n = 0;
	unsigned char	c, dec[2] = { 0, 0 };
	unsigned	v;
	int		k, x;

	for (;;) {
		if (j >= len)
			return SCAN_SYNTAX;
		c = (unsigned char)s[j];
		if (c == '"')
			break;
		if (c < 0x20)
			return SCAN_CONTROL;
		if (c == '\\') {
			if (j + 1 >= len)
				return SCAN_SYNTAX;
			c = (unsigned char)s[j + 1];
			if (c == 'u') {
				if (j + 5 >= len)
					return SCAN_SYNTAX;
				for (v = 0, k = 2; k < 6; k++) {
					if ((x = hex_val(s[j + k])) < 0)
						return SCAN_SYNTAX;
					v = v * 16 + (unsigned)x;
				}
				c = v < 0x80 ? (unsigned char)v : 0xff;
				j += 6;
			} else if (c == '"' || c == '\\' || c == '/') {
				j += 2;
			} else if (c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
				c = 0x01;
				j += 2;
			} else
				return SCAN_SYNTAX;
		} else
			j++;
		if (n < 2)
			dec[n] = c;
		n++;
	}
	*is_id = n == 2 && dec[0] == 'i' && dec[1] == 'd';
	*i = j + 1;
	return SCAN_OK;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at s[*i]; -1 if it is not one. */
static int
scan_number(const char *s, size_t len, size_t *i)
{
	size_t	j = *i;

	if (j < len && s[j] == '-')
		j++;
	if (j >= len || !is_dig(s[j]))
		return -1;
	if (s[j] == '0')
		j++;
	else
		while (j < len && is_dig(s[j]))
			j++;
	if (j < len && s[j] == '.') {
		if (++j >= len || !is_dig(s[j]))
			return -1;
		while (j < len && is_dig(s[j]))
			j++;
	}
	if (j < len && (s[j] == 'e' || s[j] == 'E')) {
		j++;
		if (j < len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j >= len || !is_dig(s[j]))
			return -1;
		while (j < len && is_dig(s[j]))
			j++;
	}
	*i = j;
	return 0;
}

static enum scan_rc
scan_body(const char *s, size_t len, struct id_span *ids, int nids)
{
	enum { VALUE, VALUE_OR_END, AFTER, KEY, KEY_OR_END }	state = VALUE;
	char		st[RPC_DEPTH_MAX];
	int		depth = 0, top_array = 0, elements = 0, call = 0;
	int		want_id = 0, id_here, is_id;
	size_t		i = 0, v0;
	enum scan_rc	rc;

	for (;;) {
		while (i < len && is_ws(s[i]))
			i++;
		if (state == AFTER) {
			if (depth == 0)
				return i == len ? SCAN_OK : SCAN_SYNTAX;
			if (i >= len)
				return SCAN_SYNTAX;
			if (s[i] == ',') {
				i++;
				state = st[depth - 1] == '{' ? KEY : VALUE;
			} else if (s[i] == (st[depth - 1] == '{' ? '}' : ']')) {
				i++;
				depth--;
			} else
				return SCAN_SYNTAX;
			continue;
		}
		if (i >= len)
			return SCAN_SYNTAX;
		if ((state == VALUE_OR_END && s[i] == ']') || (state == KEY_OR_END && s[i] == '}')) {
			i++;
			depth--;
			state = AFTER;
			continue;
		}
		if (state == KEY || state == KEY_OR_END) {
			if (s[i] != '"')
				return SCAN_SYNTAX;
			if ((rc = scan_string(s, len, &i, &is_id)) != SCAN_OK)
				return rc;
			while (i < len && is_ws(s[i]))
				i++;
			if (i >= len || s[i] != ':')
				return SCAN_SYNTAX;
			i++;
			want_id = is_id && depth == (top_array ? 2 : 1);
			state = VALUE;
			continue;
		}
		/* a value */
		if (depth == 0 && s[i] == '[')
			top_array = 1;
		if (depth == 1 && top_array)
			call = elements++;
		id_here = want_id;
		want_id = 0;
		v0 = i;
		state = AFTER;
		if (s[i] == '{' || s[i] == '[') {
			if (depth == RPC_DEPTH_MAX)
				return SCAN_SYNTAX;
			st[depth++] = s[i];
			state = s[i] == '{' ? KEY_OR_END : VALUE_OR_END;
			i++;
		} else if (s[i] == '"') {
			if ((rc = scan_string(s, len, &i, &is_id)) != SCAN_OK)
				return rc;
		} else if (s[i] == '-' || is_dig(s[i])) {
			if (scan_number(s, len, &i) != 0)
				return SCAN_SYNTAX;
			if (id_here && call < nids) {
				ids[call].off = v0;
				ids[call].len = i - v0;
			}
		} else if (len - i >= 4 && memcmp(s + i, "true", 4) == 0)
			i += 4;
		else if (len - i >= 5 && memcmp(s + i, "false", 5) == 0)
			i += 5;
		else if (len - i >= 4 && memcmp(s + i, "null", 4) == 0)
			i += 4;
		else
			return SCAN_SYNTAX;
	}
}

struct rpc_batch *
rpc_parse(const char *body, size_t len)
{
	struct rpc_batch	*b = xcalloc(1, sizeof(*b));
	struct id_span		 ids[RPC_BATCH_MAX];
	cJSON			*root, *e;
	enum scan_rc		 rc;
	int			 i = 0;

	memset(ids, 0, sizeof(ids));
	if ((rc = scan_body(body, len, ids, RPC_BATCH_MAX)) != SCAN_OK) {
		b->top_error = error_object(RPC_PARSE_ERROR, rc == SCAN_CONTROL ?
		    "raw_control_character" : "invalid_json", NULL);
		return b;
	}
	root = cJSON_ParseWithLengthOpts(body, len, NULL, 0);
	if (root == NULL) {
		b->top_error = error_object(RPC_PARSE_ERROR, "invalid_json", NULL);
		return b;
	}
	if (has_nul_escape(body, len)) {
		cJSON_Delete(root);
		b->top_error = error_object(RPC_INVALID_PARAMS, "nul_character", NULL);
		return b;
	}
	if (cJSON_IsArray(root)) {
		b->is_array = 1;
		b->n = cJSON_GetArraySize(root);
		if (b->n == 0 || b->n > RPC_BATCH_MAX) {
			b->top_error = error_object(RPC_INVALID_REQUEST, b->n == 0 ?
			    "empty_batch" : "batch_too_large", NULL);
			b->n = 0;
			cJSON_Delete(root);
			return b;
		}
		b->calls = xcalloc((size_t)b->n, sizeof(*b->calls));
		cJSON_ArrayForEach(e, root) {
			parse_call(e, &b->calls[i], body + ids[i].off, ids[i].len);
			i++;
		}
	} else {
		b->n = 1;
		b->calls = xcalloc(1, sizeof(*b->calls));
		parse_call(root, &b->calls[0], body + ids[0].off, ids[0].len);
	}
	cJSON_Delete(root);
	return b;
}

void
rpc_batch_free(struct rpc_batch *b)
{
	int	i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		struct rpc_call *c = &b->calls[i];

		cJSON_Delete(c->id);
		cJSON_Delete(c->params);
		cJSON_Delete(c->result);
		cJSON_Delete(c->error);
		free(c->idem);
		free(c->access);
		OPENSSL_cleanse(c->token, sizeof(c->token));
	}
	free(b->calls);
	cJSON_Delete(b->top_error);
	free(b);
}

static cJSON *
response_object(struct rpc_call *c)
{
	cJSON	*r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "jsonrpc", "2.0");
	if (c->error != NULL) {
		cJSON_AddItemToObject(r, "error", c->error);
		c->error = NULL;
	} else {
		cJSON_AddItemToObject(r, "result", c->result != NULL ? c->result :
		    cJSON_CreateNull());
		c->result = NULL;
	}
	cJSON_AddItemToObject(r, "id", c->id != NULL ? c->id : cJSON_CreateNull());
	c->id = NULL;
	return r;
}

char *
rpc_render(struct rpc_batch *b, int *status)
{
	cJSON	*out = NULL;
	char	*s;
	int	 i, unauth = 0;

	*status = 200;
	if (b->top_error != NULL) {
		if (b->unauthenticated)
			*status = 401;
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "jsonrpc", "2.0");
		cJSON_AddItemToObject(out, "error", b->top_error);
		cJSON_AddItemToObject(out, "id", cJSON_CreateNull());
		b->top_error = NULL;
		goto done;
	}
	for (i = 0; i < b->n; i++)
		if (b->calls[i].code == RPC_UNAUTHENTICATED)
			unauth++;
	if (unauth > 0) {
		/* the credentials failed: 401 for the whole request, whatever it held */
		for (i = 0; i < b->n && b->calls[i].code != RPC_UNAUTHENTICATED; i++)
			;
		*status = 401;
		b->calls[i].notification = 0;
		out = response_object(&b->calls[i]);
		goto done;
	}
	if (!b->is_array) {
		if (b->calls[0].notification) {
			*status = 204;
			return NULL;
		}
		if (b->calls[0].code == RPC_OVERLOADED ||
		    b->calls[0].code == RPC_DB_UNAVAILABLE)
			*status = 503;
		out = response_object(&b->calls[0]);
		goto done;
	}
	out = cJSON_CreateArray();
	for (i = 0; i < b->n; i++)
		if (!b->calls[i].notification)
			cJSON_AddItemToArray(out, response_object(&b->calls[i]));
	if (cJSON_GetArraySize(out) == 0) {
		cJSON_Delete(out);
		*status = 204;
		return NULL;
	}
done:
	s = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	if (s == NULL)
		fatalx("out of memory rendering a response");
	return s;
}
