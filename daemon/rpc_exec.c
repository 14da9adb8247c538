/* rpc_exec.c: running a batch's calls on the pool (rpc_exec.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "auth.h"
#include "auth_cache.h"
#include "db_pool.h"
#include "log.h"
#include "method_doc.h"
#include "methods.h"
#include "metrics.h"
#include "person.h"
#include "queries.h"
#include "replica.h"
#include "rpc.h"
#include "rpc_error.h"
#include "rpc_exec.h"
#include "util.h"
#include "validate.h"

#ifndef FUND_VERSION
#define FUND_VERSION "0.0.0"
#endif

#define RPC_MAX_RETRIES	3	/* serialization failures and deadlocks */

struct rpc_exec {
	struct db_pool		*pool;		/* the primary's */
	struct replica		*rep;
	struct rpc_batch	*b;
	struct auth_creds	 auth;
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

/* The personal data in c's result, opened with the data keys of answer a (person.h).
 * A value that does not open fails the call, with the cause in the log only. */
static int
open_personal(struct rpc_exec *x, struct rpc_call *c, const cJSON *a)
{
	char	*cause = NULL;

	if (person_open(c->result, cJSON_GetObjectItemCaseSensitive(a, "keys"), &cause) == 0)
		return 0;
	log_msg(LOG_ERROR, x->peer, x->reqid, "%s: personal data does not open: %s",
	    c->m->name, cause);
	free(cause);
	cJSON_Delete(c->result);
	c->result = NULL;
	rpc_set_error(c, RPC_INTERNAL_ERROR, "personal_data_unreadable", NULL);
	return -1;
}

/* The api.call() answer: {"result": R, "replayed": B} or {"error": E}, with "keys" for the
 * sealed values of R (M_PERSONAL). */
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
		if (c->code != RPC_UNAUTHENTICATED)
			x->b->authenticated = 1;
	} else {
		x->b->authenticated = 1;
		int replayed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "replayed"));

		c->result = cJSON_DetachItemFromObjectCaseSensitive(a, "result");
		if (c->result == NULL)
			c->result = cJSON_CreateNull();
		if ((c->m->flags & M_PERSONAL) && open_personal(x, c, a) != 0) {
			cJSON_Delete(a);
			return;
		}
		/* a read's access events, recorded before its answer leaves (exec_result) */
		if ((c->m->flags & M_PERSONAL) && !(c->m->flags & M_MUTATES) &&
		    (r = cJSON_GetObjectItemCaseSensitive(a, "access")) != NULL) {
			free(c->access);
			if ((c->access = cJSON_PrintUnformatted(r)) == NULL)
				fatalx("out of memory");
		}
		if ((c->m->flags & M_NEW_TOKEN) && cJSON_IsObject(c->result)) {
			/* "token": true where the method stored ctx.token_sha256 */
			int issued = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->result,
			    "token"));

			cJSON_DeleteItemFromObjectCaseSensitive(c->result, "token");
			if (replayed || !issued)
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
		if (c->code != RPC_UNAUTHENTICATED)
			x->b->authenticated = 1;	/* raised by the method, past the check */
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
	/* refused, or cancelled before its commit: its transaction rolled back */
	if (strcmp(state, "25006") == 0) {
		log_msg(LOG_WARN, x->peer, x->reqid, "%s: the database is read-only",
		    c->m->name);
		rpc_set_error(c, RPC_DB_UNAVAILABLE, "read_only", NULL);
		return 0;
	}
	if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0) {
		log_msg(LOG_WARN, x->peer, x->reqid, "%s: %s", c->m->name,
		    msg != NULL ? msg : state);
		rpc_set_error(c, RPC_DB_UNAVAILABLE, "timeout", NULL);
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
	/* a token that expires is asked about every time: no entry outlives its expiry */
	if ((c->m->flags & M_WHOAMI) && auth_cache_enabled() && cJSON_IsObject(c->result) &&
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c->result, "token_expires_at")) &&
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

	if (!(c->m->flags & M_WHOAMI) || !auth_cache_enabled() || c->consistent ||
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
	x->b->authenticated = 1;
	return 1;
}

/* A mutation whose commit may or may not have happened: the client must not take it for
 * either. With its idempotency key it can send it again safely (a committed one answers
 * its first result, replayed), or look the object up. */
static void
outcome_unknown(struct rpc_exec *x, struct rpc_call *c)
{
	cJSON	*data;

	log_msg(LOG_WARN, x->peer, x->reqid, "%s: the database connection broke before its "
	    "answer; it may have committed", c->m->name);
	rpc_set_error(c, RPC_OUTCOME_UNKNOWN, "outcome_unknown", NULL);
	data = cJSON_GetObjectItemCaseSensitive(c->error, "data");
	if (cJSON_IsObject(data))
		cJSON_AddStringToObject(data, "retry", c->idem != NULL ?
		    "send it again with the same idempotency_key, or look the object up" :
		    "look the object up before sending it again: it had no idempotency_key");
}

static void	access_result(void *, enum db_status, const PGresult *);

/* Records c's access events (api.access_record) as a batchable write: the reads waiting
 * at once share its statement and commit (docs/privacy.md). */
static void
access_send(struct rpc_exec *x, struct rpc_call *c)
{
	const char	*vals[4];

	vals[0] = x->auth.token_sha256[0] != '\0' ? x->auth.token_sha256 : NULL;
	vals[1] = x->auth.cert_sha256[0] != '\0' ? x->auth.cert_sha256 : NULL;
	vals[2] = c->m->name;
	vals[3] = c->access;
	x->q = db_query(x->pool, Q_ACCESS, vals, DB_Q_WRITE | DB_Q_BATCH, access_result, x);
}

/* The error of call c whose statement got no answer from the database (st not DB_OK). */
static void
no_answer(struct rpc_exec *x, struct rpc_call *c, enum db_status st)
{
	switch (st) {
	case DB_OK:
		break;
	case DB_UNAVAILABLE:
		rpc_set_error(c, RPC_DB_UNAVAILABLE, "database_unavailable", NULL);
		break;
	case DB_READ_ONLY:
		rpc_set_error(c, RPC_DB_UNAVAILABLE, "read_only", NULL);
		break;
	case DB_LOST:
		/* sent, and the connection broke before its answer: a read (or its access
		 * events' record) answers nothing, a mutation may have committed */
		if (c->m->flags & M_MUTATES)
			outcome_unknown(x, c);
		else
			rpc_set_error(c, RPC_DB_UNAVAILABLE, "connection_lost", NULL);
		break;
	case DB_OVERLOADED:
		rpc_set_error(c, RPC_OVERLOADED, "overloaded", NULL);
		break;
	}
}

/* A read's answer leaves with its data only once its access events are committed; else
 * it is an error, with no data. */
static void
access_result(void *arg, enum db_status st, const PGresult *res)
{
	struct rpc_exec	*x = arg;
	struct rpc_call	*c = &x->b->calls[x->next];

	x->q = NULL;
	if (st == DB_OK && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		goto done;
	cJSON_Delete(c->result);
	c->result = NULL;
	switch (st) {
	case DB_OK:
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
			/* nobody holds its credentials any more (a token replaced since) */
			rpc_set_error(c, RPC_UNAUTHENTICATED, "bad_credentials", NULL);
		else if (take_sql_error(x, c, res)) {
			access_send(x, c);	/* (a retry of the record alone) */
			return;
		}
		break;
	default:
		no_answer(x, c, st);
		break;
	}
done:
	free(c->access);
	c->access = NULL;
	call_finish(x, c);
	x->next++;
	exec_next(x);
}

/* A read the standby could not answer goes to the primary: the standby is down, broke
 * the connection or is overloaded, or the read needs a write (a refusal's audit event:
 * SQLSTATE 25006). 1 when the call was sent again. */
static int
replica_retry(struct rpc_exec *x, struct rpc_call *c, enum db_status st,
    const PGresult *res)
{
	const char	*state = NULL;

	c->on_replica = 0;
	if (st == DB_OK) {
		if (PQresultStatus(res) == PGRES_FATAL_ERROR)
			state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state == NULL || (strcmp(state, "25006") != 0 &&
		    strncmp(state, "08", 2) != 0 && strcmp(state, "57P01") != 0 &&
		    strcmp(state, "57P03") != 0)) {
			replica_answered(1, 0);
			return 0;
		}
	}
	replica_answered(0, state == NULL || strcmp(state, "25006") != 0);
	log_msg(LOG_DEBUG, x->peer, x->reqid, "%s: the standby did not answer it (%s); "
	    "sending it to the primary", c->m->name, state != NULL ? state : "no answer");
	c->primary_only = 1;
	exec_next(x);
	return 1;
}

static void
exec_result(void *arg, enum db_status st, const PGresult *res)
{
	struct rpc_exec	*x = arg;
	struct rpc_call	*c = &x->b->calls[x->next];

	x->q = NULL;
	if (c->on_replica && replica_retry(x, c, st, res))
		return;
	/* (committed or maybe: this caller's reads wait for the standby to replay it) */
	if ((c->m->flags & M_MUTATES) && (st == DB_OK || st == DB_LOST))
		replica_wrote(&x->auth);
	switch (st) {
	case DB_OK:
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
			take_answer(x, c, PQgetvalue(res, 0, 0));
			cache_answer(x, c);
			if (c->access != NULL && c->code == 0) {
				access_send(x, c);
				return;
			}
		} else if (take_sql_error(x, c, res)) {
			exec_next(x);	/* retry the same call */
			return;
		}
		break;
	default:
		no_answer(x, c, st);
		break;
	}
	call_finish(x, c);
	x->next++;
	exec_next(x);
}

/* api.authorize's answer about c: its refusal, if any, becomes c's error. 0 when the
 * database answered, -1 when it did not. */
static int
take_authorize(struct rpc_exec *x, struct rpc_call *c, enum db_status st,
    const PGresult *res)
{
	cJSON	*a, *e, *code;

	if (st != DB_OK || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    (a = cJSON_Parse(PQgetvalue(res, 0, 0))) == NULL)
		return -1;
	if ((e = cJSON_DetachItemFromObjectCaseSensitive(a, "error")) != NULL) {
		code = cJSON_GetObjectItemCaseSensitive(e, "code");
		cJSON_Delete(c->error);
		c->error = e;
		c->code = cJSON_IsNumber(code) ? code->valueint : RPC_INTERNAL_ERROR;
	}
	if (c->code != RPC_UNAUTHENTICATED)
		x->b->authenticated = 1;
	cJSON_Delete(a);
	return 0;
}

/* A call with bad params, once its credentials and roles are checked: a refusal
 * (recorded in the audit trail by api.authorize) replaces the -32602, so that nobody
 * learns anything about the params of a call they may not make. */
static void
authz_result(void *arg, enum db_status st, const PGresult *res)
{
	struct rpc_exec	*x = arg;
	struct rpc_call	*c = &x->b->calls[x->next];

	x->q = NULL;
	(void)take_authorize(x, c, st, res);
	call_finish(x, c);
	x->next++;
	exec_next(x);
}

/* rpc.discover and any other method the daemon answers itself: the answer, once
 * api.authorize accepts the caller for it. */
static void
local_result(void *arg, enum db_status st, const PGresult *res)
{
	struct rpc_exec	*x = arg;
	struct rpc_call	*c = &x->b->calls[x->next];

	x->q = NULL;
	if (take_authorize(x, c, st, res) == -1)
		rpc_set_error(c, st == DB_OVERLOADED ? RPC_OVERLOADED : RPC_DB_UNAVAILABLE,
		    st == DB_OVERLOADED ? "overloaded" : "database_unavailable", NULL);
	else if (c->error == NULL)
		c->result = method_discover(FUND_VERSION);
	call_finish(x, c);
	x->next++;
	exec_next(x);
}

/* A request refused by the parser before any call reached the database: its credentials,
 * checked now, come first. Credentials that fail answer 401 (and the refusal is audited
 * by api.authorize) whatever else is wrong; good ones leave the parser's answers. */
static void
check_result(void *arg, enum db_status st, const PGresult *res)
{
	struct rpc_exec	*x = arg;
	cJSON		*a, *e, *code;

	x->q = NULL;
	if (st == DB_OK && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    (a = cJSON_Parse(PQgetvalue(res, 0, 0))) != NULL) {
		e = cJSON_GetObjectItemCaseSensitive(a, "error");
		code = cJSON_GetObjectItemCaseSensitive(e, "code");
		if (cJSON_IsNumber(code) && code->valueint == RPC_UNAUTHENTICATED) {
			cJSON_Delete(x->b->top_error);
			x->b->top_error = cJSON_DetachItemFromObjectCaseSensitive(a, "error");
			x->b->unauthenticated = 1;
		} else if (e == NULL)
			x->b->authenticated = 1;
		cJSON_Delete(a);
	} else
		log_msg(LOG_WARN, x->peer, x->reqid, "credentials of a refused request not "
		    "checked: the database did not answer");
	exec_next(x);
}

/* 1 when the batch holds a refusal of the parser and no call that the database will
 * see (with its credentials): they are to be checked on their own. */
static int
needs_check(const struct rpc_batch *b)
{
	int	i, refused = b->top_error != NULL;

	for (i = 0; i < b->n; i++) {
		const struct rpc_call *c = &b->calls[i];

		if (c->m != NULL && (c->error == NULL || c->code == RPC_INVALID_PARAMS))
			return 0;
		if (c->error != NULL)
			refused = 1;
	}
	return refused;
}

/* M_SEALS: c's params as its SQL function takes them, sealed with a seed when the call
 * has an idempotency key (a retry then sends the same bytes). A refusal is -32602. */
static void
seal_params(struct rpc_exec *x, struct rpc_call *c)
{
	unsigned char	*seed = NULL;
	size_t		 len = 0;
	const char	*field = NULL, *reason = NULL;

	c->sealed = 1;
	if (c->idem != NULL)
		seed = person_seed(c->m->name, x->auth.token_sha256, x->auth.cert_sha256,
		    c->idem, c->params, &len);
	if (person_params(c->m->name, c->params, seed, len, &field, &reason) != 0)
		rpc_set_error(c, RPC_INVALID_PARAMS, reason, field);
	if (seed != NULL) {
		OPENSSL_cleanse(seed, len);
		free(seed);
	}
}

/* M_STATS: the returnee read for a grant's statistics (person_stats). Whatever fails
 * here, the call itself answers for. */
static void
stats_result(void *arg, enum db_status st, const PGresult *res)
{
	struct rpc_exec	*x = arg;
	struct rpc_call	*c = &x->b->calls[x->next];
	cJSON		*a, *r;
	char		*cause = NULL;

	x->q = NULL;
	if (st == DB_OK && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    (a = cJSON_Parse(PQgetvalue(res, 0, 0))) != NULL) {
		r = cJSON_GetObjectItemCaseSensitive(a, "result");
		if (cJSON_IsObject(r) && person_open(r, cJSON_GetObjectItemCaseSensitive(a,
		    "keys"), &cause) == 0)
			person_stats(r, person_utc_year(), c->stats);
		free(cause);
		cJSON_Delete(a);
	}
	exec_next(x);
}

static int
stats_read(struct rpc_exec *x, struct rpc_call *c)
{
	const cJSON	*rid = cJSON_GetObjectItemCaseSensitive(c->params, "returnee_id");
	cJSON		*p;
	char		*params, ctx[256];
	const char	*vals[6];

	c->stats_read = 1;
	if (!cJSON_IsString(rid) || (p = cJSON_CreateObject()) == NULL)
		return 0;
	cJSON_AddStringToObject(p, "returnee_id", rid->valuestring);
	params = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	if (params == NULL)
		return 0;
	/* the access is grant.apply's own, whose answer holds the name: none here */
	snprintf(ctx, sizeof(ctx), "{\"version\":\"%s\",\"request_id\":\"%s\","
	    "\"personal\":true,\"access\":false}", FUND_VERSION, x->reqid);
	vals[0] = x->auth.token_sha256[0] != '\0' ? x->auth.token_sha256 : NULL;
	vals[1] = x->auth.cert_sha256[0] != '\0' ? x->auth.cert_sha256 : NULL;
	vals[2] = "returnee.get";
	vals[3] = params;
	vals[4] = NULL;
	vals[5] = ctx;
	x->q = db_query(x->pool, Q_RPC, vals, 0, stats_result, x);
	free(params);
	return 1;
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
	const char	*vals[6];
	char		*params;
	struct rpc_call	*c;
	struct db_pool	*pool;
	char		 hash[67], ctx[512], years[32];

	if (!x->b->checked) {
		x->b->checked = 1;
		if (needs_check(x->b)) {
			vals[0] = x->auth.token_sha256[0] != '\0' ? x->auth.token_sha256 : NULL;
			vals[1] = x->auth.cert_sha256[0] != '\0' ? x->auth.cert_sha256 : NULL;
			vals[2] = "http.rpc";
			vals[3] = NULL;
			vals[4] = NULL;
			x->q = db_query(x->pool, Q_AUTHORIZE, vals, 0, check_result, x);
			return;
		}
	}
	for (; x->next < x->b->n; x->next++) {
		c = &x->b->calls[x->next];
		if (c->t0 == 0)
			c->t0 = now_usec();
		if (c->m != NULL && c->error == NULL && (c->m->flags & M_SEALS) && !c->sealed)
			seal_params(x, c);
		if (c->m != NULL && c->code == RPC_INVALID_PARAMS && !c->authorized) {
			c->authorized = 1;
			vals[0] = x->auth.token_sha256[0] != '\0' ? x->auth.token_sha256 : NULL;
			vals[1] = x->auth.cert_sha256[0] != '\0' ? x->auth.cert_sha256 : NULL;
			vals[2] = c->m->name;
			vals[3] = NULL;
			/* personal data is not even hashed into the audit trail as given */
			params = c->params != NULL && !(c->m->flags & M_SEALS) ?
			    cJSON_PrintUnformatted(c->params) : NULL;
			/* params that are not UTF-8 would fail the statement, and with it the
			 * credentials check: the refusal is audited without them */
			vals[4] = params != NULL && v_utf8(params, strlen(params)) == 0 ?
			    params : NULL;
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
		if (c->m->flags & M_LOCAL) {
			vals[0] = x->auth.token_sha256[0] != '\0' ? x->auth.token_sha256 : NULL;
			vals[1] = x->auth.cert_sha256[0] != '\0' ? x->auth.cert_sha256 : NULL;
			vals[2] = c->m->name;
			vals[3] = NULL;
			vals[4] = NULL;
			x->q = db_query(x->pool, Q_AUTHORIZE, vals, 0, local_result, x);
			return;
		}
		if ((c->m->flags & M_NEW_TOKEN) && c->token[0] == '\0' &&
		    auth_token_new(c->token, sizeof(c->token)) != 0) {
			rpc_set_error(c, RPC_INTERNAL_ERROR, "rng_failed", NULL);
			call_finish(x, c);
			continue;
		}
		if ((c->m->flags & M_STATS) && !c->stats_read && stats_read(x, c))
			return;
		/* ctx: request facts for the SQL method; every value here is [0-9a-f.-], or
		 * the statistics person_stats() wrote */
		if (c->m->flags & M_NEW_TOKEN)
			auth_sha256_bytea(c->token, strlen(c->token), hash);
		snprintf(years, sizeof(years), ",\"retention_years\":%d",
		    person_retention_years());
		snprintf(ctx, sizeof(ctx), "{\"version\":\"%s\",\"request_id\":\"%s\"%s%s%s%s%s%s%s}",
		    FUND_VERSION, x->reqid,
		    (c->m->flags & M_NEW_TOKEN) ? ",\"token_sha256\":\"" : "",
		    (c->m->flags & M_NEW_TOKEN) ? hash + 2 : "",
		    (c->m->flags & M_NEW_TOKEN) ? "\"" : "",
		    (c->m->flags & M_PERSONAL) ? ",\"personal\":true" : "",
		    c->stats[0] != '\0' ? ",\"stats\":" : "", c->stats,
		    (c->m->flags & M_RETENTION) ? years : "");
		params = cJSON_PrintUnformatted(c->params);
		vals[0] = x->auth.token_sha256[0] != '\0' ? x->auth.token_sha256 : NULL;
		vals[1] = x->auth.cert_sha256[0] != '\0' ? x->auth.cert_sha256 : NULL;
		vals[2] = c->m->name;
		vals[3] = params;
		vals[4] = c->idem;
		vals[5] = ctx;
		pool = x->pool;
		if (!(c->m->flags & M_MUTATES) && !c->primary_only &&
		    replica_pick(x->rep, &x->auth, c->consistent)) {
			pool = replica_pool(x->rep);
			c->on_replica = 1;
		}
		x->q = db_query(pool, Q_RPC, vals,
		    (c->m->flags & M_MUTATES) ? DB_Q_WRITE | DB_Q_BATCH : 0, exec_result, x);
		free(params);
		return;
	}
	event_active(x->ev_done, EV_TIMEOUT, 0);
}

struct rpc_exec *
rpc_exec_start(struct db_pool *pool, struct replica *rep, struct rpc_batch *b,
    const struct auth_creds *auth, const char *reqid, const char *peer, rpc_done_cb done,
    void *arg)
{
	struct rpc_exec	*x = xcalloc(1, sizeof(*x));

	x->pool = pool;
	x->rep = rep;
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
