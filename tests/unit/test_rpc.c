/*
 * test_rpc.c: unit tests for JSON-RPC framing in daemon/rpc.c and param checks in
 * daemon/methods.c (docs/protocol.md).
 *
 * Only rpc_parse(), rpc_set_error() and rpc_render(): no database, no event loop. What the
 * database would have answered is simulated with rpc_set_error() before rendering. The
 * rendered body is parsed back with cJSON and checked as a client would see it.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "methods.h"
#include "rpc.h"
#include "validate.h"

/* A valid single call with id 1, and the same as a notification. */
#define CALL(method, params)						\
	"{\"jsonrpc\":\"2.0\",\"method\":\"" method "\",\"params\":" params ",\"id\":1}"
#define NOTE(method)							\
	"{\"jsonrpc\":\"2.0\",\"method\":\"" method "\"}"

/* [a-z][a-z0-9_]* */
static int
is_snake(const char *s)
{
	if (s == NULL || !(*s >= 'a' && *s <= 'z'))
		return (0);
	for (s++; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return (0);
	return (1);
}

/* Parse and render body; returns the parsed response (NULL when none) and its status. */
static cJSON *
run(const char *body, int *status)
{
	struct rpc_batch	*b = rpc_parse(body, strlen(body));
	char			*s;
	cJSON			*r = NULL;

	assert_non_null(b);
	*status = -1;
	s = rpc_render(b, status);
	if (s != NULL) {
		r = cJSON_Parse(s);
		if (r == NULL) {
			free(s);
			rpc_batch_free(b);
			fail_msg("rpc_render produced invalid JSON");
		}
		free(s);
	}
	rpc_batch_free(b);
	return (r);
}

static void
expect_id(const cJSON *resp, const cJSON *want)
{
	const cJSON	*id = cJSON_GetObjectItemCaseSensitive(resp, "id");

	assert_non_null(id);
	if (want == NULL) {
		assert_true(cJSON_IsNull(id));
		return;
	}
	assert_true(cJSON_Compare(id, want, 1));
}

/* resp is an error response with this code, reason (snake_case) and field (NULL: none). */
static void
expect_error(const cJSON *resp, int code, const char *reason, const char *field)
{
	const cJSON	*v, *e, *d;

	assert_true(cJSON_IsObject(resp));
	v = cJSON_GetObjectItemCaseSensitive(resp, "jsonrpc");
	assert_true(cJSON_IsString(v));
	assert_string_equal(v->valuestring, "2.0");
	assert_null(cJSON_GetObjectItemCaseSensitive(resp, "result"));
	assert_non_null(cJSON_GetObjectItemCaseSensitive(resp, "id"));
	e = cJSON_GetObjectItemCaseSensitive(resp, "error");
	assert_true(cJSON_IsObject(e));
	v = cJSON_GetObjectItemCaseSensitive(e, "code");
	assert_true(cJSON_IsNumber(v));
	if (v->valueint != code)
		fail_msg("error code %d, want %d", v->valueint, code);
	v = cJSON_GetObjectItemCaseSensitive(e, "message");
	assert_true(cJSON_IsString(v));
	assert_true(v->valuestring[0] != '\0');
	d = cJSON_GetObjectItemCaseSensitive(e, "data");
	assert_true(cJSON_IsObject(d));
	v = cJSON_GetObjectItemCaseSensitive(d, "reason");
	assert_true(cJSON_IsString(v));
	if (!is_snake(v->valuestring))
		fail_msg("reason '%s' is not snake_case", v->valuestring);
	if (reason != NULL && strcmp(v->valuestring, reason) != 0)
		fail_msg("reason '%s', want '%s'", v->valuestring, reason);
	v = cJSON_GetObjectItemCaseSensitive(d, "field");
	if (field == NULL) {
		assert_null(v);
	} else {
		assert_true(cJSON_IsString(v));
		if (strcmp(v->valuestring, field) != 0)
			fail_msg("field '%s', want '%s'", v->valuestring, field);
	}
}

/* A single body answered with an error, status 200, id as given (NULL: null). */
static void
single_error(const char *body, int code, const char *reason, const char *field)
{
	cJSON	*r;
	int	 st;

	r = run(body, &st);
	if (r == NULL)
		fail_msg("no response for %s", body);
	assert_int_equal(st, 200);
	expect_error(r, code, reason, field);
	cJSON_Delete(r);
}

/* body parses as one call that is ready to run: no error, method found. */
static struct rpc_batch *
parse_ready(const char *body)
{
	struct rpc_batch	*b = rpc_parse(body, strlen(body));

	assert_non_null(b);
	assert_null(b->top_error);
	assert_int_equal(b->n, 1);
	if (b->calls[0].error != NULL) {
		char *s = cJSON_PrintUnformatted(b->calls[0].error);
		char  msg[512];

		snprintf(msg, sizeof(msg), "%s", s != NULL ? s : "?");
		free(s);
		rpc_batch_free(b);
		fail_msg("not ready: %s", msg);
	}
	assert_non_null(b->calls[0].m);
	assert_int_equal(b->calls[0].code, 0);
	return (b);
}

/* ------------------------------------------------------------------ */

static void
test_parse_error(void **state)
{
	static const char *const bad[] = {
		"", "   ", "{", "{\"jsonrpc\":\"2.0\",", "[1,2", "nul", "{'a':1}",
		"\"unterminated", "[,]", "[1,]", "{\"a\":1,}", "{\"a\":+1}", "{\"a\":.5}",
	};
	cJSON	*r;
	size_t	 i;
	int	 st;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = run(bad[i], &st);
		assert_non_null(r);
		assert_int_equal(st, 200);
		expect_error(r, -32700, "invalid_json", NULL);
		expect_id(r, NULL);
		cJSON_Delete(r);
	}
}

static void
test_batch_size(void **state)
{
	struct rpc_batch	*b;
	char			*body, *p;
	cJSON			*r;
	const cJSON		*e;
	int			 st, i, n;

	(void)state;
	r = run("[]", &st);
	assert_int_equal(st, 200);
	expect_error(r, -32600, "empty_batch", NULL);
	expect_id(r, NULL);
	cJSON_Delete(r);
	r = run("  [ ]  ", &st);
	expect_error(r, -32600, "empty_batch", NULL);
	cJSON_Delete(r);

	body = malloc(200 * 64);
	assert_non_null(body);
	for (n = RPC_BATCH_MAX; n <= RPC_BATCH_MAX + 1; n++) {
		p = body;
		*p++ = '[';
		for (i = 0; i < n; i++)
			p += sprintf(p, "%s{\"jsonrpc\":\"2.0\",\"method\":\"system.version\","
			    "\"id\":%d}", i > 0 ? "," : "", i);
		strcpy(p, "]");
		b = rpc_parse(body, strlen(body));
		if (n == RPC_BATCH_MAX) {
			assert_null(b->top_error);
			assert_int_equal(b->is_array, 1);
			assert_int_equal(b->n, RPC_BATCH_MAX);
			for (i = 0; i < n; i++) {
				assert_null(b->calls[i].error);
				assert_non_null(b->calls[i].m);
				assert_string_equal(b->calls[i].m->name, "system.version");
			}
			/* unexecuted calls render as results, one per id, in order */
			p = rpc_render(b, &st);
			assert_int_equal(st, 200);
			r = cJSON_Parse(p);
			free(p);
			assert_true(cJSON_IsArray(r));
			assert_int_equal(cJSON_GetArraySize(r), RPC_BATCH_MAX);
			i = 0;
			cJSON_ArrayForEach(e, r) {
				const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");

				assert_null(cJSON_GetObjectItemCaseSensitive(e, "error"));
				assert_non_null(cJSON_GetObjectItemCaseSensitive(e, "result"));
				assert_true(cJSON_IsNumber(id));
				assert_int_equal(id->valueint, i);
				i++;
			}
			cJSON_Delete(r);
		} else {
			assert_non_null(b->top_error);
			p = rpc_render(b, &st);
			assert_int_equal(st, 200);
			r = cJSON_Parse(p);
			free(p);
			expect_error(r, -32600, "batch_too_large", NULL);
			expect_id(r, NULL);
			cJSON_Delete(r);
		}
		rpc_batch_free(b);
	}
	free(body);
}

static void
test_batch_bad_element(void **state)
{
	cJSON		*r, *want;
	const cJSON	*e;
	int		 st;

	(void)state;
	r = run("[1, " CALL("system.version", "{}") ", \"x\", null, [], "
	    "{\"jsonrpc\":\"2.0\",\"method\":\"system.whoami\",\"id\":\"w\"}]", &st);
	assert_int_equal(st, 200);
	assert_true(cJSON_IsArray(r));
	assert_int_equal(cJSON_GetArraySize(r), 6);
	expect_error(cJSON_GetArrayItem(r, 0), -32600, "not_an_object", NULL);
	expect_id(cJSON_GetArrayItem(r, 0), NULL);
	e = cJSON_GetArrayItem(r, 1);
	assert_null(cJSON_GetObjectItemCaseSensitive(e, "error"));
	want = cJSON_CreateNumber(1);
	expect_id(e, want);
	cJSON_Delete(want);
	expect_error(cJSON_GetArrayItem(r, 2), -32600, "not_an_object", NULL);
	expect_error(cJSON_GetArrayItem(r, 3), -32600, "not_an_object", NULL);
	expect_error(cJSON_GetArrayItem(r, 4), -32600, "not_an_object", NULL);
	e = cJSON_GetArrayItem(r, 5);
	assert_null(cJSON_GetObjectItemCaseSensitive(e, "error"));
	want = cJSON_CreateString("w");
	expect_id(e, want);
	cJSON_Delete(want);
	cJSON_Delete(r);

	/* a body that is valid JSON but not an object */
	single_error("42", -32600, "not_an_object", NULL);
	single_error("\"system.version\"", -32600, "not_an_object", NULL);
	single_error("null", -32600, "not_an_object", NULL);
}

static void
test_invalid_request(void **state)
{
	(void)state;
	/* jsonrpc member */
	single_error("{\"method\":\"system.version\",\"id\":1}", -32600,
	    "bad_jsonrpc_version", "jsonrpc");
	single_error("{\"jsonrpc\":\"1.0\",\"method\":\"system.version\",\"id\":1}", -32600,
	    "bad_jsonrpc_version", "jsonrpc");
	single_error("{\"jsonrpc\":2.0,\"method\":\"system.version\",\"id\":1}", -32600,
	    "bad_jsonrpc_version", "jsonrpc");
	single_error("{\"jsonrpc\":\"2.0 \",\"method\":\"system.version\",\"id\":1}", -32600,
	    "bad_jsonrpc_version", "jsonrpc");
	/* without an id it is still answered: it is not a valid notification */
	single_error("{\"method\":\"system.version\"}", -32600, "bad_jsonrpc_version",
	    "jsonrpc");
	/* method member */
	single_error("{\"jsonrpc\":\"2.0\",\"method\":42,\"id\":1}", -32600,
	    "method_must_be_a_string", "method");
	single_error("{\"jsonrpc\":\"2.0\",\"method\":null,\"id\":1}", -32600,
	    "method_must_be_a_string", "method");
	single_error("{\"jsonrpc\":\"2.0\",\"id\":1}", -32600, "method_must_be_a_string",
	    "method");
	single_error("{\"jsonrpc\":\"2.0\"}", -32600, "method_must_be_a_string", "method");
	/* id member */
	single_error("{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"id\":{}}", -32600,
	    "bad_id", "id");
	single_error("{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"id\":[1]}", -32600,
	    "bad_id", "id");
	single_error("{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"id\":true}", -32600,
	    "bad_id", "id");
	/* anything else */
	single_error("{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"id\":1,\"x\":0}",
	    -32600, "unknown_member", "x");
	single_error("{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"Id\":1}",
	    -32600, "unknown_member", "Id");
}

static void
test_method_not_found(void **state)
{
	(void)state;
	single_error(CALL("system.nosuch", "{}"), -32601, "method_not_found", "method");
	single_error(CALL("", "{}"), -32601, "method_not_found", "method");
	single_error(CALL("System.Version", "{}"), -32601, "method_not_found", "method");
	single_error(CALL("system.version ", "{}"), -32601, "method_not_found", "method");
	single_error(CALL("api.call", "{}"), -32601, "method_not_found", "method");
}

static void
test_invalid_params(void **state)
{
	struct rpc_batch	*b;
	int			 i;

	(void)state;
	single_error(CALL("system.version", "[]"), -32602, "params_must_be_an_object",
	    "params");
	single_error(CALL("system.version", "[1,2]"), -32602, "params_must_be_an_object",
	    "params");
	single_error(CALL("system.version", "\"x\""), -32602, "params_must_be_an_object",
	    "params");
	single_error(CALL("system.version", "null"), -32602, "params_must_be_an_object",
	    "params");
	single_error(CALL("system.version", "{\"verbose\":true}"), -32602, "unknown_param",
	    "verbose");
	single_error(CALL("principal.create",
	    "{\"name\":\"n\",\"roles\":[\"admin\"],\"colour\":\"red\"}"), -32602,
	    "unknown_param", "colour");

	/* principal.create: name */
	single_error(CALL("principal.create", "{\"roles\":[\"admin\"]}"), -32602, "missing",
	    "name");
	/* a required param given as null is refused (the reason is not pinned down) */
	single_error(CALL("principal.create", "{\"name\":null,\"roles\":[\"admin\"]}"), -32602,
	    NULL, "name");
	single_error(CALL("principal.create", "{\"name\":\"\",\"roles\":[\"admin\"]}"), -32602,
	    "empty", "name");
	single_error(CALL("principal.create", "{\"name\":7,\"roles\":[\"admin\"]}"), -32602,
	    "not_a_string", "name");
	single_error(CALL("principal.create", "{\"name\":\"a\\u0001b\",\"roles\":[\"admin\"]}"),
	    -32602, "control_character", "name");
	/* principal.create: roles */
	single_error(CALL("principal.create", "{\"name\":\"n\"}"), -32602, "missing", "roles");
	single_error(CALL("principal.create", "{\"name\":\"n\",\"roles\":\"admin\"}"), -32602,
	    "not_a_nonempty_array", "roles");
	single_error(CALL("principal.create", "{\"name\":\"n\",\"roles\":{}}"), -32602,
	    "not_a_nonempty_array", "roles");
	single_error(CALL("principal.create", "{\"name\":\"n\",\"roles\":[]}"), -32602,
	    "not_a_nonempty_array", "roles");
	single_error(CALL("principal.create", "{\"name\":\"n\",\"roles\":[\"root\"]}"), -32602,
	    "unknown_role", "roles");
	single_error(CALL("principal.create", "{\"name\":\"n\",\"roles\":[\"admin\",\"Admin\"]}"),
	    -32602, "unknown_role", "roles");
	single_error(CALL("principal.create", "{\"name\":\"n\",\"roles\":[1]}"), -32602,
	    "unknown_role", "roles");
	/* principal.create: partner_id, optional */
	single_error(CALL("principal.create",
	    "{\"name\":\"n\",\"roles\":[\"partner\"],\"partner_id\":\"a b\"}"), -32602,
	    "bad_format", "partner_id");
	/* principal.revoke */
	single_error(CALL("principal.revoke", "{}"), -32602, "missing", "principal_id");
	single_error(CALL("principal.revoke", "{\"principal_id\":\"\"}"), -32602, "empty",
	    "principal_id");

	/* and the good ones */
	b = parse_ready(CALL("principal.create",
	    "{\"name\":\"Ani\",\"roles\":[\"admin\",\"approver\",\"auditor\",\"partner\"],"
	    "\"partner_id\":\"p_1\"}"));
	rpc_batch_free(b);
	b = parse_ready(CALL("principal.create",
	    "{\"name\":\"Ani\",\"roles\":[\"auditor\"],\"partner_id\":null}"));
	rpc_batch_free(b);
	b = parse_ready("{\"jsonrpc\":\"2.0\",\"method\":\"system.whoami\",\"id\":1}");
	assert_int_equal(cJSON_GetArraySize(b->calls[0].params), 0);
	assert_null(b->calls[0].idem);
	rpc_batch_free(b);
	for (i = 0; i < method_count(); i++)
		assert_non_null(method_name(i));
}

static void
test_idempotency_key(void **state)
{
	struct rpc_batch	*b;
	char			 key[V_IDEMPOTENCY_MAX + 2], body[512];
	const cJSON		*p;

	(void)state;
	single_error(CALL("system.whoami", "{\"idempotency_key\":\"k1\"}"), -32602,
	    "not_a_mutating_method", "idempotency_key");
	single_error(CALL("system.version", "{\"idempotency_key\":\"k1\"}"), -32602,
	    "not_a_mutating_method", "idempotency_key");
	single_error(CALL("principal.revoke", "{\"principal_id\":\"p\",\"idempotency_key\":7}"),
	    -32602, "not_a_string", "idempotency_key");
	single_error(CALL("principal.revoke", "{\"principal_id\":\"p\",\"idempotency_key\":\"\"}"),
	    -32602, "empty", "idempotency_key");
	single_error(CALL("principal.revoke",
	    "{\"principal_id\":\"p\",\"idempotency_key\":\"a b\"}"), -32602, "bad_format",
	    "idempotency_key");

	/* 129 is too long, 128 is fine */
	memset(key, 'k', V_IDEMPOTENCY_MAX + 1);
	key[V_IDEMPOTENCY_MAX + 1] = '\0';
	snprintf(body, sizeof(body), CALL("principal.revoke",
	    "{\"principal_id\":\"p\",\"idempotency_key\":\"%s\"}"), key);
	single_error(body, -32602, "too_long", "idempotency_key");
	key[V_IDEMPOTENCY_MAX] = '\0';
	snprintf(body, sizeof(body), CALL("principal.revoke",
	    "{\"principal_id\":\"p\",\"idempotency_key\":\"%s\"}"), key);
	b = parse_ready(body);
	assert_string_equal(b->calls[0].idem, key);
	rpc_batch_free(b);

	/* a valid key leaves params and is kept apart */
	b = parse_ready(CALL("principal.create",
	    "{\"name\":\"Ani\",\"idempotency_key\":\"create-ani-1\",\"roles\":[\"admin\"]}"));
	assert_non_null(b->calls[0].idem);
	assert_string_equal(b->calls[0].idem, "create-ani-1");
	p = b->calls[0].params;
	assert_null(cJSON_GetObjectItemCaseSensitive(p, "idempotency_key"));
	assert_int_equal(cJSON_GetArraySize(p), 2);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(p, "name")->valuestring, "Ani");
	assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(p, "roles")));
	rpc_batch_free(b);
	/* printable ASCII is allowed */
	b = parse_ready(CALL("principal.revoke",
	    "{\"principal_id\":\"p\",\"idempotency_key\":\"!~{}:/=\"}"));
	assert_string_equal(b->calls[0].idem, "!~{}:/=");
	rpc_batch_free(b);
}

/* consistent: every read takes it, as a boolean, and it leaves the params */
static void
test_consistent(void **state)
{
	struct rpc_batch	*b;

	(void)state;
	single_error(CALL("principal.revoke", "{\"principal_id\":\"p\",\"consistent\":true}"),
	    -32602, "not_a_read_method", "consistent");
	single_error(CALL("fund.balance", "{\"code\":\"F\",\"consistent\":1}"), -32602,
	    "not_a_boolean", "consistent");
	single_error(CALL("fund.balance", "{\"code\":\"F\",\"consistent\":\"true\"}"),
	    -32602, "not_a_boolean", "consistent");
	b = parse_ready(CALL("fund.balance", "{\"code\":\"F\",\"consistent\":true}"));
	assert_int_equal(b->calls[0].consistent, 1);
	assert_null(cJSON_GetObjectItemCaseSensitive(b->calls[0].params, "consistent"));
	assert_int_equal(cJSON_GetArraySize(b->calls[0].params), 1);
	rpc_batch_free(b);
	b = parse_ready(CALL("system.whoami", "{\"consistent\":false}"));
	assert_int_equal(b->calls[0].consistent, 0);
	assert_int_equal(cJSON_GetArraySize(b->calls[0].params), 0);
	rpc_batch_free(b);
	/* null is absent, also on a mutation */
	b = parse_ready(CALL("principal.revoke", "{\"principal_id\":\"p\",\"consistent\":null}"));
	assert_int_equal(b->calls[0].consistent, 0);
	assert_null(cJSON_GetObjectItemCaseSensitive(b->calls[0].params, "consistent"));
	rpc_batch_free(b);
}

static void
test_notifications(void **state)
{
	struct rpc_batch	*b;
	cJSON			*r, *want;
	const cJSON		*e;
	char			*s;
	int			 st;

	(void)state;
	/* a valid notification: no body, 204 */
	b = rpc_parse(NOTE("system.version"), strlen(NOTE("system.version")));
	assert_int_equal(b->n, 1);
	assert_int_equal(b->calls[0].notification, 1);
	assert_null(b->calls[0].id);
	assert_null(b->calls[0].error);
	st = -1;
	s = rpc_render(b, &st);
	assert_null(s);
	assert_int_equal(st, 204);
	rpc_batch_free(b);

	/* notifications with a bad method or bad params get no answer either */
	r = run(NOTE("system.nosuch"), &st);
	assert_null(r);
	assert_int_equal(st, 204);
	r = run("{\"jsonrpc\":\"2.0\",\"method\":\"principal.create\",\"params\":{}}", &st);
	assert_null(r);
	assert_int_equal(st, 204);

	/* a batch of only notifications */
	r = run("[" NOTE("system.version") "," NOTE("system.whoami") "," NOTE("region.list")
	    "]", &st);
	assert_null(r);
	assert_int_equal(st, 204);

	/* mixed: only the calls with an id are answered, in order */
	r = run("[" NOTE("system.version") ","
	    "{\"jsonrpc\":\"2.0\",\"method\":\"system.whoami\",\"id\":\"a\"},"
	    NOTE("region.list") ","
	    "{\"jsonrpc\":\"2.0\",\"method\":\"system.nosuch\",\"id\":\"b\"},"
	    NOTE("system.nosuch") "]", &st);
	assert_int_equal(st, 200);
	assert_true(cJSON_IsArray(r));
	assert_int_equal(cJSON_GetArraySize(r), 2);
	e = cJSON_GetArrayItem(r, 0);
	assert_null(cJSON_GetObjectItemCaseSensitive(e, "error"));
	assert_non_null(cJSON_GetObjectItemCaseSensitive(e, "result"));
	want = cJSON_CreateString("a");
	expect_id(e, want);
	cJSON_Delete(want);
	e = cJSON_GetArrayItem(r, 1);
	expect_error(e, -32601, "method_not_found", "method");
	want = cJSON_CreateString("b");
	expect_id(e, want);
	cJSON_Delete(want);
	cJSON_Delete(r);

	/* a batch of one call is still an array */
	r = run("[" CALL("system.version", "{}") "]", &st);
	assert_int_equal(st, 200);
	assert_true(cJSON_IsArray(r));
	assert_int_equal(cJSON_GetArraySize(r), 1);
	cJSON_Delete(r);
}

static void
test_id_echo(void **state)
{
	static const char *const ids[] = {
		"\"abc\"", "\"\"", "\"\\u00e9\\n\"", "7", "0", "-3", "1.5", "2147483648",
		"null",
	};
	char		 body[256];
	cJSON		*r, *want;
	size_t		 i;
	int		 st, pass;

	(void)state;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			/* pass 0: a result; pass 1: an error */
			snprintf(body, sizeof(body), "{\"id\":%s,\"jsonrpc\":\"2.0\","
			    "\"method\":\"%s\"}", ids[i],
			    pass == 0 ? "system.version" : "nosuch");
			r = run(body, &st);
			assert_non_null(r);
			assert_int_equal(st, 200);
			want = cJSON_Parse(ids[i]);
			assert_non_null(want);
			expect_id(r, want);
			cJSON_Delete(want);
			if (pass == 1)
				expect_error(r, -32601, "method_not_found", "method");
			else
				assert_null(cJSON_GetObjectItemCaseSensitive(r, "error"));
			cJSON_Delete(r);
		}
	}
	/* "id": null is a call, not a notification */
	r = run("{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"id\":null}", &st);
	assert_non_null(r);
	assert_int_equal(st, 200);
	expect_id(r, NULL);
	cJSON_Delete(r);
}

/* Render body and return the response text (allocated). */
static char *
render_text(const char *body, size_t len, int *status)
{
	struct rpc_batch	*b = rpc_parse(body, len);
	char			*s;

	s = rpc_render(b, status);
	rpc_batch_free(b);
	assert_non_null(s);
	return (s);
}

static void
test_id_text_echoed(void **state)
{
	static const char *const ids[] = {
		"9007199254740993", "1e400", "-0", "1.50", "12345678901234567890123", "2E-3",
	};
	char	 body[256], want[128], *out;
	size_t	 i;
	int	 st;

	(void)state;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\": %s ,"
		    "\"method\":\"system.version\"}", ids[i]);
		out = render_text(body, strlen(body), &st);
		snprintf(want, sizeof(want), "\"id\":%s}", ids[i]);
		if (strstr(out, want) == NULL)
			fail_msg("id %s answered as %s", ids[i], out);
		free(out);
	}
	/* in a batch, each element its own */
	out = render_text("[{\"jsonrpc\":\"2.0\",\"id\":9007199254740993,\"method\":\"x.y\"},"
	    "{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"params\":{\"id\":5}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":1e400,\"method\":\"system.version\"}]",
	    strlen("[{\"jsonrpc\":\"2.0\",\"id\":9007199254740993,\"method\":\"x.y\"},"
	    "{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"params\":{\"id\":5}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":1e400,\"method\":\"system.version\"}]"), &st);
	assert_non_null(strstr(out, "\"id\":9007199254740993}"));
	assert_non_null(strstr(out, "\"id\":1e400}"));
	free(out);
}

static void
test_bad_ids_refused(void **state)
{
	static const char bad_utf8[] = "{\"jsonrpc\":\"2.0\",\"id\":\"a\xff\",\"method\":"
	    "\"system.version\"}";
	char	*out;
	int	 st;
	cJSON	*r;

	(void)state;
	/* an id string that is not UTF-8: -32600 bad_id, answered with id null */
	out = render_text(bad_utf8, sizeof(bad_utf8) - 1, &st);
	r = cJSON_Parse(out);
	assert_non_null(r);
	expect_error(r, -32600, "bad_id", "id");
	expect_id(r, NULL);
	assert_null(strchr(out, 0xff));
	cJSON_Delete(r);
	free(out);
	/* nor is any key of the request that is not UTF-8 */
	{
		static const char k[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		    "\"principal.create\",\"params\":{\"n\xff\":1}}";
		static const char m[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"x\xc0\":1,"
		    "\"method\":\"system.version\"}";

		out = render_text(k, sizeof(k) - 1, &st);
		assert_null(strchr(out, 0xff));
		assert_non_null(strstr(out, "unknown_param"));
		free(out);
		out = render_text(m, sizeof(m) - 1, &st);
		assert_null(strchr(out, 0xc0));
		assert_non_null(strstr(out, "unknown_member"));
		free(out);
	}
	single_error("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"system.version\"}",
	    -32600, "bad_id", "id");
	single_error("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"system.version\"}",
	    -32600, "bad_id", "id");
	/* numbers that are not JSON: the whole body is not JSON */
	single_error("{\"jsonrpc\":\"2.0\",\"id\":01,\"method\":\"system.version\"}",
	    -32700, "invalid_json", NULL);
	single_error("{\"jsonrpc\":\"2.0\",\"id\":1.,\"method\":\"system.version\"}",
	    -32700, "invalid_json", NULL);
	single_error("{\"jsonrpc\":\"2.0\",\"id\":-,\"method\":\"system.version\"}",
	    -32700, "invalid_json", NULL);
	single_error("{\"jsonrpc\":\"2.0\",\"id\":0x10,\"method\":\"system.version\"}",
	    -32700, "invalid_json", NULL);
}

static void
test_raw_control_characters(void **state)
{
	static const char nul[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"partner.create\","
	    "\"params\":{\"name\":\"Alice\0Evil\",\"country\":\"AM\"}}";
	static const char *const bad[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.version\",\"x\":\"a\tb\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.ver\nsion\"}",
		"[{\"jsonrpc\":\"2.0\",\"id\":\"\x1f\",\"method\":\"system.version\"}]",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.version\",\"k\x01\":1}",
	};
	cJSON	*r;
	char	*out;
	size_t	 i;
	int	 st;

	(void)state;
	out = render_text(nul, sizeof(nul) - 1, &st);
	r = cJSON_Parse(out);
	assert_non_null(r);
	assert_int_equal(st, 200);
	expect_error(r, -32700, "raw_control_character", NULL);
	expect_id(r, NULL);
	cJSON_Delete(r);
	free(out);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		single_error(bad[i], -32700, "raw_control_character", NULL);
	/* escaped control characters are JSON; whitespace between tokens is fine */
	single_error("{\"jsonrpc\":\"2.0\",\r\n\t\"id\":1,\"method\":\"nosuch\\n\"}", -32601,
	    "method_not_found", "method");
}

static void
test_duplicate_keys(void **state)
{
	char	 big[2048];
	size_t	 n;
	int	 k;

	(void)state;
	single_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"fund.record_earnings\","
	    "\"params\":{\"amount\":\"1.00\",\"amount\":\"900.00\"}}", -32600, "duplicate_key",
	    "amount");
	single_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.version\","
	    "\"method\":\"system.whoami\"}", -32600, "duplicate_key", "method");
	/* an escape spelling the same key is the same key */
	single_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"\\u0069d\":2,\"method\":\"system.version\"}",
	    -32600, "duplicate_key", "id");
	/* at any depth */
	single_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.version\",\"params\":"
	    "{\"a\":[{\"b\":{\"c\":1,\"c\":2}}]}}", -32600, "duplicate_key", "c");
	/* many keys (the hashed path), the copy last */
	n = (size_t)snprintf(big, sizeof(big), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"system.version\",\"params\":{");
	for (k = 0; k < 40; k++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "\"k%d\":%d,", k, k);
	snprintf(big + n, sizeof(big) - n, "\"k17\":0}}");
	single_error(big, -32600, "duplicate_key", "k17");
	/* the same key in two objects is no duplicate */
	single_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nosuch\",\"params\":"
	    "{\"a\":{\"x\":1},\"b\":{\"x\":1}}}", -32601, "method_not_found", "method");
}

/* A call to "nosuch" whose params hold arrays nested so that the body has depth
 * containers in all. */
static char *
nested(size_t depth)
{
	char	*body = malloc(2 * depth + 128);
	size_t	 i, n;

	assert_non_null(body);
	n = (size_t)sprintf(body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nosuch\","
	    "\"params\":{\"a\":");
	for (i = 2; i < depth; i++)
		body[n++] = '[';
	body[n++] = '1';
	for (i = 2; i < depth; i++)
		body[n++] = ']';
	strcpy(body + n, "}}");
	return (body);
}

static void
test_nesting_limit(void **state)
{
	char	*body;

	(void)state;
	body = nested(RPC_DEPTH_MAX + 1);
	single_error(body, -32700, "invalid_json", NULL);
	free(body);
	body = nested(RPC_DEPTH_MAX);
	single_error(body, -32601, "method_not_found", "method");
	free(body);
}

/* Mark every call that would run with error code; parse errors stay as they are. */
static void
fail_ran(struct rpc_batch *b, int code, const char *reason)
{
	int	i;

	for (i = 0; i < b->n; i++)
		if (b->calls[i].m != NULL && b->calls[i].error == NULL)
			rpc_set_error(&b->calls[i], code, reason, NULL);
}

/* Render b, free it, and parse the body. */
static cJSON *
render_free(struct rpc_batch *b, int *status)
{
	char	*s;
	cJSON	*r = NULL;

	*status = -1;
	s = rpc_render(b, status);
	if (s != NULL) {
		r = cJSON_Parse(s);
		assert_non_null(r);
		free(s);
	}
	rpc_batch_free(b);
	return (r);
}

#define PARSE(s)	rpc_parse((s), strlen(s))

static void
test_status_unauthenticated(void **state)
{
	struct rpc_batch	*b;
	cJSON			*r, *want;
	int			 st;

	(void)state;
	/* a single call */
	b = PARSE(CALL("system.whoami", "{}"));
	fail_ran(b, -32001, "bad_credentials");
	r = render_free(b, &st);
	assert_int_equal(st, 401);
	expect_error(r, -32001, "bad_credentials", NULL);
	want = cJSON_CreateNumber(1);
	expect_id(r, want);
	cJSON_Delete(want);
	cJSON_Delete(r);

	/* a batch where every call that ran was refused: one error object, not an array */
	b = PARSE("[" CALL("system.whoami", "{}") ","
	    "{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"id\":2},"
	    NOTE("region.list") "]");
	fail_ran(b, -32001, "bad_credentials");
	r = render_free(b, &st);
	assert_int_equal(st, 401);
	assert_true(cJSON_IsObject(r));
	expect_error(r, -32001, "bad_credentials", NULL);
	cJSON_Delete(r);

	/* calls that never ran (unknown method, not an object) do not change that */
	b = PARSE("[" CALL("system.nosuch", "{}") ", 5, " CALL("system.whoami", "{}") "]");
	fail_ran(b, -32001, "bad_credentials");
	r = render_free(b, &st);
	assert_int_equal(st, 401);
	expect_error(r, -32001, "bad_credentials", NULL);
	cJSON_Delete(r);

	/* a notification alone: still 401, with a body */
	b = PARSE(NOTE("system.whoami"));
	fail_ran(b, -32001, "bad_credentials");
	r = render_free(b, &st);
	assert_int_equal(st, 401);
	expect_error(r, -32001, "bad_credentials", NULL);
	expect_id(r, NULL);
	cJSON_Delete(r);

	/* one of two refused (revoked between the calls of a batch): the credentials
	 * failed, so the whole request is 401 */
	b = PARSE("[" CALL("system.whoami", "{}") ","
	    "{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"id\":2}]");
	rpc_set_error(&b->calls[0], -32001, "bad_credentials", NULL);
	r = render_free(b, &st);
	assert_int_equal(st, 401);
	assert_true(cJSON_IsObject(r));
	expect_error(r, -32001, "bad_credentials", NULL);
	cJSON_Delete(r);

	/* a NUL inside a string would be cut short by cJSON: refused whole; an escaped
	 * backslash followed by "u0000" is ordinary text */
	b = PARSE("{\"jsonrpc\":\"2.0\",\"method\":\"principal.create\",\"id\":1,"
	    "\"params\":{\"name\":\"a\\u0000b\",\"roles\":[\"admin\"]}}");
	r = render_free(b, &st);
	expect_error(r, -32602, "nul_character", NULL);
	cJSON_Delete(r);
	b = PARSE("{\"jsonrpc\":\"2.0\",\"method\":\"principal.create\",\"id\":1,"
	    "\"params\":{\"name\":\"a\\\\u0000b\",\"roles\":[\"admin\"]}}");
	assert_null(b->top_error);
	assert_int_equal(b->calls[0].code, 0);
	assert_string_equal(cJSON_GetObjectItem(b->calls[0].params, "name")->valuestring,
	    "a\\u0000b");
	rpc_batch_free(b);

	/* trailing bytes after the JSON value are a parse error, not ignored */
	b = PARSE("{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"id\":1} x");
	r = render_free(b, &st);
	expect_error(r, -32700, "invalid_json", NULL);
	cJSON_Delete(r);
	b = PARSE("{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"id\":1}"
	    "{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"id\":2}");
	r = render_free(b, &st);
	expect_error(r, -32700, "invalid_json", NULL);
	cJSON_Delete(r);
	b = PARSE("{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"id\":1} \r\n");
	r = render_free(b, &st);
	assert_int_equal(st, 200);
	assert_non_null(cJSON_GetObjectItem(r, "result"));
	cJSON_Delete(r);

	/* nothing ran at all: no 401 */
	b = PARSE("[" CALL("system.nosuch", "{}") "]");
	r = render_free(b, &st);
	assert_int_equal(st, 200);
	cJSON_Delete(r);
}

static void
test_status_unavailable(void **state)
{
	struct rpc_batch	*b;
	cJSON			*r;
	int			 st;

	(void)state;
	b = PARSE(CALL("system.whoami", "{}"));
	fail_ran(b, -32050, "database_unavailable");
	r = render_free(b, &st);
	assert_int_equal(st, 503);
	expect_error(r, -32050, "database_unavailable", NULL);
	cJSON_Delete(r);

	b = PARSE(CALL("system.whoami", "{}"));
	fail_ran(b, -32029, "overloaded");
	r = render_free(b, &st);
	assert_int_equal(st, 503);
	expect_error(r, -32029, "overloaded", NULL);
	cJSON_Delete(r);

	/* other errors keep 200 */
	b = PARSE(CALL("system.whoami", "{}"));
	fail_ran(b, -32603, "internal_error");
	r = render_free(b, &st);
	assert_int_equal(st, 200);
	expect_error(r, -32603, "internal_error", NULL);
	cJSON_Delete(r);

	/* in a batch the status stays 200 and each entry carries its own error */
	b = PARSE("[" CALL("system.whoami", "{}") "]");
	fail_ran(b, -32050, "database_unavailable");
	r = render_free(b, &st);
	assert_int_equal(st, 200);
	assert_true(cJSON_IsArray(r));
	expect_error(cJSON_GetArrayItem(r, 0), -32050, "database_unavailable", NULL);
	cJSON_Delete(r);

	/* a notification gets nothing, whatever happened */
	b = PARSE(NOTE("system.whoami"));
	fail_ran(b, -32050, "database_unavailable");
	r = render_free(b, &st);
	assert_null(r);
	assert_int_equal(st, 204);
}

/* rpc_set_error replaces a result or an earlier error, and copies its strings. */
static void
test_set_error(void **state)
{
	struct rpc_batch	*b;
	cJSON			*r;
	char			 reason[32], field[32];
	int			 st;

	(void)state;
	b = PARSE(CALL("system.whoami", "{}"));
	b->calls[0].result = cJSON_CreateString("partial");
	strcpy(reason, "first_reason");
	strcpy(field, "first_field");
	rpc_set_error(&b->calls[0], -32009, reason, field);
	strcpy(reason, "clobbered");
	strcpy(field, "clobbered");
	assert_null(b->calls[0].result);
	assert_int_equal(b->calls[0].code, -32009);
	rpc_set_error(&b->calls[0], -32004, "not_found", "principal_id");
	assert_int_equal(b->calls[0].code, -32004);
	r = render_free(b, &st);
	assert_int_equal(st, 200);
	expect_error(r, -32004, "not_found", "principal_id");
	cJSON_Delete(r);
}

/* Every reason the parser can give is snake_case (docs/protocol.md). */
static void
test_reasons_snake_case(void **state)
{
	static const char *const bodies[] = {
		"", "[]", "[1]", "7",
		"{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"id\":1,\"x\":1}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"system.version\",\"id\":{}}",
		"{\"jsonrpc\":\"3.0\",\"method\":\"system.version\",\"id\":1}",
		"{\"jsonrpc\":\"2.0\",\"method\":[],\"id\":1}",
		CALL("nosuch", "{}"),
		CALL("system.version", "[]"),
		CALL("system.version", "{\"a\":1}"),
		CALL("system.version", "{\"idempotency_key\":\"k\"}"),
		CALL("principal.revoke", "{\"principal_id\":\"p\",\"idempotency_key\":1}"),
		CALL("principal.revoke", "{\"principal_id\":\"p\",\"idempotency_key\":\"\"}"),
		CALL("principal.revoke", "{\"principal_id\":\"p\",\"idempotency_key\":\" \"}"),
		CALL("principal.revoke", "{\"principal_id\":\"p q\"}"),
		CALL("principal.revoke", "{\"principal_id\":[]}"),
		CALL("principal.revoke", "{}"),
		CALL("principal.create", "{\"name\":\"\\u0007\",\"roles\":[\"admin\"]}"),
		CALL("principal.create", "{\"name\":\"\\udc00\",\"roles\":[\"admin\"]}"),
		CALL("principal.create", "{\"name\":\"n\",\"roles\":5}"),
		CALL("principal.create", "{\"name\":\"n\",\"roles\":[\"x\"]}"),
		CALL("principal.create", "{\"name\":\"n\",\"roles\":[\"admin\"],"
		    "\"partner_id\":\"\"}"),
	};
	char	name[260], body[512];
	cJSON	*r;
	size_t	 i;
	int	 st;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		const cJSON	*one, *e, *d, *f;

		r = run(bodies[i], &st);
		assert_non_null(r);
		one = cJSON_IsArray(r) ? cJSON_GetArrayItem(r, 0) : r;
		e = cJSON_GetObjectItemCaseSensitive(one, "error");
		d = cJSON_GetObjectItemCaseSensitive(e, "data");
		f = cJSON_GetObjectItemCaseSensitive(d, "field");
		assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "code")));
		/* checks the shape and that data.reason is snake_case */
		expect_error(one, cJSON_GetObjectItemCaseSensitive(e, "code")->valueint, NULL,
		    cJSON_IsString(f) ? f->valuestring : NULL);
		cJSON_Delete(r);
	}
	/* name: 200 bytes fit, 201 do not */
	memset(name, 'n', 201);
	name[201] = '\0';
	snprintf(body, sizeof(body), CALL("principal.create",
	    "{\"name\":\"%s\",\"roles\":[\"admin\"]}"), name);
	single_error(body, -32602, "too_long", "name");
	name[200] = '\0';
	snprintf(body, sizeof(body), CALL("principal.create",
	    "{\"name\":\"%s\",\"roles\":[\"admin\"]}"), name);
	rpc_batch_free(parse_ready(body));
	assert_true(is_snake("a_b9"));
	assert_false(is_snake("A_b"));
	assert_false(is_snake("_a"));
	assert_false(is_snake("9a"));
	assert_false(is_snake("a-b"));
	assert_false(is_snake(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_error),
		cmocka_unit_test(test_batch_size),
		cmocka_unit_test(test_batch_bad_element),
		cmocka_unit_test(test_invalid_request),
		cmocka_unit_test(test_method_not_found),
		cmocka_unit_test(test_invalid_params),
		cmocka_unit_test(test_idempotency_key),
		cmocka_unit_test(test_consistent),
		cmocka_unit_test(test_notifications),
		cmocka_unit_test(test_id_echo),
		cmocka_unit_test(test_id_text_echoed),
		cmocka_unit_test(test_bad_ids_refused),
		cmocka_unit_test(test_raw_control_characters),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_status_unauthenticated),
		cmocka_unit_test(test_status_unavailable),
		cmocka_unit_test(test_set_error),
		cmocka_unit_test(test_reasons_snake_case),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
