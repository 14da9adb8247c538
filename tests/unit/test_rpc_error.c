/*
 * test_rpc_error.c: unit tests for the table of JSON-RPC error codes (daemon/rpc_error.c):
 * the codes of docs/protocol.md, each once, with the message the daemon writes and the
 * label /metrics counts it under.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rpc_error.h"

/* docs/protocol.md, in its order, which is also the order of the outcomes in /metrics */
static const int protocol_codes[] = {
	-32700, -32600, -32601, -32602, -32603, -32001, -32003, -32004, -32009, -32010,
	-32011, -32029, -32050, -32051,
};

static int
is_snake(const char *s)
{
	if (s == NULL || !(*s >= 'a' && *s <= 'z'))
		return 0;
	for (s++; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static void
test_every_protocol_code_once(void **state)
{
	size_t	i, j;

	(void)state;
	assert_int_equal(rpc_nerrors, sizeof(protocol_codes) / sizeof(protocol_codes[0]));
	for (i = 0; i < rpc_nerrors; i++) {
		assert_int_equal(rpc_errors[i].code, protocol_codes[i]);
		assert_int_equal(rpc_error_index(protocol_codes[i]), (int)i);
		for (j = i + 1; j < rpc_nerrors; j++)
			assert_int_not_equal(rpc_errors[i].code, rpc_errors[j].code);
	}
}

static void
test_messages_and_labels(void **state)
{
	size_t	i, j;

	(void)state;
	for (i = 0; i < rpc_nerrors; i++) {
		assert_non_null(rpc_errors[i].message);
		assert_true(rpc_errors[i].message[0] != '\0');
		/* a message goes into JSON as it is: nothing to escape */
		assert_null(strpbrk(rpc_errors[i].message, "\"\\"));
		if (!is_snake(rpc_errors[i].label))
			fail_msg("label '%s' is not snake_case", rpc_errors[i].label);
		assert_string_not_equal(rpc_errors[i].label, "ok");
		for (j = i + 1; j < rpc_nerrors; j++)
			assert_string_not_equal(rpc_errors[i].label, rpc_errors[j].label);
	}
}

/* The messages the daemon has always written for the errors it sets itself. */
static void
test_daemon_messages(void **state)
{
	(void)state;
	assert_string_equal(rpc_error_message(RPC_PARSE_ERROR), "Parse error");
	assert_string_equal(rpc_error_message(RPC_INVALID_REQUEST), "Invalid Request");
	assert_string_equal(rpc_error_message(RPC_METHOD_NOT_FOUND), "Method not found");
	assert_string_equal(rpc_error_message(RPC_INVALID_PARAMS), "Invalid params");
	assert_string_equal(rpc_error_message(RPC_INTERNAL_ERROR), "Internal error");
	assert_string_equal(rpc_error_message(RPC_UNAUTHENTICATED), "unauthenticated");
	assert_string_equal(rpc_error_message(RPC_FORBIDDEN), "forbidden");
	assert_string_equal(rpc_error_message(RPC_CONFLICT), "Conflict");
	assert_string_equal(rpc_error_message(RPC_OVERLOADED), "Overloaded");
	assert_string_equal(rpc_error_message(RPC_DB_UNAVAILABLE), "Database unavailable");
	assert_string_equal(rpc_error_message(RPC_OUTCOME_UNKNOWN), "Outcome unknown");
}

static void
test_unknown_codes(void **state)
{
	(void)state;
	assert_int_equal(rpc_error_index(RPC_OK), -1);
	assert_int_equal(rpc_error_index(-32000), -1);
	assert_int_equal(rpc_error_index(42), -1);
	assert_string_equal(rpc_error_message(-32000), "Internal error");
	assert_string_equal(rpc_error_message(RPC_OK), "Internal error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_protocol_code_once),
		cmocka_unit_test(test_messages_and_labels),
		cmocka_unit_test(test_daemon_messages),
		cmocka_unit_test(test_unknown_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
