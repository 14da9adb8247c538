/* h_export.c: the exports' routes: credentials, roles and query string (h_export.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "export.h"
#include "h_auth.h"
#include "h_export.h"
#include "http.h"
#include "http_parse.h"
#include "http_reply.h"
#include "util.h"
#include "validate.h"

/* "from"/"to": a date (midnight UTC) or an RFC 3339 UTC time. */
static int
when_ok(const char *v)
{
	const char	*reason;

	if (strlen(v) == 10)
		return v_date(v, &reason) == 0;
	return v_time(v, &reason) == 0;
}

/* The query string into spec; 0, or 400 with an allocated one-line *err. */
static int
parse_query(const char *query, struct export_spec *spec, char **err)
{
	const char	*p = query;
	char		 key[32], val[64];
	int		 got;

	while ((got = http_query_next(&p, key, sizeof(key), val, sizeof(val))) != 0) {
		if (got == -1) {
			*err = xstrdup("bad query string\n");
			return 400;
		}
		if (strcmp(key, "consistent") == 0 && (strcmp(val, "true") == 0 ||
		    strcmp(val, "false") == 0))
			spec->consistent = val[0] == 't';
		else if (spec->kind == EXPORT_AUDIT) {
			if (strcmp(key, "format") != 0 || strcmp(val, "jsonl") != 0) {
				*err = xasprintf("bad query parameter '%s': the audit export "
				    "takes format=jsonl and consistent=true|false only\n", key);
				return 400;
			}
		} else if (strcmp(key, "format") == 0 && (strcmp(val, "csv") == 0 ||
		    strcmp(val, "jsonl") == 0))
			spec->csv = val[0] == 'c';
		else if (strcmp(key, "basis") == 0 && (strcmp(val, "value") == 0 ||
		    strcmp(val, "recorded") == 0))
			spec->recorded = val[0] == 'r';
		else if (strcmp(key, "from") == 0 && when_ok(val))
			snprintf(spec->from, sizeof(spec->from), "%s", val);
		else if (strcmp(key, "to") == 0 && when_ok(val))
			snprintf(spec->to, sizeof(spec->to), "%s", val);
		else {
			*err = xasprintf("bad query parameter '%s': format=csv|jsonl, from and "
			    "to a date (YYYY-MM-DD) or an RFC 3339 UTC time, basis=value|recorded, "
			    "consistent=true|false\n", key);
			return 400;
		}
	}
	return 0;
}

static void
start(struct http_req *r, enum export_kind kind)
{
	struct export_spec	 spec;
	char			*err = NULL;
	int			 status;

	memset(&spec, 0, sizeof(spec));
	spec.kind = kind;
	spec.csv = kind == EXPORT_LEDGER;
	if ((status = parse_query(http_req_query(r), &spec, &err)) == 0 &&
	    (status = export_start(r, &spec, http_req_cfg(r)->dsn, &err)) == 0)
		return;
	http_refuse(r, status, err);
	free(err);
}

static void
start_ledger(struct http_req *r)
{
	start(r, EXPORT_LEDGER);
}

static void
start_audit(struct http_req *r)
{
	start(r, EXPORT_AUDIT);
}

void
h_export_ledger(struct http_req *r)
{
	h_auth_require(r, "http.export_ledger", 1, start_ledger);
}

void
h_export_audit(struct http_req *r)
{
	h_auth_require(r, "http.export_audit", 1, start_audit);
}
