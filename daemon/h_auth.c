/* h_auth.c: credentials and roles of requests, through api.authorize() (h_auth.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "db_pool.h"
#include "h_auth.h"
#include "http.h"
#include "http_reply.h"
#include "log.h"
#include "queries.h"
#include "rpc_error.h"
#include "util.h"

/* A check under way; the request holds it. */
struct h_auth {
	struct http_req		*r;
	struct db_query		*q;
	const char		*what;
	const char		*refusal;	/* no usable credentials: why */
	void			(*next)(struct http_req *);
};

static void
h_auth_free(void *arg)
{
	struct h_auth	*a = arg;

	if (a->q != NULL)
		db_cancel(a->q);
	free(a);
}

static void
reply_rpc_error(struct http_req *r, int status, int code, const char *reason)
{
	char	*body;

	body = xasprintf("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":%d,\"message\":\"%s\","
	    "\"data\":{\"reason\":\"%s\"}},\"id\":null}", code, rpc_error_message(code),
	    reason);
	http_reply(r, status, "application/json", body, strlen(body),
	    status == 401 ? "WWW-Authenticate: Bearer realm=\"fundd\"\r\n" : NULL);
	free(body);
}

/* The answer of api.authorize: {"principal": ...} or {"error": {code, ...}}. Returns the
 * JSON-RPC error code (0 when authorised), and the reason of a refusal. */
static int
authorize_result(enum db_status st, const PGresult *res, char *reason, size_t rlen)
{
	cJSON		*o, *e, *code, *rs;
	int		 rc = RPC_DB_UNAVAILABLE;

	snprintf(reason, rlen, "database_unavailable");
	if (st != DB_OK || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    (o = cJSON_Parse(PQgetvalue(res, 0, 0))) == NULL)
		return rc;
	rc = RPC_OK;
	if ((e = cJSON_GetObjectItemCaseSensitive(o, "error")) != NULL) {
		code = cJSON_GetObjectItemCaseSensitive(e, "code");
		rs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e,
		    "data"), "reason");
		rc = cJSON_IsNumber(code) ? code->valueint : RPC_INTERNAL_ERROR;
		snprintf(reason, rlen, "%s", cJSON_IsString(rs) ? rs->valuestring : "refused");
	}
	cJSON_Delete(o);
	return rc;
}

/* Authorised (or refused, and the refusal audited) in SQL. */
static void
roles_result(void *arg, enum db_status st, const PGresult *res)
{
	struct h_auth	*a = arg;
	char		 reason[64];
	int		 code;

	a->q = NULL;
	switch ((code = authorize_result(st, res, reason, sizeof(reason)))) {
	case RPC_OK:
		http_req_authenticated(a->r);
		a->next(a->r);
		return;
	case RPC_UNAUTHENTICATED:
		reply_rpc_error(a->r, 401, code, reason);
		return;
	case RPC_FORBIDDEN:
		http_req_authenticated(a->r);
		reply_rpc_error(a->r, 403, code, reason);
		return;
	case RPC_DB_UNAVAILABLE:
		reply_rpc_error(a->r, 503, code, reason);
		return;
	default:
		reply_rpc_error(a->r, 500, RPC_INTERNAL_ERROR, "internal_error");
		return;
	}
}

/* No usable credentials: 401 once the refusal is audited (or the database could not
 * take it; the log has it then). */
static void
refusal_result(void *arg, enum db_status st, const PGresult *res)
{
	struct h_auth	*a = arg;
	char		 reason[64];

	a->q = NULL;
	if (authorize_result(st, res, reason, sizeof(reason)) != RPC_UNAUTHENTICATED) {
		log_msg(LOG_WARN, http_req_peer(a->r), http_req_id(a->r),
		    "refused %s not audited: %s", a->what, reason);
		snprintf(reason, sizeof(reason), "%s", a->refusal);
	}
	reply_rpc_error(a->r, 401, RPC_UNAUTHENTICATED, reason);
}

void
h_auth_require(struct http_req *r, const char *what, int check_roles,
    void (*next)(struct http_req *))
{
	const struct auth_creds	*cr;
	struct h_auth		*a;
	const char		*vals[5], *refusal = NULL;

	switch (http_req_creds(r, &cr)) {
	case HTTP_CREDS_OK:
		if (!check_roles) {
			next(r);
			return;
		}
		break;
	case HTTP_CREDS_BAD:
		refusal = "bad_authorization_header";
		break;
	case HTTP_CREDS_NONE:
		refusal = "no_credentials";
		break;
	}
	a = xcalloc(1, sizeof(*a));
	a->r = r;
	a->what = what;
	a->refusal = refusal;
	a->next = next;
	http_req_hold(r, a, h_auth_free);
	vals[0] = cr->token_sha256[0] != '\0' ? cr->token_sha256 : NULL;
	vals[1] = cr->cert_sha256[0] != '\0' ? cr->cert_sha256 : NULL;
	vals[2] = what;
	vals[3] = refusal;
	vals[4] = NULL;
	a->q = db_query(http_req_pool(r), Q_AUTHORIZE, vals, 0, refusal != NULL ?
	    refusal_result : roles_result, a);
}
