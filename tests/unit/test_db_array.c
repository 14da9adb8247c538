/*
 * test_db_array.c: unit tests for db_array_literal() (daemon/db_batch.c), which turns the
 * parameters of a batch's calls into the array parameters of api.call_many(). What
 * PostgreSQL makes of them, through the real daemon, is tested in
 * tests/integration/test_bulk.py.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db_batch.h"

static void
check(const char *const *values, int n, const char *want)
{
	char	*got = db_array_literal(values, n);

	assert_string_equal(got, want);
	free(got);
}

static void
test_plain_values_are_quoted(void **state)
{
	const char *v[] = { "contribution.receive", "{admin,cashier}", "" };

	(void)state;
	check(v, 3, "{\"contribution.receive\",\"{admin,cashier}\",\"\"}");
}

static void
test_null_is_the_bare_word(void **state)
{
	const char *v[] = { NULL, "NULL", NULL };

	(void)state;
	/* SQL NULL unquoted; the string "NULL" quoted, so it stays a string */
	check(v, 3, "{NULL,\"NULL\",NULL}");
}

static void
test_quotes_and_backslashes_are_escaped(void **state)
{
	const char *v[] = { "{\"bank_ref\":\"a \\\"b\\\" c\\\\d\"}", "\\x00ff" };

	(void)state;
	/* JSON with escaped quotes and a backslash; a bytea in hex */
	check(v, 2, "{\"{\\\"bank_ref\\\":\\\"a \\\\\\\"b\\\\\\\" c\\\\\\\\d\\\"}\","
	    "\"\\\\x00ff\"}");
}

static void
test_delimiters_and_spaces_stay_inside_the_quotes(void **state)
{
	const char *v[] = { " a, b ", "}{", "\t\n" };

	(void)state;
	check(v, 3, "{\" a, b \",\"}{\",\"\t\n\"}");
}

static void
test_empty_array(void **state)
{
	(void)state;
	check(NULL, 0, "{}");
}

static void
test_long_values(void **state)
{
	char		*big = malloc(100001), *want, *got;
	const char	*v[2];

	(void)state;
	assert_non_null(big);
	memset(big, '"', 100000);
	big[100000] = '\0';
	v[0] = big;
	v[1] = NULL;
	got = db_array_literal(v, 2);
	/* every quote escaped: 2 bytes each, plus the braces, quotes, comma and NULL */
	assert_int_equal(strlen(got), 200000 + 2 + 2 + 1 + 4);
	want = got + 1;
	assert_int_equal(want[0], '"');
	assert_memory_equal(want + 1, "\\\"\\\"", 4);
	assert_string_equal(got + strlen(got) - 7, "\",NULL}");
	free(got);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_values_are_quoted),
		cmocka_unit_test(test_null_is_the_bare_word),
		cmocka_unit_test(test_quotes_and_backslashes_are_escaped),
		cmocka_unit_test(test_delimiters_and_spaces_stay_inside_the_quotes),
		cmocka_unit_test(test_empty_array),
		cmocka_unit_test(test_long_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
