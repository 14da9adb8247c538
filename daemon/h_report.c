/*
 * h_report.c: GET /export/report (h_report.h). The query string becomes the params of a
 * report.<name> call, which runs as JSON-RPC would run it (rpc_exec.h: the same
 * credentials, roles, validation and partner rules); its answer is written as CSV on the
 * loop, or as XLSX on a thread of its own, since libxlsxwriter writes through files.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "h_auth.h"
#include "h_report.h"
#include "http.h"
#include "http_parse.h"
#include "http_reply.h"
#include "log.h"
#include "report_out.h"
#include "rpc.h"
#include "rpc_error.h"
#include "rpc_exec.h"
#include "util.h"

#define XLSX_TYPE \
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

struct h_report;

/* An XLSX being written: the thread's and the request's, freed by whichever lets go
 * last. */
struct xjob {
	pthread_mutex_t	 mtx;
	int		 refs;
	struct h_report	*s;		/* NULL once the request ended */
	struct event	*ev;		/* on the request's loop: the workbook is written */
	cJSON		*rep;
	char		*tmpdir;
	unsigned char	*out;
	size_t		 len;
	int		 rc;
};

struct h_report {
	struct http_req		*r;
	struct rpc_batch	*b;
	struct rpc_exec		*x;
	struct xjob		*job;
	int			 xlsx;
	char			 name[16];
};

static void
xjob_unref(struct xjob *j)
{
	int	n;

	pthread_mutex_lock(&j->mtx);
	n = --j->refs;
	pthread_mutex_unlock(&j->mtx);
	if (n > 0)
		return;
	event_free(j->ev);
	cJSON_Delete(j->rep);
	free(j->tmpdir);
	free(j->out);
	pthread_mutex_destroy(&j->mtx);
	free(j);
}

static void
h_report_free(void *arg)
{
	struct h_report	*s = arg;

	if (s->job != NULL) {
		pthread_mutex_lock(&s->job->mtx);
		s->job->s = NULL;
		pthread_mutex_unlock(&s->job->mtx);
		xjob_unref(s->job);
	}
	rpc_exec_free(s->x);
	rpc_batch_free(s->b);
	free(s);
}

static void
reply_file(struct h_report *s, const char *ctype, const char *ext, const void *body,
    size_t len)
{
	char	extra[160];

	snprintf(extra, sizeof(extra), "Content-Disposition: attachment; "
	    "filename=\"report-%s.%s\"\r\nCache-Control: no-store\r\n", s->name, ext);
	http_reply(s->r, 200, ctype, body, len, extra);
}

/* On the request's loop: the thread wrote the workbook (or failed). */
static void
xjob_done(evutil_socket_t fd, short what, void *arg)
{
	struct xjob	*j = arg;
	struct h_report	*s;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&j->mtx);
	s = j->s;
	pthread_mutex_unlock(&j->mtx);
	if (s == NULL)
		return;
	if (j->rc != 0) {
		log_msg(LOG_ERROR, http_req_peer(s->r), http_req_id(s->r),
		    "report %s: cannot write the workbook", s->name);
		http_reply_text(s->r, 500, "cannot write the workbook\n", NULL);
		return;
	}
	/* the reply ends the request, whose state then lets go of j */
	reply_file(s, XLSX_TYPE, "xlsx", j->out, j->len);
}

static void *
xjob_run(void *arg)
{
	struct xjob	*j = arg;

	j->rc = report_xlsx(j->rep, j->tmpdir, &j->out, &j->len);
	pthread_mutex_lock(&j->mtx);
	if (j->s != NULL)
		event_active(j->ev, EV_TIMEOUT, 0);
	pthread_mutex_unlock(&j->mtx);
	xjob_unref(j);
	return NULL;
}

static void
start_xlsx(struct h_report *s, const cJSON *rep)
{
	struct xjob	*j = xcalloc(1, sizeof(*j));
	const char	*tmp = getenv("TMPDIR");
	pthread_attr_t	 attr;
	pthread_t	 t;

	pthread_mutex_init(&j->mtx, NULL);
	j->refs = 2;
	j->s = s;
	j->ev = event_new(http_req_base(s->r), -1, 0, xjob_done, j);
	j->rep = cJSON_Duplicate(rep, 1);
	j->tmpdir = xstrdup(tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	s->job = j;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (j->rep == NULL || pthread_create(&t, &attr, xjob_run, j) != 0) {
		j->refs = 1;
		pthread_attr_destroy(&attr);
		http_reply_text(s->r, 503, "cannot write the workbook now\n",
		    "Retry-After: 1\r\n");
		return;
	}
	pthread_attr_destroy(&attr);
}

static void
report_done(void *arg)
{
	struct h_report	*s = arg;
	struct rpc_call	*c = &s->b->calls[0];
	char		*body;
	size_t		 len;
	int		 status;

	if (s->b->authenticated)
		http_req_authenticated(s->r);
	if (c->result == NULL) {
		body = rpc_render(s->b, &status);
		http_reply(s->r, rpc_error_http_status(c->code), "application/json",
		    body != NULL ? body : "", body != NULL ? strlen(body) : 0,
		    c->code == RPC_UNAUTHENTICATED ?
		    "WWW-Authenticate: Bearer realm=\"fundd\"\r\n" : NULL);
		free(body);
		return;
	}
	if (s->xlsx) {
		start_xlsx(s, c->result);
		return;
	}
	if ((body = report_csv(c->result, &len)) == NULL) {
		http_reply_text(s->r, 500, "not a report\n", NULL);
		return;
	}
	reply_file(s, "text/csv; charset=utf-8", "csv", body, len);
	free(body);
}

/* The query string as a report.<name> call: name, format, by (comma-separated), and
 * every other key as a param; 0, or 400 with an allocated *err. */
static int
parse_query(const char *query, struct h_report *s, cJSON *params, char **err)
{
	const char	*p = query;
	char		 key[32], val[256], *tok, *save;
	cJSON		*by;
	int		 got;

	while ((got = http_query_next(&p, key, sizeof(key), val, sizeof(val))) != 0) {
		if (got == -1) {
			*err = xstrdup("bad query string\n");
			return 400;
		}
		if (cJSON_GetObjectItemCaseSensitive(params, key) != NULL ||
		    (strcmp(key, "name") == 0 && s->name[0] != '\0')) {
			*err = xasprintf("query parameter '%s' given twice\n", key);
			return 400;
		}
		if (strcmp(key, "name") == 0) {
			if (strcmp(val, "grants") != 0 && strcmp(val, "contributions") != 0 &&
			    strcmp(val, "pipeline") != 0) {
				*err = xstrdup("name: grants, contributions or pipeline\n");
				return 400;
			}
			snprintf(s->name, sizeof(s->name), "%.15s", val);
		} else if (strcmp(key, "format") == 0) {
			if (strcmp(val, "csv") != 0 && strcmp(val, "xlsx") != 0) {
				*err = xstrdup("format: csv or xlsx\n");
				return 400;
			}
			s->xlsx = val[0] == 'x';
		} else if (strcmp(key, "by") == 0) {
			by = cJSON_AddArrayToObject(params, "by");
			for (tok = strtok_r(val, ",", &save); tok != NULL;
			    tok = strtok_r(NULL, ",", &save))
				cJSON_AddItemToArray(by, cJSON_CreateString(tok));
		} else if (strcmp(key, "consistent") == 0 && (strcmp(val, "true") == 0 ||
		    strcmp(val, "false") == 0))
			cJSON_AddBoolToObject(params, key, val[0] == 't');
		else
			cJSON_AddStringToObject(params, key, val);
	}
	if (s->name[0] == '\0') {
		*err = xstrdup("name: grants, contributions or pipeline\n");
		return 400;
	}
	return 0;
}

static void
report_start(struct http_req *r)
{
	const struct auth_creds	*cr;
	struct h_report		*s = xcalloc(1, sizeof(*s));
	cJSON			*req = cJSON_CreateObject(), *params;
	char			*err = NULL, *body, method[48];
	int			 status;

	s->r = r;
	http_req_hold(r, s, h_report_free);
	params = cJSON_AddObjectToObject(req, "params");
	if ((status = parse_query(http_req_query(r), s, params, &err)) != 0) {
		cJSON_Delete(req);
		http_refuse(r, status, err);
		free(err);
		return;
	}
	snprintf(method, sizeof(method), "report.%s", s->name);
	cJSON_AddStringToObject(req, "jsonrpc", "2.0");
	cJSON_AddStringToObject(req, "method", method);
	cJSON_AddNumberToObject(req, "id", 1);
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	s->b = rpc_parse(body, body != NULL ? strlen(body) : 0);
	cJSON_free(body);
	(void)http_req_creds(r, &cr);
	s->x = rpc_exec_start(http_req_pool(r), http_req_replica(r), s->b, cr,
	    http_req_id(r), http_req_peer(r), report_done, s);
}

void
h_export_report(struct http_req *r)
{
	h_auth_require(r, "http.export_report", 0, report_start);
}
