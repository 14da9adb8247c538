/*
 * h_document.c: POST /documents and GET /documents/{id} (h_document.h). A document is a
 * PDF, PNG or JPEG as its first bytes say, whatever its name; the request's Content-Type
 * must say the same. Each request is one round trip: api.document_upload() stores it
 * with its SHA-256 (admins; idempotent by the Idempotency-Key header), and
 * api.document_download() reads it back for admins, approvers and auditors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "db_pool.h"
#include "h_auth.h"
#include "h_document.h"
#include "http.h"
#include "http_parse.h"
#include "http_reply.h"
#include "queries.h"
#include "replica.h"
#include "rpc_error.h"
#include "util.h"
#include "validate.h"

#define DOCUMENTS_PREFIX	"/documents/"

struct h_doc {
	struct http_req		*r;
	struct db_query		*q;
};

static void
h_doc_free(void *arg)
{
	struct h_doc	*s = arg;

	if (s->q != NULL)
		db_cancel(s->q);
	free(s);
}

/* What the bytes are: a PDF, a PNG or a JPEG by their signature, or NULL. */
static const char *
sniff(const unsigned char *b, size_t n)
{
	if (n >= 5 && memcmp(b, "%PDF-", 5) == 0)
		return "application/pdf";
	if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 3 && memcmp(b, "\xff\xd8\xff", 3) == 0)
		return "image/jpeg";
	return NULL;
}

/* The media type of a Content-Type value equals type (parameters and case aside). */
static int
same_type(const char *value, const char *type)
{
	size_t	n = strcspn(value, "; \t");

	return n == strlen(type) && strncasecmp(value, type, n) == 0;
}

/* Answer r with the error object e ({code, message, data}) as a JSON-RPC error body. */
static void
reply_error(struct http_req *r, const cJSON *e)
{
	const cJSON	*code = cJSON_GetObjectItemCaseSensitive(e, "code");
	cJSON		*o = cJSON_CreateObject();
	char		*body;
	int		 c = cJSON_IsNumber(code) ? code->valueint : RPC_INTERNAL_ERROR;

	cJSON_AddStringToObject(o, "jsonrpc", "2.0");
	cJSON_AddItemToObject(o, "error", cJSON_Duplicate(e, 1));
	cJSON_AddNullToObject(o, "id");
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (c != RPC_UNAUTHENTICATED)
		http_req_authenticated(r);
	http_reply(r, rpc_error_http_status(c), "application/json", body != NULL ? body : "",
	    body != NULL ? strlen(body) : 0, c == RPC_UNAUTHENTICATED ?
	    "WWW-Authenticate: Bearer realm=\"fundd\"\r\n" : NULL);
	cJSON_free(body);
}

/* The database's answer {"result": ...} or {"error": ...}, parsed; NULL (and r answered
 * 503 or 500) when there is none. */
static cJSON *
answer_of(struct http_req *r, enum db_status st, const PGresult *res)
{
	cJSON	*a;

	if (st != DB_OK) {
		http_reply_text(r, 503, "the database is unavailable\n", "Retry-After: 1\r\n");
		return NULL;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    (a = cJSON_Parse(PQgetvalue(res, 0, 0))) == NULL) {
		http_reply_text(r, PQresultStatus(res) == PGRES_FATAL_ERROR ? 503 : 500,
		    "the document could not be handled\n", NULL);
		return NULL;
	}
	return a;
}

/* The database's answer when it is a result (the credentials then found good); NULL
 * when r was answered already: its error, or 503 or 500. */
static cJSON *
result_of(struct http_req *r, enum db_status st, const PGresult *res)
{
	cJSON	*a, *e;

	if ((a = answer_of(r, st, res)) == NULL)
		return NULL;
	if ((e = cJSON_GetObjectItemCaseSensitive(a, "error")) != NULL) {
		reply_error(r, e);
		cJSON_Delete(a);
		return NULL;
	}
	http_req_authenticated(r);
	return a;
}

static void
put_result(void *arg, enum db_status st, const PGresult *res)
{
	struct h_doc		*s = arg;
	const struct auth_creds	*cr;
	cJSON			*a, *out;
	char			*body, extra[128];
	const char		*id;

	s->q = NULL;
	if (st == DB_OK || st == DB_LOST) {
		/* the uploader's reads wait for the standby to replay it (replica.h) */
		(void)http_req_creds(s->r, &cr);
		replica_wrote(cr);
	}
	if ((a = result_of(s->r, st, res)) == NULL)
		return;
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "result", cJSON_DetachItemFromObjectCaseSensitive(a,
	    "result"));
	body = cJSON_PrintUnformatted(out);
	id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(out, "result"), "document_id"));
	snprintf(extra, sizeof(extra), "Location: %s%s\r\n", DOCUMENTS_PREFIX,
	    id != NULL ? id : "");
	http_reply(s->r, 201, "application/json", body, strlen(body), extra);
	cJSON_free(body);
	cJSON_Delete(out);
	cJSON_Delete(a);
}

/* filename= and supersedes= of the query string; 0, or 400 with an allocated *err. */
static int
put_query(const char *query, char *filename, size_t flen, char *supersedes, size_t slen,
    char **err)
{
	const char	*p = query, *reason;
	char		 key[32], val[1024];
	int		 got;

	while ((got = http_query_next(&p, key, sizeof(key), val, sizeof(val))) != 0) {
		if (got == -1) {
			*err = xstrdup("bad query string\n");
			return 400;
		}
		if (strcmp(key, "filename") == 0 && filename[0] == '\0' &&
		    v_text(val, 255, &reason) == 0)
			snprintf(filename, flen, "%s", val);
		else if (strcmp(key, "supersedes") == 0 && supersedes[0] == '\0' &&
		    v_id(val, &reason) == 0)
			snprintf(supersedes, slen, "%.127s", val);
		else {
			*err = xasprintf("bad query parameter '%s': filename (text up to 255 "
			    "characters) and supersedes (a document's id), each once\n", key);
			return 400;
		}
	}
	return 0;
}

static void
put_start(struct http_req *r)
{
	const struct http_head	*h = http_req_head(r);
	const struct auth_creds	*cr;
	const unsigned char	*b;
	const char		*type, *vals[7], *reason;
	char			 filename[1024] = "", supersedes[128] = "", *hex, *err = NULL;
	struct h_doc		*s;
	size_t			 n;
	int			 status;

	b = (const unsigned char *)http_req_body(r, &n);
	if ((type = sniff(b, n)) == NULL) {
		http_refuse(r, 415, "a document is a PDF, a PNG or a JPEG (by its content)\n");
		return;
	}
	if (!same_type(h->content_type, type)) {
		err = xasprintf("the content is %s: send it with Content-Type: %s\n", type,
		    type);
		http_refuse(r, 415, err);
		free(err);
		return;
	}
	if (h->idem_too_long || (h->idempotency_key[0] != '\0' &&
	    v_idempotency_key(h->idempotency_key, &reason) != 0)) {
		http_refuse(r, 400, "bad Idempotency-Key\n");
		return;
	}
	if ((status = put_query(http_req_query(r), filename, sizeof(filename), supersedes,
	    sizeof(supersedes), &err)) != 0) {
		http_refuse(r, status, err);
		free(err);
		return;
	}
	hex = xmalloc(2 * n + 3);
	memcpy(hex, "\\x", 2);
	hex_encode(b, n, hex + 2);
	s = xcalloc(1, sizeof(*s));
	s->r = r;
	http_req_hold(r, s, h_doc_free);
	(void)http_req_creds(r, &cr);
	vals[0] = cr->token_sha256[0] != '\0' ? cr->token_sha256 : NULL;
	vals[1] = cr->cert_sha256[0] != '\0' ? cr->cert_sha256 : NULL;
	vals[2] = type;
	vals[3] = hex;
	vals[4] = filename[0] != '\0' ? filename : NULL;
	vals[5] = supersedes[0] != '\0' ? supersedes : NULL;
	vals[6] = h->idempotency_key[0] != '\0' ? h->idempotency_key : NULL;
	s->q = db_query(http_req_pool(r), Q_DOCUMENT_UPLOAD, vals, DB_Q_WRITE, put_result, s);
	free(hex);
}

static void
get_result(void *arg, enum db_status st, const PGresult *res)
{
	struct h_doc	*s = arg;
	cJSON		*a, *doc;
	const char	*type, *name;
	unsigned char	*bytes;
	size_t		 n;
	char		 extra[512], safe[256];
	size_t		 i, o = 0;

	s->q = NULL;
	if ((a = result_of(s->r, st, res)) == NULL)
		return;
	doc = cJSON_GetObjectItemCaseSensitive(a, "result");
	type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "content_type"));
	name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "filename"));
	if (name == NULL)
		name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc,
		    "document_id"));
	/* the name in the header: printable ASCII but quotes and backslashes */
	for (i = 0; name != NULL && name[i] != '\0' && o + 1 < sizeof(safe); i++)
		safe[o++] = name[i] >= 0x20 && name[i] < 0x7f && name[i] != '"' &&
		    name[i] != '\\' ? name[i] : '_';
	safe[o] = '\0';
	bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 1), &n);
	if (type == NULL || bytes == NULL) {
		http_reply_text(s->r, 500, "the document could not be read\n", NULL);
	} else {
		snprintf(extra, sizeof(extra), "Content-Disposition: attachment; "
		    "filename=\"%s\"\r\nCache-Control: private, no-store\r\n", safe);
		http_reply(s->r, 200, type, (const char *)bytes, n, extra);
	}
	PQfreemem(bytes);
	cJSON_Delete(a);
}

static void
get_start(struct http_req *r)
{
	const struct auth_creds	*cr;
	const char		*vals[3];
	struct h_doc		*s = xcalloc(1, sizeof(*s));

	s->r = r;
	http_req_hold(r, s, h_doc_free);
	(void)http_req_creds(r, &cr);
	vals[0] = cr->token_sha256[0] != '\0' ? cr->token_sha256 : NULL;
	vals[1] = cr->cert_sha256[0] != '\0' ? cr->cert_sha256 : NULL;
	vals[2] = http_req_path(r) + strlen(DOCUMENTS_PREFIX);
	s->q = db_query(http_req_pool(r), Q_DOCUMENT_DOWNLOAD, vals, 0, get_result, s);
}

void
h_document_put(struct http_req *r)
{
	h_auth_require(r, "http.document_put", 0, put_start);
}

void
h_document_get(struct http_req *r)
{
	const char	*reason;

	if (v_id(http_req_path(r) + strlen(DOCUMENTS_PREFIX), &reason) != 0) {
		http_reply_text(r, 404, "not found\n", NULL);
		return;
	}
	h_auth_require(r, "http.document_get", 0, get_start);
}
