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
	if (field != NULL)
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

/* One request object into c. */
static void
parse_call(const cJSON *o, struct rpc_call *c)
{
	const cJSON	*v, *id, *method, *params;
	const char	*field = NULL, *reason = NULL;

	c->midx = -1;
	if (!cJSON_IsObject(o)) {
		rpc_set_error(c, RPC_INVALID_REQUEST, "not_an_object", NULL);
		return;
	}
	id = cJSON_GetObjectItemCaseSensitive(o, "id");
	if (id != NULL && !cJSON_IsString(id) && !cJSON_IsNumber(id) && !cJSON_IsNull(id)) {
		rpc_set_error(c, RPC_INVALID_REQUEST, "bad_id", "id");
		return;
	}
	c->notification = id == NULL;
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
	if (method_check_params(c->m, c->params, &field, &reason) != 0)
		rpc_set_error(c, RPC_INVALID_PARAMS, reason, field);
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

struct rpc_batch *
rpc_parse(const char *body, size_t len)
{
	struct rpc_batch	*b = xcalloc(1, sizeof(*b));
	cJSON			*root, *e;
	const char		*end = NULL;
	int			 i = 0;

	root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	/* one JSON value and nothing after it but whitespace */
	while (root != NULL && end < body + len && (*end == ' ' || *end == '\t' ||
	    *end == '\r' || *end == '\n'))
		end++;
	if (root != NULL && end != body + len) {
		cJSON_Delete(root);
		root = NULL;
	}
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
		cJSON_ArrayForEach(e, root)
			parse_call(e, &b->calls[i++]);
	} else {
		b->n = 1;
		b->calls = xcalloc(1, sizeof(*b->calls));
		parse_call(root, &b->calls[0]);
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
