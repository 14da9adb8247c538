/*
 * fundctl.c: command line of fundctl, the thin client of fundd.
 *
 *	fundctl [options] call METHOD [name=value | name:=JSON ...]
 *	fundctl [options] export ledger --format csv|jsonl [--from D] [--to D]
 *	    [--basis value|recorded]
 *	fundctl [options] export audit [--format jsonl]
 *	fundctl [options] ledger trial-balance [--fund F] [--currency C]
 *	    [--as-of D | --from D --to D] [--basis value|recorded]
 *	fundctl audit verify FILE|- --pubkey KEY
 *	fundctl [options] ledger export-close PERIOD_ID FILE [--pubkey KEY]
 *	fundctl ledger verify FILE --pubkey KEY
 *
 * Connection settings come from options, else from FUNDCTL_* environment
 * variables, else from defaults. Exit 0 on success, 1 on a JSON-RPC error
 * (or HTTP 401/403), 2 on usage or transport errors, with one line on
 * stderr. The bearer token is never printed, and is scrubbed from argv.
 *
 * `audit verify` works offline (fundctl_audit.c, audit_verify.c): it
 * prints "ok: ..." on stdout and exits 0, or prints "FAIL: line N: ..." on
 * stderr and exits 1; 2 when it cannot read the file or the key.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <cjson/cJSON.h>

#include "fundctl.h"
#include "fundctl_audit.h"
#include "fundctl_close.h"
#include "fundctl_http.h"
#include "fundctl_ledger.h"
#include "fundctl_net.h"
#include "fundctl_out.h"
#include "fundctl_rpc.h"

#define EXPORT_ERRBODY_MAX	65536	/* body of a failed export, shown */

enum opt_id {
	O_URL, O_TOKEN, O_CERT, O_KEY, O_CACERT, O_TIMEOUT,	/* connection */
	O_IDEM,							/* call */
	O_FORMAT, O_FROM, O_TO, O_BASIS,			/* export, ledger */
	O_ASOF, O_FUND, O_CURRENCY,				/* ledger */
	O_PUBKEY,						/* audit verify */
	O_OUTPUT,						/* call, batch */
	O_SUPERSEDES,						/* document put */
	O_HELP, O_VERSION,
	O__COUNT
};

static const struct optdef {
	const char	*name;
	enum opt_id	 id;
	int		 has_arg;
} optdefs[] = {
	{ "--url",		O_URL,		1 },
	{ "--token",		O_TOKEN,	1 },
	{ "--cert",		O_CERT,		1 },
	{ "--key",		O_KEY,		1 },
	{ "--cacert",		O_CACERT,	1 },
	{ "--timeout",		O_TIMEOUT,	1 },
	{ "--idempotency-key",	O_IDEM,		1 },
	{ "--format",		O_FORMAT,	1 },
	{ "--from",		O_FROM,		1 },
	{ "--to",		O_TO,		1 },
	{ "--basis",		O_BASIS,	1 },
	{ "--as-of",		O_ASOF,		1 },
	{ "--fund",		O_FUND,		1 },
	{ "--currency",		O_CURRENCY,	1 },
	{ "--pubkey",		O_PUBKEY,	1 },
	{ "--output",		O_OUTPUT,	1 },
	{ "--supersedes",	O_SUPERSEDES,	1 },
	{ "-o",			O_OUTPUT,	1 },
	{ "--help",		O_HELP,		0 },
	{ "-h",			O_HELP,		0 },
	{ "--version",		O_VERSION,	0 },
	{ "-V",			O_VERSION,	0 },
};

struct args {
	const char	*val[O__COUNT];	/* option values; "" for flags */
	char		*token;		/* our copy of --token, wiped at exit */
	char		**pos;		/* positional arguments */
	int		 npos;
};

/* Resolved connection settings. */
struct conf {
	struct fc_url		 url;
	struct fc_tls_opts	 tls;
	const char		*token;
	int			 timeout_s;
};

static long	next_request_id = 1;

static void
usage(FILE *f)
{
	fputs(
"usage: fundctl [options] call METHOD [name=value | name:=JSON ...]\n"
"       fundctl [options] call METHOD [-] < params.json\n"
"       fundctl [options] batch < calls.json\n"
"       fundctl [options] methods | help METHOD\n"
"       fundctl [options] document put FILE [--supersedes ID] | get ID FILE|-\n"
"       fundctl [options] export ledger --format csv|jsonl [--from DATE] [--to DATE]\n"
"           [--basis value|recorded]\n"
"       fundctl [options] export audit [--format jsonl]\n"
"       fundctl [options] ledger trial-balance [--fund F] [--currency C]\n"
"                 [--as-of DATE | --from DATE --to DATE] [--basis recorded]\n"
"       fundctl audit verify FILE|- --pubkey KEY\n"
"       fundctl [options] ledger export-close PERIOD_ID FILE [--pubkey KEY]\n"
"       fundctl ledger verify FILE --pubkey KEY\n"
"       fundctl --help | --version\n"
"\n"
"Calls a method of the fundd JSON-RPC API and prints its result as JSON,\n"
"streams an export to stdout, prints a view of the ledger, or verifies an\n"
"audit export offline.\n"
"\n"
"Parameters of call:\n"
"  name=value          a string (money too: amount=12.50 sends \"12.50\")\n"
"  name:=JSON          a JSON value: limit:=10 roles:='[\"admin\"]' note:=null\n"
"  -                   read a JSON params object from stdin; this is the\n"
"                      default when no parameters are given and stdin is\n"
"                      not a terminal (empty input means no params; input\n"
"                      that has not begun within --timeout is an error)\n"
"  --idempotency-key K set params.idempotency_key; without it (or one among the\n"
"                      params) a mutation gets a fresh key, printed on stderr:\n"
"                      repeat the command with it to retry safely (nothing is\n"
"                      recorded twice)\n"
"  -o, --output json|table|csv\n"
"                      the result as JSON (the default), as a table (lists:\n"
"                      ids first, money right-aligned beside its currency) or\n"
"                      as CSV\n"
"\n"
"batch sends the calls on stdin, a JSON array of {\"method\", \"params\"} or one\n"
"such object per line (at most 100), as one JSON-RPC batch, and prints each\n"
"answer in order; a mutation without an idempotency_key gets KEY-N (N its\n"
"place), KEY being --idempotency-key or a fresh one printed on stderr.\n"
"document put stores a PDF, PNG or JPEG (an admin) and prints it; document get\n"
"saves one (admins, approvers, auditors) in FILE, or - for stdout.\n"
"methods lists every method (roles, mutation) and help METHOD tells one's\n"
"params, answer and errors, both from the daemon's rpc.discover.\n"
"\n"
"Options of export:\n"
"  --format csv|jsonl  --from YYYY-MM-DD  --to YYYY-MM-DD (ledger only)\n"
"  --basis value|recorded  from and to select by value date (the default)\n"
"                      or by the time entries were recorded (ledger only)\n"
"\n"
"ledger trial-balance prints ledger.trial_balance as a table: per account\n"
"the opening balance, debit and credit turnover and closing balance (Dr or\n"
"Cr), then the totals of each currency. By value date; --basis recorded\n"
"selects by recording time. --as-of D: everything up to D (inclusive);\n"
"--from D --to D: the period from D to D (excluded), either bound alone.\n"
"A DATE is YYYY-MM-DD (midnight UTC) or YYYY-MM-DDTHH:MM:SSZ.\n"
"\n"
"audit verify checks an export of the audit trail (FILE, or - for stdin)\n"
"without the daemon: every event's hash, the chain of prev_hash links, and\n"
"the signature of every checkpoint under KEY (a PEM Ed25519 public key,\n"
"or the private key). It prints \"ok: N events ...\" on stdout, or\n"
"\"FAIL: line N: what is wrong\" on stderr and exits 1.\n"
"\n"
"ledger export-close saves the CSV of the closed range of a confirmed\n"
"close of a period in FILE and its proof in FILE.close.json, and checks\n"
"them; ledger verify checks them again, offline, against KEY: key 1, from\n"
"which the proof's key lines lead to the key that signed it, or that key.\n"
"It prints \"ok: ...\" on stdout, or \"FAIL: FILE: what is wrong\" on stderr\n"
"and exits 1.\n"
"\n"
"Connection (each falls back to an environment variable):\n"
"  --url URL           https://host[:port] or https://[v6addr]:port; a path\n"
"                      is ignored (FUNDCTL_URL, default " FC_DEFAULT_URL ")\n"
"  --token TOKEN       bearer token (FUNDCTL_TOKEN; prefer the variable,\n"
"                      a command line is visible to other local users)\n"
"  --cert FILE         client certificate chain, PEM (FUNDCTL_CERT)\n"
"  --key FILE          its private key, PEM (FUNDCTL_KEY with FUNDCTL_CERT;\n"
"                      default: the certificate file)\n"
"  --cacert FILE|DIR   CA certificates to trust the server by (FUNDCTL_CACERT;\n"
"                      default: the system store)\n"
"  --timeout SECONDS   socket timeout; for call also the limit on the whole\n"
"                      exchange (default 30)\n"
"  A token and a client certificate are alternatives; options override\n"
"  the environment as a whole.\n"
"\n"
"Exit status: 0 success; 1 JSON-RPC error, printed on stderr as\n"
"\"error CODE REASON: MESSAGE field=NAME\", or HTTP 401/403, or an audit\n"
"export that does not verify; 2 usage or transport error, or a file or key\n"
"that cannot be read.\n", f);
}

/* Command line */

/* Set *cause and return FC_EXIT_FAIL, for argument mistakes. */
static int FC_PRINTF(2, 3)
usage_fail(char **cause, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	*cause = xvprintf(fmt, ap);
	va_end(ap);
	return FC_EXIT_FAIL;
}

static int
parse_args(int argc, char **argv, struct args *a, char **cause)
{
	const struct optdef	*d;
	char			*s, *eq, *val;
	size_t			 nlen, i;
	int			 k, dashdash = 0;

	a->pos = xmalloc(sizeof *a->pos * (size_t)(argc > 0 ? argc : 1));
	for (k = 1; k < argc; k++) {
		s = argv[k];
		if (!dashdash && strcmp(s, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (dashdash || s[0] != '-' || s[1] == '\0') {
			a->pos[a->npos++] = s;
			continue;
		}
		eq = s[1] == '-' ? strchr(s, '=') : NULL;
		nlen = eq != NULL ? (size_t)(eq - s) : strlen(s);
		d = NULL;
		for (i = 0; i < sizeof optdefs / sizeof optdefs[0]; i++)
			if (strlen(optdefs[i].name) == nlen &&
			    strncmp(optdefs[i].name, s, nlen) == 0)
				d = &optdefs[i];
		if (d == NULL)
			return fc_cause(cause, "unknown option '%.*s'",
			    (int)nlen, s);
		if (!d->has_arg) {
			if (eq != NULL)
				return fc_cause(cause, "option %s takes no "
				    "value", d->name);
			a->val[d->id] = "";
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (k + 1 < argc)
			val = argv[++k];
		else
			return fc_cause(cause, "option %s needs a value",
			    d->name);
		if (d->id == O_TOKEN) {
			/* Keep a copy; hide it from ps and /proc/PID/cmdline. */
			if (a->token != NULL) {
				OPENSSL_cleanse(a->token, strlen(a->token));
				free(a->token);
			}
			a->token = xstrdup(val);
			memset(val, 'x', strlen(val));
			val = a->token;
		}
		a->val[d->id] = val;
	}
	return 0;
}

static const char *
env(const char *name)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static int
conf_resolve(const struct args *a, struct conf *c, char **cause)
{
	const char	*url, *t, *p;
	char		*end;
	long		 n;

	memset(c, 0, sizeof *c);
	if (a->val[O_TOKEN] != NULL && a->val[O_CERT] != NULL)
		return fc_cause(cause, "--token and --cert are alternatives, "
		    "give one");
	if (a->val[O_TOKEN] != NULL)
		c->token = a->val[O_TOKEN];
	else if (a->val[O_CERT] != NULL) {
		c->tls.cert = a->val[O_CERT];
		c->tls.key = a->val[O_KEY];
	} else {
		c->token = env("FUNDCTL_TOKEN");
		c->tls.cert = env("FUNDCTL_CERT");
		c->tls.key = a->val[O_KEY] != NULL ? a->val[O_KEY] :
		    env("FUNDCTL_KEY");
		if (c->token != NULL && c->tls.cert != NULL)
			return fc_cause(cause, "FUNDCTL_TOKEN and FUNDCTL_CERT "
			    "are both set: unset one, or choose with --token "
			    "or --cert");
	}
	if (a->val[O_KEY] != NULL && c->tls.cert == NULL)
		return fc_cause(cause, "--key needs a client certificate "
		    "(--cert or FUNDCTL_CERT)");
	if (c->tls.cert == NULL)
		c->tls.key = NULL;
	if ((t = c->token) != NULL) {
		for (p = t; *p != '\0'; p++)
			if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
				return fc_cause(cause, "the bearer token "
				    "contains spaces, control or non-ASCII "
				    "characters");
	}
	c->tls.cacert = a->val[O_CACERT] != NULL ? a->val[O_CACERT] :
	    env("FUNDCTL_CACERT");

	c->timeout_s = FC_DEFAULT_TIMEOUT_S;
	if (a->val[O_TIMEOUT] != NULL) {
		errno = 0;
		n = strtol(a->val[O_TIMEOUT], &end, 10);
		if (errno != 0 || end == a->val[O_TIMEOUT] || *end != '\0' ||
		    n < 1 || n > FC_MAX_TIMEOUT_S)
			return fc_cause(cause, "--timeout must be a whole "
			    "number of seconds from 1 to %d", FC_MAX_TIMEOUT_S);
		c->timeout_s = (int)n;
	}

	url = a->val[O_URL] != NULL ? a->val[O_URL] : env("FUNDCTL_URL");
	return fc_url_parse(url != NULL ? url : FC_DEFAULT_URL, &c->url,
	    cause);
}

static void
conf_free(struct conf *c)
{
	fc_url_free(&c->url);
}

/* Commands */

/* Whether any option of `ledger trial-balance` alone is given. */
static int
ledger_opts(const struct args *a)
{
	return a->val[O_ASOF] != NULL || a->val[O_FUND] != NULL ||
	    a->val[O_CURRENCY] != NULL;
}

/* Send the request and read the response: its head, and the whole body
 * into b (at most max bytes). */
static int
exchange(struct fc_http *h, const struct fc_http_req *rq, struct fc_buf *b,
    size_t max, char **cause)
{
	if (fc_http_roundtrip(h, rq, cause) == -1)
		return -1;
	return fc_http_body_all(h, b, max, 0, cause);
}

/* POST a request body to /rpc: the answer's HTTP status and reason (allocated) and body. */
static int
rpc_post(const struct conf *c, const char *req, int *status, char **reason,
    struct fc_buf *b, char **cause)
{
	struct fc_conn		*conn = NULL;
	struct fc_http		*h = NULL;
	struct fc_http_req	 rq;
	int			 rc = -1;

	if (fc_conn_open(&c->url, &c->tls, c->timeout_s, 1, &conn, cause) == -1)
		goto out;
	h = fc_http_new(conn);
	memset(&rq, 0, sizeof rq);
	rq.method = "POST";
	rq.target = "/rpc";
	rq.authority = c->url.authority;
	rq.token = c->token;
	rq.accept = "application/json";
	rq.content_type = "application/json";
	rq.body = req;
	rq.body_len = strlen(req);
	if (exchange(h, &rq, b, FC_RESPONSE_MAX, cause) == -1)
		goto out;
	*status = fc_http_status(h);
	*reason = xstrdup(fc_http_reason(h));
	rc = 0;
out:
	fc_http_free(h);
	fc_conn_close(conn);
	return rc;
}

/*
 * Call method with params (takes ownership of them) and read its answer: with
 * result NULL, print the result on stdout (fc_rpc_response); else hand it
 * back in *result (owned by the caller). Returns an FC_EXIT_* code.
 */
static int
rpc(const struct conf *c, const char *method, cJSON *params, cJSON **result,
    char **cause)
{
	struct fc_buf	 b = { NULL, 0, 0 };
	char		*req, *reason = NULL;
	long		 id = next_request_id++;
	int		 status, rc = FC_EXIT_FAIL;

	req = fc_rpc_request(method, params, id);	/* owns params now */
	if (rpc_post(c, req, &status, &reason, &b, cause) == 0) {
		if (result == NULL)
			rc = fc_rpc_response(status, reason, b.data, b.len, id, cause);
		else
			rc = fc_rpc_result(status, reason, b.data, b.len, id, result,
			    cause);
	}
	free(reason);
	fc_buf_free(&b);
	cJSON_free(req);
	return rc;
}

/* One call; its result or its JSON-RPC error (neither printed), as fc_rpc_answer(). */
static int
rpc_call(const struct conf *c, const char *method, cJSON *params, cJSON **result,
    cJSON **error, char **cause)
{
	struct fc_buf	 b = { NULL, 0, 0 };
	char		*req, *reason = NULL;
	long		 id = next_request_id++;
	int		 status, rc = FC_EXIT_FAIL;

	*result = *error = NULL;
	req = fc_rpc_request(method, params, id);	/* owns params now */
	if (rpc_post(c, req, &status, &reason, &b, cause) == 0)
		rc = fc_rpc_answer(status, reason, b.data, b.len, id, result, error, cause);
	free(reason);
	fc_buf_free(&b);
	cJSON_free(req);
	return rc;
}

/* -o's mode (json when absent); -1 with *cause set for anything else. */
static int
output_mode(const struct args *a, char **cause)
{
	int	m;

	if (a->val[O_OUTPUT] == NULL)
		return FC_OUT_JSON;
	if ((m = fc_output_mode(a->val[O_OUTPUT])) == -1)
		fc_cause(cause, "-o takes json, table or csv");
	return m;
}

/* A fresh idempotency key: "fc-" and 24 hex digits. */
static int
new_key(char out[32])
{
	unsigned char	r[12];
	int		i;

	if (RAND_bytes(r, sizeof r) != 1)
		return -1;
	memcpy(out, "fc-", 3);
	for (i = 0; i < 12; i++)
		snprintf(out + 3 + 2 * i, 3, "%02x", r[i]);
	return 0;
}

static int
is_reason(const cJSON *err, int code, const char *reason)
{
	const cJSON	*c = cJSON_GetObjectItemCaseSensitive(err, "code");
	const char	*r = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(err, "data"), "reason"));

	return cJSON_IsNumber(c) && c->valueint == code && r != NULL &&
	    strcmp(r, reason) == 0;
}

static int
cmd_call(const struct args *a, int *usage_err, char **cause)
{
	struct conf		 c;
	cJSON			*params = NULL, *keyless = NULL, *keyed = NULL;
	cJSON			*res = NULL, *err = NULL;
	const cJSON		*cur;
	char *const		*pairs = a->pos + 2;
	const char		*method, *idem = a->val[O_IDEM];
	char			 gen[32] = "";
	int			 npairs, i, mode, rc = FC_EXIT_FAIL;

	*usage_err = 1;
	if (a->npos < 2)
		return usage_fail(cause, "call needs a METHOD, e.g. fundctl "
		    "call system.version");
	if ((mode = output_mode(a, cause)) == -1)
		return FC_EXIT_FAIL;
	method = a->pos[1];
	npairs = a->npos - 2;
	if (*method == '\0')
		return usage_fail(cause, "empty METHOD");
	if (a->val[O_FORMAT] != NULL || a->val[O_FROM] != NULL ||
	    a->val[O_TO] != NULL || a->val[O_BASIS] != NULL)
		return usage_fail(cause, "--format, --from, --to and --basis are "
		    "options of export (--from, --to and --basis also of ledger)");
	if (ledger_opts(a))
		return usage_fail(cause, "--as-of, --fund and --currency are "
		    "options of ledger trial-balance");
	if (a->val[O_PUBKEY] != NULL)
		return usage_fail(cause, "--pubkey is an option of audit "
		    "verify");
	if (a->val[O_IDEM] != NULL && *a->val[O_IDEM] == '\0')
		return usage_fail(cause, "empty --idempotency-key");
	for (i = 0; i < npairs; i++)
		if (strcmp(pairs[i], "-") == 0 && npairs != 1)
			return usage_fail(cause, "'-' (params from stdin) must be "
			    "the only argument after METHOD");
	if (conf_resolve(a, &c, cause) == -1) {
		conf_free(&c);
		return FC_EXIT_FAIL;
	}

	/*
	 * Params before any network, so that mistakes cost nothing. An
	 * explicit '-' waits for stdin as long as it takes; the implicit
	 * "stdin is not a terminal" case gives up after the timeout rather
	 * than hang on a pipe that nobody writes to (cron, CI runners).
	 */
	if (npairs == 1 && strcmp(pairs[0], "-") == 0) {
		if (fc_params_from_stream(stdin, "stdin", idem, 0, &params,
		    cause) == -1)
			goto out;
	} else if (npairs == 0 && !isatty(STDIN_FILENO)) {
		if (fc_params_from_stream(stdin, "stdin", idem, c.timeout_s,
		    &params, cause) == -1)
			goto out;
	} else if (fc_params_from_pairs(pairs, npairs, idem, &params,
	    cause) == -1)
		goto out;
	*usage_err = 0;
	/*
	 * Without an idempotency key (--idempotency-key, or idempotency_key in
	 * the params) a call gets a fresh one: a mutation sent again with it (a
	 * retry after a lost answer) cannot record twice. A method that changes
	 * nothing refuses a key before it runs; it is then sent without. The
	 * params stay as typed (raw JSON from stdin byte for byte).
	 */
	if (idem == NULL) {
		if (new_key(gen) == -1) {
			fc_cause(cause, "no random bytes for an idempotency key");
			goto out;
		}
		if (fc_params_with_key(params, gen, &keyed, cause) == -1)
			goto out;
		if (keyed != NULL) {
			keyless = params;
			params = keyed;
		} else
			gen[0] = '\0';		/* the params' own key */
	}
	rc = rpc_call(&c, method, params, &res, &err, cause);	/* owns params */
	params = NULL;
	if (gen[0] != '\0' && is_reason(err, -32602, "not_a_mutating_method")) {
		cJSON_Delete(err);
		rc = rpc_call(&c, method, keyless, &res, &err, cause);
		keyless = NULL;
		gen[0] = '\0';
	}
	/* No method by that name: nothing to retry. */
	if (gen[0] != '\0' && !is_reason(err, -32601, "method_not_found"))
		fprintf(stderr, "idempotency-key: %s (repeat the command with "
		    "--idempotency-key %s to retry it safely)\n", gen, gen);
	if (err != NULL)
		fc_print_rpc_error(err);
	else if (rc == FC_EXIT_OK) {
		fc_print_result(stdout, res, mode);
		/* CSV holds rows only: where the next page starts goes to stderr */
		cur = cJSON_GetObjectItemCaseSensitive(res, "next_cursor");
		if (mode == FC_OUT_CSV && cJSON_IsString(cur)) {
			fputs("next_cursor: ", stderr);
			fc_put_clean(stderr, cur->valuestring, strlen(cur->valuestring), 0);
			fputc('\n', stderr);
		}
	}
out:
	cJSON_Delete(params);
	cJSON_Delete(keyless);
	cJSON_Delete(res);
	cJSON_Delete(err);
	conf_free(&c);
	return rc;
}

/* rpc.discover's document, or NULL (the error printed, or *cause set). */
static cJSON *
discover(const struct conf *c, char **cause)
{
	cJSON	*res, *err;

	rpc_call(c, "rpc.discover", NULL, &res, &err, cause);
	if (err != NULL) {
		fc_print_rpc_error(err);
		cJSON_Delete(err);
	}
	return res;
}

/* fundctl methods | fundctl help METHOD: from rpc.discover. */
static int
cmd_methods(const struct args *a, int *usage_err, char **cause)
{
	struct conf	 c;
	cJSON		*doc;
	int		 rc = FC_EXIT_FAIL, help = strcmp(a->pos[0], "help") == 0;

	*usage_err = 1;
	if (a->npos != (help ? 2 : 1))
		return usage_fail(cause, help ? "help takes one METHOD" :
		    "methods takes no argument");
	if (conf_resolve(a, &c, cause) == -1) {
		conf_free(&c);
		return FC_EXIT_FAIL;
	}
	*usage_err = 0;
	if ((doc = discover(&c, cause)) != NULL) {
		if (!help) {
			fc_print_methods(stdout, doc);
			rc = FC_EXIT_OK;
		} else if (fc_print_help(stdout, doc, a->pos[1]) == 0)
			rc = FC_EXIT_OK;
		else {
			fc_cause(cause, "no method '%s': see fundctl methods", a->pos[1]);
			rc = FC_EXIT_RPC;
		}
	} else if (*cause == NULL)
		rc = FC_EXIT_RPC;
	cJSON_Delete(doc);
	conf_free(&c);
	return rc;
}

/* The calls of a batch on stdin: a JSON array of {method, params}, or one such object per
 * line. NULL with *cause set when it is neither, is empty, or holds over 100. */
static cJSON *
batch_read(char **cause)
{
	struct fc_buf	 b = { NULL, 0, 0 };
	char		 chunk[65536], *line, *save = NULL;
	cJSON		*calls = NULL, *o;
	size_t		 n;
	const cJSON	*e;

	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
		if (b.len + n > FC_PARAMS_MAX) {
			fc_cause(cause, "a batch on stdin is over %u bytes", FC_PARAMS_MAX);
			goto fail;
		}
		fc_buf_add(&b, chunk, n);
	}
	fc_buf_add(&b, "", 1);
	line = b.data + strspn(b.data, " \t\r\n");
	if (*line == '[') {
		if ((calls = cJSON_Parse(line)) == NULL || !cJSON_IsArray(calls)) {
			fc_cause(cause, "stdin is not a JSON array of calls");
			goto fail;
		}
	} else {
		calls = cJSON_CreateArray();
		for (line = strtok_r(b.data, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			if (line[strspn(line, " \t\r")] == '\0')
				continue;
			if ((o = cJSON_Parse(line)) == NULL) {
				fc_cause(cause, "a line of stdin is not JSON: one call per line");
				goto fail;
			}
			cJSON_AddItemToArray(calls, o);
		}
	}
	if (cJSON_GetArraySize(calls) == 0 || cJSON_GetArraySize(calls) > 100) {
		fc_cause(cause, "a batch is 1 to 100 calls, not %d",
		    cJSON_GetArraySize(calls));
		goto fail;
	}
	cJSON_ArrayForEach(e, calls) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "params");

		if (!cJSON_IsObject(e) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e,
		    "method")) || (p != NULL && !cJSON_IsObject(p))) {
			fc_cause(cause, "each call is {\"method\": \"...\", \"params\": "
			    "{...}}");
			goto fail;
		}
	}
	fc_buf_free(&b);
	return calls;
fail:
	fc_buf_free(&b);
	cJSON_Delete(calls);
	return NULL;
}

#define BATCH_KEY_MAX	120	/* a batch's key; "-N" makes each call's, at most 128 */

/*
 * fundctl batch: the calls on stdin as one JSON-RPC batch. A mutation (by rpc.discover)
 * without an idempotency key gets the batch's key and its place, "KEY-N": KEY is
 * --idempotency-key, or a fresh one printed on stderr, so that the same batch sent again
 * with --idempotency-key KEY gives every call its first key and records nothing twice.
 */
static int
cmd_batch(const struct args *a, int *usage_err, char **cause)
{
	struct conf	 c;
	struct fc_buf	 b = { NULL, 0, 0 };
	cJSON		*calls, *doc = NULL, *req = NULL, *resp = NULL, *out = NULL, *res;
	const cJSON	*e, *m, *r;
	char		*text = NULL, *reason = NULL, key[BATCH_KEY_MAX + 16], gen[32] = "";
	const char	*bkey = a->val[O_IDEM];
	int		 mode, status, i, failed = 0, keyed = 0, rc = FC_EXIT_FAIL;

	*usage_err = 1;
	if (a->npos != 1)
		return usage_fail(cause, "batch takes its calls on stdin, no argument");
	if (bkey != NULL && (*bkey == '\0' || strlen(bkey) > BATCH_KEY_MAX))
		return usage_fail(cause, "the --idempotency-key of a batch is 1 to %d "
		    "characters (call N's key is KEY-N)", BATCH_KEY_MAX);
	if ((mode = output_mode(a, cause)) == -1)
		return FC_EXIT_FAIL;
	if (conf_resolve(a, &c, cause) == -1) {
		conf_free(&c);
		return FC_EXIT_FAIL;
	}
	*usage_err = 0;
	if ((calls = batch_read(cause)) == NULL)
		goto out;
	if (bkey == NULL) {
		if (new_key(gen) == -1) {
			fc_cause(cause, "no random bytes for an idempotency key");
			goto out;
		}
		bkey = gen;
	}
	if ((doc = discover(&c, cause)) == NULL) {
		if (*cause != NULL)
			goto out;
		fprintf(stderr, "fundctl: without rpc.discover the batch's mutations "
		    "get no idempotency key\n");
	}
	req = cJSON_CreateArray();
	i = 0;
	cJSON_ArrayForEach(e, calls) {
		cJSON		*o = cJSON_CreateObject(), *p;
		const char	*method = cJSON_GetObjectItemCaseSensitive(e, "method")->valuestring;
		int		 mut = 0;

		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(doc, "methods"))
			if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "name")) &&
			    strcmp(cJSON_GetObjectItemCaseSensitive(m, "name")->valuestring,
			    method) == 0)
				mut = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m,
				    "x-mutation"));
		p = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(e, "params"), 1);
		if (p == NULL)
			p = cJSON_CreateObject();
		if (mut && cJSON_GetObjectItemCaseSensitive(p, "idempotency_key") == NULL) {
			snprintf(key, sizeof key, "%s-%d", bkey, i + 1);
			keyed = 1;
			cJSON_AddStringToObject(p, "idempotency_key", key);
			fprintf(stderr, "call %d (%s): idempotency-key %s\n", i + 1, method, key);
		}
		cJSON_AddStringToObject(o, "jsonrpc", "2.0");
		cJSON_AddNumberToObject(o, "id", ++i);
		cJSON_AddStringToObject(o, "method", method);
		cJSON_AddItemToObject(o, "params", p);
		cJSON_AddItemToArray(req, o);
	}
	if (keyed && gen[0] != '\0')
		fprintf(stderr, "idempotency-key: %s (repeat the batch with "
		    "--idempotency-key %s to retry it safely)\n", gen, gen);
	text = cJSON_PrintUnformatted(req);
	if (rpc_post(&c, text, &status, &reason, &b, cause) == -1)
		goto out;
	fc_buf_add(&b, "", 1);
	resp = cJSON_Parse(b.data);
	if (!cJSON_IsArray(resp)) {
		if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(resp, "error"))) {
			fc_print_rpc_error(cJSON_GetObjectItemCaseSensitive(resp, "error"));
			rc = FC_EXIT_RPC;
		} else
			fc_cause(cause, "server answered HTTP %d without a batch", status);
		goto out;
	}
	/* the answers in the order of the calls, each with its call's method */
	out = cJSON_CreateObject();
	res = cJSON_AddArrayToObject(out, "calls");
	for (i = 1; i <= cJSON_GetArraySize(calls); i++) {
		cJSON	*o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "id", i);
		cJSON_AddStringToObject(o, "method", cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetArrayItem(calls, i - 1), "method")->valuestring);
		cJSON_ArrayForEach(r, resp) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");

			if (!cJSON_IsNumber(id) || id->valueint != i)
				continue;
			if (cJSON_GetObjectItemCaseSensitive(r, "error") != NULL) {
				failed = 1;
				cJSON_AddStringToObject(o, "outcome", "error");
				cJSON_AddItemToObject(o, "error", cJSON_Duplicate(
				    cJSON_GetObjectItemCaseSensitive(r, "error"), 1));
			} else {
				cJSON_AddStringToObject(o, "outcome", "ok");
				cJSON_AddItemToObject(o, "result", cJSON_Duplicate(
				    cJSON_GetObjectItemCaseSensitive(r, "result"), 1));
			}
		}
		if (cJSON_GetObjectItemCaseSensitive(o, "outcome") == NULL) {
			/* The server's batch answer left this call out. */
			failed = 1;
			cJSON_AddStringToObject(o, "outcome", "no_answer");
		}
		cJSON_AddItemToArray(res, o);
	}
	if (mode == FC_OUT_JSON)
		fc_print_result(stdout, res, mode);
	else
		fc_print_result(stdout, out, mode);
	rc = failed ? FC_EXIT_RPC : FC_EXIT_OK;
out:
	cJSON_Delete(calls);
	cJSON_Delete(doc);
	cJSON_Delete(req);
	cJSON_Delete(resp);
	cJSON_Delete(out);
	cJSON_free(text);
	free(reason);
	fc_buf_free(&b);
	conf_free(&c);
	return rc;
}

static void	add_query(struct fc_buf *, char, const char *, const char *);

/* What a document's first bytes say it is: a PDF, PNG or JPEG, or NULL. */
static const char *
document_type(const unsigned char *b, size_t n)
{
	if (n >= 5 && memcmp(b, "%PDF-", 5) == 0)
		return "application/pdf";
	if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 3 && memcmp(b, "\xff\xd8\xff", 3) == 0)
		return "image/jpeg";
	return NULL;
}

/*
 * fundctl document put FILE [--supersedes ID]: POST /documents (with FILE's name and a
 * key, generated unless given, printed on stderr); fundctl document get ID FILE|-: GET
 * /documents/ID into FILE.
 */
static int
cmd_document(const struct args *a, int *usage_err, char **cause)
{
	struct conf		 c;
	struct fc_conn		*conn = NULL;
	struct fc_http		*h = NULL;
	struct fc_http_req	 rq;
	struct fc_buf		 target = { NULL, 0, 0 }, file = { NULL, 0, 0 },
				 b = { NULL, 0, 0 };
	FILE			*fp = NULL;
	const char		*type = NULL, *base, *d, *idem = a->val[O_IDEM];
	char			 gen[32] = "", chunk[65536];
	cJSON			*res = NULL, *err = NULL;
	size_t			 n;
	int			 put, mode, status, rc = FC_EXIT_FAIL;

	*usage_err = 1;
	if (a->npos < 2 || (strcmp(a->pos[1], "put") != 0 && strcmp(a->pos[1], "get") != 0))
		return usage_fail(cause, "document put FILE [--supersedes ID] | document get "
		    "ID FILE");
	put = a->pos[1][0] == 'p';
	if (a->npos != (put ? 3 : 4))
		return usage_fail(cause, put ? "document put takes one FILE" :
		    "document get takes an ID and a FILE (- for stdout)");
	if ((mode = output_mode(a, cause)) == -1)
		return FC_EXIT_FAIL;
	if (conf_resolve(a, &c, cause) == -1) {
		conf_free(&c);
		return FC_EXIT_FAIL;
	}
	*usage_err = 0;
	memset(&rq, 0, sizeof rq);
	rq.authority = c.url.authority;
	rq.token = c.token;
	rq.accept = "*/*";
	if (put) {
		if ((fp = fopen(a->pos[2], "rb")) == NULL) {
			fc_cause(cause, "cannot read %s: %s", a->pos[2], strerror(errno));
			goto out;
		}
		while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
			fc_buf_add(&file, chunk, n);
		if (ferror(fp) || file.len == 0 ||
		    (type = document_type((unsigned char *)file.data, file.len)) == NULL) {
			fc_cause(cause, "%s is not a PDF, PNG or JPEG", a->pos[2]);
			goto out;
		}
		if (idem == NULL) {
			if (new_key(gen) == -1) {
				fc_cause(cause, "no random bytes for an idempotency key");
				goto out;
			}
			idem = gen;
			fprintf(stderr, "idempotency-key: %s (repeat the command with "
			    "--idempotency-key %s to retry it safely)\n", gen, gen);
		}
		base = strrchr(a->pos[2], '/') != NULL ? strrchr(a->pos[2], '/') + 1 : a->pos[2];
		fc_buf_addf(&target, "/documents");
		add_query(&target, '?', "filename", base);
		if (a->val[O_SUPERSEDES] != NULL)
			add_query(&target, '&', "supersedes", a->val[O_SUPERSEDES]);
		rq.method = "POST";
		rq.content_type = type;
		rq.body = file.data;
		rq.body_len = file.len;
		rq.idempotency_key = idem;
	} else {
		if (a->pos[2][0] == '\0' || strspn(a->pos[2], "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(a->pos[2])) {
			fc_cause(cause, "'%s' is not a document id", a->pos[2]);
			goto out;
		}
		fc_buf_addf(&target, "/documents/%s", a->pos[2]);
		rq.method = "GET";
	}
	rq.target = target.data;
	if (fc_conn_open(&c.url, &c.tls, c.timeout_s, 0, &conn, cause) == -1)
		goto out;
	h = fc_http_new(conn);
	if (fc_http_roundtrip(h, &rq, cause) == -1)
		goto out;
	status = fc_http_status(h);
	if (!put && status == 200) {
		FILE *out = strcmp(a->pos[3], "-") == 0 ? stdout : fopen(a->pos[3], "wb");

		if (out == NULL) {
			fc_cause(cause, "cannot write %s: %s", a->pos[3], strerror(errno));
			goto out;
		}
		for (;;) {
			if (fc_http_body_next(h, &d, &n, cause) == -1)
				break;
			if (n == 0) {
				rc = FC_EXIT_OK;
				break;
			}
			if (fwrite(d, 1, n, out) != n) {
				fc_cause(cause, "cannot write %s", a->pos[3]);
				break;
			}
		}
		if ((out != stdout && fclose(out) != 0) || (out == stdout && fflush(out) != 0))
			rc = FC_EXIT_FAIL;
		goto out;
	}
	for (;;) {
		if (fc_http_body_next(h, &d, &n, cause) == -1)
			goto out;
		if (n == 0)
			break;
		fc_buf_add(&b, d, n);
	}
	fc_buf_add(&b, "", 1);
	res = cJSON_Parse(b.data);
	if ((err = cJSON_DetachItemFromObjectCaseSensitive(res, "error")) != NULL) {
		fc_print_rpc_error(err);
		rc = FC_EXIT_RPC;
	} else if (status == 201 && cJSON_GetObjectItemCaseSensitive(res, "result") != NULL) {
		fc_print_result(stdout, cJSON_GetObjectItemCaseSensitive(res, "result"), mode);
		rc = FC_EXIT_OK;
	} else {
		char *snip = fc_clean(b.data, b.len - 1, 200);

		fc_cause(cause, "server answered HTTP %d: %s", status, snip);
		free(snip);
	}
out:
	if (fp != NULL)
		fclose(fp);
	cJSON_Delete(res);
	cJSON_Delete(err);
	fc_buf_free(&target);
	fc_buf_free(&file);
	fc_buf_free(&b);
	fc_http_free(h);
	fc_conn_close(conn);
	conf_free(&c);
	return rc;
}

static void
add_query(struct fc_buf *b, char sep, const char *name, const char *v)
{
	unsigned char	c;

	fc_buf_addf(b, "%c%s=", sep, name);
	for (; *v != '\0'; v++) {
		c = (unsigned char)*v;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			fc_buf_add(b, v, 1);
		else
			fc_buf_addf(b, "%%%02X", c);
	}
}

/* Stream the body of a 200 response to stdout. */
static int
export_stream(struct fc_http *h, char **cause)
{
	const char	*d;
	size_t		 n;

	for (;;) {
		if (fc_http_body_next(h, &d, &n, cause) == -1)
			return -1;
		if (n == 0)
			return 0;
		if (fwrite(d, 1, n, stdout) != n || fflush(stdout) == EOF)
			return fc_cause(cause, "cannot write to stdout: %s",
			    strerror(errno));
	}
}

static int
cmd_export(const struct args *a, int *usage_err, char **cause)
{
	struct conf		 c;
	struct fc_conn		*conn = NULL;
	struct fc_http		*h = NULL;
	struct fc_http_req	 rq;
	struct fc_buf		 target = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	const char		*what, *format = a->val[O_FORMAT];
	int			 status, rc = FC_EXIT_FAIL;

	*usage_err = 1;
	if (a->npos < 2)
		return usage_fail(cause, "export needs what to export: ledger "
		    "or audit");
	what = a->pos[1];
	if (a->npos > 2)
		return usage_fail(cause, "unexpected argument '%s'", a->pos[2]);
	if (a->val[O_IDEM] != NULL)
		return usage_fail(cause, "--idempotency-key is an option of "
		    "call");
	if (a->val[O_PUBKEY] != NULL)
		return usage_fail(cause, "--pubkey is an option of audit "
		    "verify");
	if (ledger_opts(a))
		return usage_fail(cause, "--as-of, --fund and --currency are "
		    "options of ledger trial-balance");
	if (strcmp(what, "ledger") == 0) {
		if (format == NULL)
			return usage_fail(cause, "export ledger needs --format "
			    "csv or --format jsonl");
		if (strcmp(format, "csv") != 0 && strcmp(format, "jsonl") != 0)
			return usage_fail(cause, "--format must be csv or "
			    "jsonl");
	} else if (strcmp(what, "audit") == 0) {
		if (format == NULL)
			format = "jsonl";
		if (strcmp(format, "jsonl") != 0)
			return usage_fail(cause, "export audit supports --format "
			    "jsonl only");
		if (a->val[O_FROM] != NULL || a->val[O_TO] != NULL ||
		    a->val[O_BASIS] != NULL)
			return usage_fail(cause, "export audit takes no --from, "
			    "--to or --basis: it exports the whole trail");
	} else
		return usage_fail(cause, "cannot export '%s': choose ledger or "
		    "audit", what);
	if (conf_resolve(a, &c, cause) == -1) {
		conf_free(&c);
		return FC_EXIT_FAIL;
	}

	fc_buf_addf(&target, "/export/%s", what);
	add_query(&target, '?', "format", format);
	if (a->val[O_FROM] != NULL)
		add_query(&target, '&', "from", a->val[O_FROM]);
	if (a->val[O_TO] != NULL)
		add_query(&target, '&', "to", a->val[O_TO]);
	if (a->val[O_BASIS] != NULL)
		add_query(&target, '&', "basis", a->val[O_BASIS]);

	*usage_err = 0;
	/* An export may take long: only each socket operation times out. */
	if (fc_conn_open(&c.url, &c.tls, c.timeout_s, 0, &conn, cause) == -1)
		goto out;
	h = fc_http_new(conn);
	memset(&rq, 0, sizeof rq);
	rq.method = "GET";
	rq.target = target.data;
	rq.authority = c.url.authority;
	rq.token = c.token;
	rq.accept = "*/*";
	if (fc_http_roundtrip(h, &rq, cause) == -1)
		goto out;
	if ((status = fc_http_status(h)) == 200) {
		if (export_stream(h, cause) == 0)
			rc = FC_EXIT_OK;
		goto out;
	}

	/* Refused: status and body on stderr. */
	fprintf(stderr, "fundctl: server answered HTTP %d ", status);
	fc_put_clean(stderr, fc_http_reason(h), strlen(fc_http_reason(h)), 0);
	fputc('\n', stderr);
	(void)fc_http_body_all(h, &b, EXPORT_ERRBODY_MAX, 1, NULL);
	if (b.len > 0) {
		fc_put_clean(stderr, b.data, b.len, 1);
		if (b.data[b.len - 1] != '\n')
			fputc('\n', stderr);
	}
	rc = status == 401 || status == 403 ? FC_EXIT_RPC : FC_EXIT_FAIL;
out:
	fc_buf_free(&b);
	fc_buf_free(&target);
	fc_http_free(h);
	fc_conn_close(conn);
	conf_free(&c);
	return rc;
}

/* Add option o's value to params as name, when it is given. */
static void
param_opt(cJSON *params, const struct args *a, enum opt_id o, const char *name)
{
	if (a->val[o] != NULL)
		cJSON_AddStringToObject(params, name, a->val[o]);
}

/* "Trial balance of fund F, EUR, by value date, from D to D (excluded)" */
static char *
trial_balance_title(const struct args *a)
{
	struct fc_buf	 b = { NULL, 0, 0 };
	const char	*basis = a->val[O_BASIS];
	char		*s;

	fc_buf_addf(&b, "Trial balance");
	if (a->val[O_FUND] != NULL)
		fc_buf_addf(&b, " of fund %s", a->val[O_FUND]);
	if (a->val[O_CURRENCY] != NULL)
		fc_buf_addf(&b, ", %s", a->val[O_CURRENCY]);
	fc_buf_addf(&b, ", by %s", basis != NULL &&
	    strcmp(basis, "recorded") == 0 ? "recording time" : "value date");
	if (a->val[O_ASOF] != NULL)
		fc_buf_addf(&b, ", as of %s", a->val[O_ASOF]);
	if (a->val[O_FROM] != NULL)
		fc_buf_addf(&b, ", from %s", a->val[O_FROM]);
	if (a->val[O_TO] != NULL)
		fc_buf_addf(&b, ", to %s (excluded)", a->val[O_TO]);
	if (a->val[O_ASOF] == NULL && a->val[O_FROM] == NULL &&
	    a->val[O_TO] == NULL)
		fc_buf_addf(&b, ", everything");
	s = fc_clean(b.data, b.len, b.len + 1);
	fc_buf_free(&b);
	return s;
}

/* ledger trial-balance: ledger.trial_balance as a table. */
static int
ledger_trial_balance(const struct args *a, int *usage_err, char **cause)
{
	struct conf	 c;
	cJSON		*params, *res = NULL;
	char		*title;
	int		 rc;

	if (a->npos > 2)
		return usage_fail(cause, "unexpected argument '%s'", a->pos[2]);
	if (a->val[O_FORMAT] != NULL || a->val[O_IDEM] != NULL ||
	    a->val[O_PUBKEY] != NULL)
		return usage_fail(cause, "ledger trial-balance takes --fund, "
		    "--currency, --as-of, --from, --to and --basis");
	if (a->val[O_ASOF] != NULL && (a->val[O_FROM] != NULL ||
	    a->val[O_TO] != NULL))
		return usage_fail(cause, "--as-of and a period (--from, --to) "
		    "are alternatives");
	if (a->val[O_BASIS] != NULL && strcmp(a->val[O_BASIS], "value") != 0 &&
	    strcmp(a->val[O_BASIS], "recorded") != 0)
		return usage_fail(cause, "--basis must be value or recorded");
	if (conf_resolve(a, &c, cause) == -1) {
		conf_free(&c);
		return FC_EXIT_FAIL;
	}
	params = cJSON_CreateObject();
	param_opt(params, a, O_FUND, "fund");
	param_opt(params, a, O_CURRENCY, "currency");
	param_opt(params, a, O_ASOF, "as_of");
	param_opt(params, a, O_FROM, "from");
	param_opt(params, a, O_TO, "to");
	param_opt(params, a, O_BASIS, "basis");

	*usage_err = 0;
	rc = rpc(&c, "ledger.trial_balance", params, &res, cause);
	if (rc == FC_EXIT_OK) {
		title = trial_balance_title(a);
		if (fc_print_trial_balance(stdout, title, res, cause) == -1)
			rc = FC_EXIT_FAIL;
		free(title);
	}
	cJSON_Delete(res);
	conf_free(&c);
	return rc;
}

static int
cmd_audit(const struct args *a, int *usage_err, char **cause)
{
	*usage_err = 1;
	if (a->npos < 2)
		return usage_fail(cause, "audit needs a subcommand: verify");
	if (strcmp(a->pos[1], "verify") != 0)
		return usage_fail(cause, "unknown audit subcommand '%s': verify",
		    a->pos[1]);
	if (a->npos < 3)
		return usage_fail(cause, "audit verify needs the FILE to "
		    "verify, or - for stdin");
	if (a->npos > 3)
		return usage_fail(cause, "unexpected argument '%s'", a->pos[3]);
	if (a->val[O_PUBKEY] == NULL || *a->val[O_PUBKEY] == '\0')
		return usage_fail(cause, "audit verify needs --pubkey KEY, the "
		    "PEM public key of the first key that signs the checkpoints");
	if (a->val[O_FORMAT] != NULL || a->val[O_FROM] != NULL ||
	    a->val[O_TO] != NULL || a->val[O_IDEM] != NULL ||
	    a->val[O_BASIS] != NULL || ledger_opts(a))
		return usage_fail(cause, "audit verify takes only --pubkey");
	*usage_err = 0;
	return fc_audit_verify(a->pos[2], a->val[O_PUBKEY], cause);
}

/* The ledger export of target, whole, into b. */
static int
export_get(const struct conf *c, const char *target, struct fc_buf *b, char **cause)
{
	struct fc_conn		*conn = NULL;
	struct fc_http		*h = NULL;
	struct fc_http_req	 rq;
	const char		*d;
	size_t			 n;
	int			 status, rc = FC_EXIT_FAIL;

	if (fc_conn_open(&c->url, &c->tls, c->timeout_s, 0, &conn, cause) == -1)
		goto out;
	h = fc_http_new(conn);
	memset(&rq, 0, sizeof rq);
	rq.method = "GET";
	rq.target = target;
	rq.authority = c->url.authority;
	rq.token = c->token;
	rq.accept = "*/*";
	if (fc_http_roundtrip(h, &rq, cause) == -1)
		goto out;
	if ((status = fc_http_status(h)) != 200) {
		fc_cause(cause, "the export answered HTTP %d", status);
		rc = status == 401 || status == 403 ? FC_EXIT_RPC : FC_EXIT_FAIL;
		goto out;
	}
	for (;;) {
		if (fc_http_body_next(h, &d, &n, cause) == -1)
			goto out;
		if (n == 0)
			break;
		fc_buf_add(b, d, n);
	}
	if (b->data == NULL)
		fc_buf_add(b, "", 0);
	rc = FC_EXIT_OK;
out:
	fc_http_free(h);
	fc_conn_close(conn);
	return rc;
}

/* ledger export-close PERIOD_ID FILE: the close with its proof, the CSV of its range. */
static int
ledger_export_close(const struct args *a, char **cause)
{
	struct conf	 c;
	struct fc_buf	 target = { NULL, 0, 0 }, csv = { NULL, 0, 0 };
	cJSON		*params, *close = NULL;
	const cJSON	*v;
	const char	*st;
	int		 rc;

	if (conf_resolve(a, &c, cause) == -1) {
		conf_free(&c);
		return FC_EXIT_FAIL;
	}
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "period_id", a->pos[2]);
	if ((rc = rpc(&c, "period.close_get", params, &close, cause)) != FC_EXIT_OK)
		goto out;
	rc = FC_EXIT_BAD;
	st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(close, "status"));
	if (st == NULL || strcmp(st, "confirmed") != 0) {
		fc_cause(cause, "the close %s is %s: only a confirmed close has a record",
		    a->pos[2], st != NULL ? st : "of no status");
		goto out;
	}
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(close, "proof"))) {
		fc_cause(cause, "no signed checkpoint covers the close yet: retry "
		    "after the next checkpoint");
		goto out;
	}
	fc_buf_addf(&target, "/export/ledger?format=csv&basis=value");
	v = cJSON_GetObjectItemCaseSensitive(close, "export_from");
	if (cJSON_IsString(v))
		add_query(&target, '&', "from", v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(close, "export_to");
	if (!cJSON_IsString(v)) {
		fc_cause(cause, "the close has no export_to");
		rc = FC_EXIT_FAIL;
		goto out;
	}
	add_query(&target, '&', "to", v->valuestring);
	if ((rc = export_get(&c, target.data, &csv, cause)) != FC_EXIT_OK)
		goto out;
	rc = fc_ledger_save(a->pos[3], close, &csv, a->val[O_PUBKEY], cause);
out:
	cJSON_Delete(close);
	fc_buf_free(&target);
	fc_buf_free(&csv);
	conf_free(&c);
	return rc;
}

static int
cmd_ledger(const struct args *a, int *usage_err, char **cause)
{
	*usage_err = 1;
	if (a->npos < 2)
		return usage_fail(cause, "ledger needs a subcommand: "
		    "trial-balance, export-close or verify");
	if (strcmp(a->pos[1], "trial-balance") == 0)
		return ledger_trial_balance(a, usage_err, cause);
	if (a->val[O_FORMAT] != NULL || a->val[O_FROM] != NULL ||
	    a->val[O_TO] != NULL || a->val[O_IDEM] != NULL ||
	    a->val[O_BASIS] != NULL || ledger_opts(a))
		return usage_fail(cause, "ledger %s takes only --pubkey and the "
		    "connection options", a->pos[1]);
	if (strcmp(a->pos[1], "export-close") == 0) {
		if (a->npos != 4)
			return usage_fail(cause, "ledger export-close needs "
			    "PERIOD_ID and FILE");
		*usage_err = 0;
		return ledger_export_close(a, cause);
	}
	if (strcmp(a->pos[1], "verify") != 0)
		return usage_fail(cause, "unknown ledger subcommand '%s': "
		    "trial-balance, export-close or verify", a->pos[1]);
	if (a->npos != 3)
		return usage_fail(cause, "ledger verify needs the FILE to verify "
		    "(its proof is FILE.close.json)");
	if (a->val[O_PUBKEY] == NULL || *a->val[O_PUBKEY] == '\0')
		return usage_fail(cause, "ledger verify needs --pubkey KEY, the "
		    "PEM public key of key 1 or of the key that signed the proof");
	*usage_err = 0;
	return fc_ledger_verify(a->pos[2], a->val[O_PUBKEY], cause);
}

int
main(int argc, char **argv)
{
	cJSON_Hooks	 hooks = { xmalloc, free };
	struct args	 a;
	char		*cause = NULL;
	const char	*cmd;
	int		 rc, usage_err = 1;

	/* A server that closes early must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	cJSON_InitHooks(&hooks);
	memset(&a, 0, sizeof a);

	if (parse_args(argc, argv, &a, &cause) == -1)
		rc = FC_EXIT_FAIL;
	else if (a.val[O_HELP] != NULL) {
		usage(stdout);
		rc = FC_EXIT_OK;
	} else if (a.val[O_VERSION] != NULL) {
		printf("fundctl %s (protocol %d, %s)\n", FUNDCTL_VERSION,
		    FUNDCTL_PROTOCOL, OpenSSL_version(OPENSSL_VERSION));
		rc = FC_EXIT_OK;
	} else if (a.npos == 0) {
		fc_cause(&cause, "missing command: call, export, ledger or "
		    "audit");
		rc = FC_EXIT_FAIL;
	} else if (strcmp((cmd = a.pos[0]), "call") == 0)
		rc = cmd_call(&a, &usage_err, &cause);
	else if (strcmp(cmd, "export") == 0)
		rc = cmd_export(&a, &usage_err, &cause);
	else if (strcmp(cmd, "ledger") == 0)
		rc = cmd_ledger(&a, &usage_err, &cause);
	else if (strcmp(cmd, "audit") == 0)
		rc = cmd_audit(&a, &usage_err, &cause);
	else if (strcmp(cmd, "document") == 0)
		rc = cmd_document(&a, &usage_err, &cause);
	else if (strcmp(cmd, "batch") == 0)
		rc = cmd_batch(&a, &usage_err, &cause);
	else if (strcmp(cmd, "methods") == 0 || (strcmp(cmd, "help") == 0 && a.npos > 1))
		rc = cmd_methods(&a, &usage_err, &cause);
	else if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		rc = FC_EXIT_OK;
	} else {
		fc_cause(&cause, "unknown command '%s': call, batch, methods, "
		    "help, export, ledger or audit", cmd);
		rc = FC_EXIT_FAIL;
	}

	if (cause != NULL) {
		fprintf(stderr, "fundctl: %s%s\n", cause,
		    usage_err ? " (see fundctl --help)" : "");
		free(cause);
	}
	if ((rc == FC_EXIT_OK) && (fflush(stdout) == EOF || ferror(stdout))) {
		fprintf(stderr, "fundctl: cannot write to stdout: %s\n",
		    strerror(errno));
		rc = FC_EXIT_FAIL;
	}
	if (a.token != NULL) {
		OPENSSL_cleanse(a.token, strlen(a.token));
		free(a.token);
	}
	free(a.pos);
	return rc;
}
