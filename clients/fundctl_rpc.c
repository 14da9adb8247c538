/*
 * fundctl_rpc.c: JSON-RPC 2.0 params, request and response for `call`.
 *
 * Params the user wrote as JSON (name:=JSON, or an object on stdin) are
 * validated and then embedded byte for byte (cJSON raw items), so numbers
 * reach the daemon exactly as typed and are never rounded through a double.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fundctl.h"
#include "fundctl_rpc.h"

#define SNIPPET_MAX	200	/* bytes of a body quoted in a message */

/* "WHAT is not valid JSON near '...'" from cJSON's error position. */
static int
json_error(char **cause, const char *what, const char *text, const char *at)
{
	char	*near;
	int	 rv;

	if (at == NULL || at < text || *at == '\0')
		return fc_cause(cause, "%s is not valid JSON (unexpected end)",
		    what);
	near = fc_clean(at, strlen(at), 20);
	rv = fc_cause(cause, "%s is not valid JSON near '%s'", what, near);
	free(near);
	return rv;
}

static int
set_idem(cJSON *obj, const char *idem, char **cause)
{
	cJSON	*old;

	old = cJSON_GetObjectItemCaseSensitive(obj, "idempotency_key");
	if (old != NULL) {
		if (cJSON_IsString(old) && strcmp(old->valuestring, idem) == 0)
			return 0;
		return fc_cause(cause, "idempotency_key is given both by "
		    "--idempotency-key and in the params");
	}
	cJSON_AddItemToObject(obj, "idempotency_key", cJSON_CreateString(idem));
	return 0;
}

int
fc_params_from_pairs(char *const *pairs, int n, const char *idem,
    cJSON **out, char **cause)
{
	cJSON		*obj, *v;
	const char	*a, *eq, *end;
	char		*name, *what;
	int		 i, raw;

	*out = NULL;
	obj = cJSON_CreateObject();
	for (i = 0; i < n; i++) {
		a = pairs[i];
		if ((eq = strchr(a, '=')) == NULL) {
			fc_cause(cause, "argument '%s' is neither name=value "
			    "nor name:=JSON", a);
			goto fail;
		}
		raw = eq > a && eq[-1] == ':';
		name = xstrndup(a, (size_t)(eq - a) - (size_t)raw);
		if (*name == '\0') {
			fc_cause(cause, "argument '%s' has no parameter name",
			    a);
			free(name);
			goto fail;
		}
		if (cJSON_GetObjectItemCaseSensitive(obj, name) != NULL) {
			fc_cause(cause, "parameter '%s' is given twice", name);
			free(name);
			goto fail;
		}
		if (raw) {
			if ((v = cJSON_ParseWithOpts(eq + 1, &end, 1)) == NULL) {
				what = xprintf("the value of '%s'", name);
				json_error(cause, what, eq + 1, end);
				free(what);
				free(name);
				goto fail;
			}
			cJSON_Delete(v);
			v = cJSON_CreateRaw(eq + 1);
		} else
			v = cJSON_CreateString(eq + 1);	/* money stays a string */
		cJSON_AddItemToObject(obj, name, v);
		free(name);
	}
	if (idem != NULL && set_idem(obj, idem, cause) == -1)
		goto fail;
	*out = obj;
	return 0;
fail:
	cJSON_Delete(obj);
	return -1;
}

/* Wait until f has input or end of file, for at most wait_s seconds. */
static int
stream_wait(FILE *f, const char *what, int wait_s, char **cause)
{
	struct pollfd	pfd;
	int		rv;

	pfd.fd = fileno(f);
	pfd.events = POLLIN;
	pfd.revents = 0;
	while ((rv = poll(&pfd, 1, wait_s * 1000)) == -1 && errno == EINTR)
		;
	if (rv == 0)
		return fc_cause(cause, "no params arrived on %s within %d s: "
		    "give them as name=value, use '-' to wait for %s, or "
		    "redirect it from /dev/null", what, wait_s, what);
	return 0;	/* readable, closed, or an error that fread reports */
}

int
fc_params_from_stream(FILE *f, const char *what, const char *idem,
    int wait_s, cJSON **out, char **cause)
{
	struct fc_buf	 b = { NULL, 0, 0 };
	char		 chunk[8192];
	const char	*start, *end;
	size_t		 n;
	cJSON		*v = NULL;

	*out = NULL;
	if (wait_s > 0 && stream_wait(f, what, wait_s, cause) == -1)
		return -1;
	fc_buf_add(&b, "", 0);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (n > FC_PARAMS_MAX - b.len) {
			fc_cause(cause, "%s: params larger than %u bytes", what,
			    FC_PARAMS_MAX);
			goto fail;
		}
		fc_buf_add(&b, chunk, n);
	}
	if (ferror(f)) {
		fc_cause(cause, "cannot read %s: %s", what, strerror(errno));
		goto fail;
	}
	if (memchr(b.data, '\0', b.len) != NULL) {
		fc_cause(cause, "%s: NUL byte in the params", what);
		goto fail;
	}
	while (b.len > 0 && strchr(" \t\r\n", b.data[b.len - 1]) != NULL)
		b.data[--b.len] = '\0';
	start = b.data;
	if (strncmp(start, "\xef\xbb\xbf", 3) == 0)	/* UTF-8 BOM */
		start += 3;
	start += strspn(start, " \t\r\n");
	if (*start == '\0')
		v = cJSON_CreateObject();	/* no input: no params */
	else if ((v = cJSON_ParseWithOpts(start, &end, 1)) == NULL) {
		json_error(cause, what, start, end);
		goto fail;
	} else if (!cJSON_IsObject(v)) {
		fc_cause(cause, "%s must hold a JSON object of params", what);
		goto fail;
	}
	if (idem != NULL) {
		if (set_idem(v, idem, cause) == -1)
			goto fail;
	} else if (*start != '\0') {
		cJSON_Delete(v);
		v = cJSON_CreateRaw(start);
	}
	fc_buf_free(&b);
	*out = v;
	return 0;
fail:
	cJSON_Delete(v);
	fc_buf_free(&b);
	return -1;
}

char *
fc_rpc_request(const char *method, cJSON *params, long id)
{
	cJSON	*req;
	char	*s;

	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "jsonrpc", "2.0");
	cJSON_AddNumberToObject(req, "id", (double)id);
	cJSON_AddStringToObject(req, "method", method);
	cJSON_AddItemToObject(req, "params", params);
	s = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	return s;
}

static void
put_str(const char *s)
{
	fc_put_clean(stderr, s, strlen(s), 0);
}

/* error CODE REASON: MESSAGE field=F [other data members as key=value] */
void
fc_print_rpc_error(const cJSON *err)
{
	const cJSON	*code, *msg, *data, *reason = NULL, *field = NULL, *it;
	char		*s;

	code = cJSON_GetObjectItemCaseSensitive(err, "code");
	msg = cJSON_GetObjectItemCaseSensitive(err, "message");
	data = cJSON_GetObjectItemCaseSensitive(err, "data");
	if (cJSON_IsObject(data)) {
		reason = cJSON_GetObjectItemCaseSensitive(data, "reason");
		field = cJSON_GetObjectItemCaseSensitive(data, "field");
	}
	fprintf(stderr, "error %.0f", code->valuedouble);
	if (cJSON_IsString(reason)) {
		fputc(' ', stderr);
		put_str(reason->valuestring);
	}
	fputs(": ", stderr);
	if (cJSON_IsString(msg))
		put_str(msg->valuestring);
	if (cJSON_IsString(field)) {
		fputs(" field=", stderr);
		put_str(field->valuestring);
	}
	/* Further details, e.g. returnee_id of duplicate_returnee. */
	if (cJSON_IsObject(data)) {
		cJSON_ArrayForEach(it, data) {
			if (it == reason || it == field || it->string == NULL ||
			    cJSON_IsArray(it) || cJSON_IsObject(it))
				continue;
			fputc(' ', stderr);
			put_str(it->string);
			fputc('=', stderr);
			if (cJSON_IsString(it))
				put_str(it->valuestring);
			else if ((s = cJSON_PrintUnformatted(it)) != NULL) {
				put_str(s);
				cJSON_free(s);
			}
		}
	}
	fputc('\n', stderr);
}

int
fc_rpc_answer(int status, const char *reason, const char *body, size_t len,
    long id, cJSON **result, cJSON **error, char **cause)
{
	cJSON		*resp = NULL, *err = NULL, *v;
	char		*r, *snip;
	int		 rc = FC_EXIT_FAIL;

	*result = NULL;
	*error = NULL;
	if (len > 0 && memchr(body, '\0', len) == NULL)
		resp = cJSON_ParseWithOpts(body, NULL, 1);
	if (cJSON_IsObject(resp))
		err = cJSON_GetObjectItemCaseSensitive(resp, "error");
	if (cJSON_IsObject(err) && cJSON_IsNumber(
	    cJSON_GetObjectItemCaseSensitive(err, "code"))) {
		/* Whatever the HTTP status (200, 401, 503...). */
		*error = cJSON_DetachItemFromObjectCaseSensitive(resp, "error");
		rc = FC_EXIT_RPC;
		goto out;
	}
	if (status != 200) {
		r = fc_clean(reason, strlen(reason), 80);
		snip = fc_clean(body, len, SNIPPET_MAX);
		fc_cause(cause, "server answered HTTP %d%s%s%s%s", status,
		    *r != '\0' ? " " : "", r, len > 0 ? ": " : "", snip);
		free(r);
		free(snip);
		if (status == 401 || status == 403)
			rc = FC_EXIT_RPC;
		goto out;
	}
	if (resp == NULL) {
		snip = fc_clean(body, len, SNIPPET_MAX);
		fc_cause(cause, "malformed response, not JSON: '%s'", snip);
		free(snip);
		goto out;
	}
	if (!cJSON_IsObject(resp)) {
		fc_cause(cause, "malformed response: not a JSON-RPC response "
		    "object");
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(resp, "jsonrpc");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0) {
		fc_cause(cause, "malformed response: \"jsonrpc\" is not "
		    "\"2.0\"");
		goto out;
	}
	if (err != NULL) {
		fc_cause(cause, "malformed response: bad JSON-RPC error "
		    "object");
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(resp, "id");
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)id) {
		fc_cause(cause, "malformed response: its id does not match "
		    "the request's (%ld)", id);
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(resp, "result") == NULL) {
		fc_cause(cause, "malformed response: neither result nor "
		    "error");
		goto out;
	}
	*result = cJSON_DetachItemFromObjectCaseSensitive(resp, "result");
	rc = FC_EXIT_OK;
out:
	cJSON_Delete(resp);
	return rc;
}

int
fc_rpc_result(int status, const char *reason, const char *body, size_t len,
    long id, cJSON **result, char **cause)
{
	cJSON	*err;
	int	 rc = fc_rpc_answer(status, reason, body, len, id, result, &err, cause);

	if (err != NULL) {
		fc_print_rpc_error(err);
		cJSON_Delete(err);
	}
	return rc;
}

int
fc_rpc_response(int status, const char *reason, const char *body,
    size_t len, long id, char **cause)
{
	cJSON		*res;
	char		*out;
	int		 rc;

	if ((rc = fc_rpc_result(status, reason, body, len, id, &res,
	    cause)) != FC_EXIT_OK)
		return rc;
	out = cJSON_Print(res);
	cJSON_Delete(res);
	fputs(out, stdout);
	fputc('\n', stdout);
	cJSON_free(out);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fc_cause(cause, "cannot write to stdout: %s", strerror(errno));
		return FC_EXIT_FAIL;
	}
	return FC_EXIT_OK;
}

int
fc_params_with_key(const cJSON *params, const char *key, cJSON **out,
    char **cause)
{
	const char	*raw, *rest;
	cJSON		*v;
	char		*s;
	int		 has;

	*out = NULL;
	if (cJSON_IsRaw(params)) {
		raw = params->valuestring;
		if ((v = cJSON_Parse(raw)) == NULL || !cJSON_IsObject(v)) {
			cJSON_Delete(v);
			return fc_cause(cause, "the params are not a JSON "
			    "object");
		}
		has = cJSON_GetObjectItemCaseSensitive(v, "idempotency_key") !=
		    NULL;
		cJSON_Delete(v);
		if (has)
			return 0;
		/* Keep the rest byte for byte: insert the key after '{'. */
		rest = raw + strspn(raw, " \t\r\n") + 1;
		rest += strspn(rest, " \t\r\n");
		s = xprintf("{\"idempotency_key\":\"%s\"%s%s", key,
		    *rest == '}' ? "" : ",", rest);
		*out = cJSON_CreateRaw(s);
		free(s);
		return 0;
	}
	if (!cJSON_IsObject(params))
		return fc_cause(cause, "the params are not a JSON object");
	if (cJSON_GetObjectItemCaseSensitive(params, "idempotency_key") != NULL)
		return 0;
	*out = cJSON_Duplicate(params, 1);
	cJSON_AddStringToObject(*out, "idempotency_key", key);
	return 0;
}
