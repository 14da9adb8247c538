/* rpc.c: JSON-RPC 2.0 requests, batches, notifications, errors; execution on the pool. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth_cache.h"
#include "db_pool.h"
#include "log.h"
#include "methods.h"
#include "metrics.h"
#include "queries.h"
#include "rpc.h"
#include "rpc_error.h"
#include "util.h"
#include "validate.h"

#ifndef FUND_VERSION
#define FUND_VERSION "0.0.0"
#endif

#define RPC_MAX_RETRIES	3	/* serialization failures and deadlocks */

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

/* Execution ------------------------------------------------------------------------------ */

struct rpc_exec {
	struct db_pool		*pool;
	struct rpc_batch	*b;
	struct rpc_auth		 auth;
	char			*reqid;
	char			*peer;
	int			 next;
	struct db_query		*q;
	rpc_done_cb		 done;
	void			*arg;
	struct event		*ev_done;
};

static void	exec_next(struct rpc_exec *);

static void
call_finish(struct rpc_exec *x, struct rpc_call *c)
{
	metrics_rpc(c->midx, c->code, now_usec() - c->t0);
	log_msg(LOG_DEBUG, x->peer, x->reqid, "call %s -> %d", c->m != NULL ? c->m->name :
	    "-", c->code);
}

/* The api.call() answer: {"result": R, "replayed": B} or {"error": E}. */
static void
take_answer(struct rpc_exec *x, struct rpc_call *c, const char *text)
{
	cJSON	*a = cJSON_Parse(text), *r, *e;

	if (a == NULL) {
		log_msg(LOG_ERROR, x->peer, x->reqid, "%s: unparsable answer from the database",
		    c->m->name);
		rpc_set_error(c, RPC_INTERNAL_ERROR, "internal_error", NULL);
		return;
	}
	if ((e = cJSON_DetachItemFromObjectCaseSensitive(a, "error")) != NULL) {
		cJSON_Delete(c->error);
		c->error = e;
		r = cJSON_GetObjectItemCaseSensitive(e, "code");
		c->code = cJSON_IsNumber(r) ? r->valueint : RPC_INTERNAL_ERROR;
	} else {
		int replayed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "replayed"));

		c->result = cJSON_DetachItemFromObjectCaseSensitive(a, "result");
		if (c->result == NULL)
			c->result = cJSON_CreateNull();
		if ((c->m->flags & M_NEW_TOKEN) && cJSON_IsObject(c->result)) {
			cJSON_DeleteItemFromObjectCaseSensitive(c->result, "token");
			if (replayed)
				cJSON_AddNullToObject(c->result, "token");
			else
				cJSON_AddStringToObject(c->result, "token", c->token);
		}
		c->code = 0;
	}
	cJSON_Delete(a);
}

/* A statement error: FLERR carries a JSON-RPC error; everything else is internal and its
 * details stay in the log, never in the response. Returns 1 to retry the call. */
static int
take_sql_error(struct rpc_exec *x, struct rpc_call *c, const PGresult *res)
{
	const char	*state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char	*msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	cJSON		*e, *code;

	if (state == NULL)
		state = "";
	if (strcmp(state, "FLERR") == 0 && msg != NULL && (e = cJSON_Parse(msg)) != NULL) {
		code = cJSON_GetObjectItemCaseSensitive(e, "code");
		cJSON_Delete(c->error);
		c->error = e;
		c->code = cJSON_IsNumber(code) ? code->valueint : RPC_INTERNAL_ERROR;
		return 0;
	}
	if ((strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) &&
	    c->retries++ < RPC_MAX_RETRIES)
		return 1;
	if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
	    strcmp(state, "57P03") == 0) {
		rpc_set_error(c, RPC_DB_UNAVAILABLE, "database_unavailable", NULL);
		return 0;
	}
	if (strcmp(state, "23505") == 0) {
		rpc_set_error(c, RPC_CONFLICT, "duplicate", NULL);
		return 0;
	}
	log_msg(LOG_ERROR, x->peer, x->reqid, "%s: database error %s: %s", c->m->name, state,
	    msg != NULL ? msg : "?");
	rpc_set_error(c, RPC_INTERNAL_ERROR, "internal_error", NULL);
	return 0;
}

/* The credentials cache (auth_cache.h): a successful whoami is kept, stamped with the
 * generation taken before it was sent; a successful change to principals flushes the
 * cache before its answer leaves, so that a token revoked here fails on the next request
 * (the change has committed: callbacks come after the Sync). */
static void
cache_answer(struct rpc_exec *x, struct rpc_call *c)
{
	char	 key[AUTH_CACHE_KEY], *json;

	if (c->code != 0)
		return;
	if (c->m->flags & M_PRINCIPALS)
		auth_cache_flush(c->m->name);
	if ((c->m->flags & M_WHOAMI) && auth_cache_enabled() && cJSON_IsObject(c->result) &&
	    auth_cache_key(x->auth.token_sha256, x->auth.cert_sha256, key)) {
		json = cJSON_PrintUnformatted(c->result);
		if (json != NULL)
			auth_cache_put(key, c->cache_gen, json);
		free(json);
	}
}

/* A whoami the cache can answer; 1 when it did. Not while this worker's pool has no
 * connection up: with the database gone, whoami answers -32050 like every call, whether
 * or not worker 0's listener has noticed yet (its loop is another thread's). */
static int
cache_lookup(struct rpc_exec *x, struct rpc_call *c)
{
	char	 key[AUTH_CACHE_KEY], *json;
	cJSON	*r;

	if (!(c->m->flags & M_WHOAMI) || !auth_cache_enabled() ||
	    db_pool_healthy(x->pool) == 0 ||
	    !auth_cache_key(x->auth.token_sha256, x->auth.cert_sha256, key))
		return 0;
	c->cache_gen = auth_cache_gen();
	if ((json = auth_cache_get(key)) == NULL)
		return 0;
	r = cJSON_Parse(json);
	free(json);
	if (r == NULL)
		return 0;
	cJSON_Delete(c->result);
	c->result = r;
	c->code = 0;
	return 1;
}

static void
exec_result(void *arg, enum db_status st, const PGresult *res)
{
	struct rpc_exec	*x = arg;
	struct rpc_call	*c = &x->b->calls[x->next];

	x->q = NULL;
	switch (st) {
	case DB_OK:
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
			take_answer(x, c, PQgetvalue(res, 0, 0));
			cache_answer(x, c);
		} else if (take_sql_error(x, c, res)) {
			exec_next(x);	/* retry the same call */
			return;
		}
		break;
	case DB_UNAVAILABLE:
		rpc_set_error(c, RPC_DB_UNAVAILABLE, "database_unavailable", NULL);
		break;
	case DB_LOST:
		rpc_set_error(c, RPC_DB_UNAVAILABLE, "connection_lost", NULL);
		break;
	case DB_OVERLOADED:
		rpc_set_error(c, RPC_OVERLOADED, "overloaded", NULL);
		break;
	}
	call_finish(x, c);
	x->next++;
	exec_next(x);
}

/* A call with bad params, once its credentials and roles are checked: a refusal
 * (recorded in the audit trail by api.authorize) replaces the -32602, so that nobody
 * learns anything about the params of a call they may not make. */
static void
authz_result(void *arg, enum db_status st, const PGresult *res)
{
	struct rpc_exec	*x = arg;
	struct rpc_call	*c = &x->b->calls[x->next];
	cJSON		*a, *e, *code;

	x->q = NULL;
	if (st == DB_OK && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    (a = cJSON_Parse(PQgetvalue(res, 0, 0))) != NULL) {
		if ((e = cJSON_DetachItemFromObjectCaseSensitive(a, "error")) != NULL) {
			code = cJSON_GetObjectItemCaseSensitive(e, "code");
			cJSON_Delete(c->error);
			c->error = e;
			c->code = cJSON_IsNumber(code) ? code->valueint : RPC_INTERNAL_ERROR;
		}
		cJSON_Delete(a);
	}
	call_finish(x, c);
	x->next++;
	exec_next(x);
}

static void
exec_done(evutil_socket_t fd, short what, void *arg)
{
	struct rpc_exec	*x = arg;

	(void)fd;
	(void)what;
	x->done(x->arg);
}

static void
exec_next(struct rpc_exec *x)
{
	const char	*vals[7];
	char		*params;
	struct rpc_call	*c;
	char		 hash[67], ctx[256];

	for (; x->next < x->b->n; x->next++) {
		c = &x->b->calls[x->next];
		if (c->t0 == 0)
			c->t0 = now_usec();
		if (c->m != NULL && c->code == RPC_INVALID_PARAMS && !c->authorized) {
			c->authorized = 1;
			vals[0] = x->auth.token_sha256[0] != '\0' ? x->auth.token_sha256 : NULL;
			vals[1] = x->auth.cert_sha256[0] != '\0' ? x->auth.cert_sha256 : NULL;
			vals[2] = c->m->name;
			vals[3] = c->m->roles;
			vals[4] = NULL;
			params = c->params != NULL ? cJSON_PrintUnformatted(c->params) : NULL;
			vals[5] = params;
			x->q = db_query(x->pool, Q_AUTHORIZE, vals, 0, authz_result, x);
			free(params);
			return;
		}
		if (c->m == NULL || c->error != NULL)
			continue;	/* answered by the parser */
		if (cache_lookup(x, c)) {
			call_finish(x, c);
			continue;
		}
		if ((c->m->flags & M_NEW_TOKEN) && c->token[0] == '\0' &&
		    auth_token_new(c->token, sizeof(c->token)) != 0) {
			rpc_set_error(c, RPC_INTERNAL_ERROR, "rng_failed", NULL);
			call_finish(x, c);
			continue;
		}
		/* ctx: request facts for the SQL method; every value here is [0-9a-f.-] */
		if (c->m->flags & M_NEW_TOKEN) {
			auth_sha256_bytea(c->token, strlen(c->token), hash);
			snprintf(ctx, sizeof(ctx), "{\"version\":\"%s\",\"request_id\":\"%s\","
			    "\"token_sha256\":\"%s\"}", FUND_VERSION, x->reqid, hash + 2);
		} else
			snprintf(ctx, sizeof(ctx), "{\"version\":\"%s\",\"request_id\":\"%s\"}",
			    FUND_VERSION, x->reqid);
		params = cJSON_PrintUnformatted(c->params);
		vals[0] = x->auth.token_sha256[0] != '\0' ? x->auth.token_sha256 : NULL;
		vals[1] = x->auth.cert_sha256[0] != '\0' ? x->auth.cert_sha256 : NULL;
		vals[2] = c->m->name;
		vals[3] = c->m->roles;
		vals[4] = params;
		vals[5] = c->idem;
		vals[6] = ctx;
		x->q = db_query(x->pool, Q_RPC, vals,
		    (c->m->flags & M_MUTATES) ? DB_Q_WRITE | DB_Q_BATCH : 0, exec_result, x);
		free(params);
		return;
	}
	event_active(x->ev_done, EV_TIMEOUT, 0);
}

struct rpc_exec *
rpc_exec_start(struct db_pool *pool, struct rpc_batch *b, const struct rpc_auth *auth,
    const char *reqid, const char *peer, rpc_done_cb done, void *arg)
{
	struct rpc_exec	*x = xcalloc(1, sizeof(*x));

	x->pool = pool;
	x->b = b;
	x->auth = *auth;
	x->reqid = xstrdup(reqid);
	x->peer = xstrdup(peer);
	x->done = done;
	x->arg = arg;
	x->ev_done = event_new(db_pool_base(pool), -1, 0, exec_done, x);
	exec_next(x);
	return x;
}

void
rpc_exec_cancel(struct rpc_exec *x)
{
	if (x->q != NULL) {
		db_cancel(x->q);
		x->q = NULL;
	}
	event_del(x->ev_done);
}

void
rpc_exec_free(struct rpc_exec *x)
{
	if (x == NULL)
		return;
	rpc_exec_cancel(x);
	event_free(x->ev_done);
	OPENSSL_cleanse(&x->auth, sizeof(x->auth));
	free(x->reqid);
	free(x->peer);
	free(x);
}
