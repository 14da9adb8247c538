/*
 * test_fundctl_ledger.c: unit tests for clients/fundctl_ledger.c, the table of
 * `fundctl ledger trial-balance`: the exact text of a table, balances by side,
 * every currency, and results a server should never send (missing members,
 * numbers for strings, control characters), which must give an error or a
 * clean table, never a crash or raw bytes on the terminal.
 *
 * Links fundctl_ledger.c, fundctl_util.c, cJSON and cmocka.
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

#include "fundctl.h"
#include "fundctl_ledger.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* Run fc_print_trial_balance on the JSON text; its return value, and what
 * it printed in *out (allocated). */
static int
print_json(const char *title, const char *json, char **out, char **cause)
{
	cJSON	*res = cJSON_Parse(json);
	FILE	*f;
	size_t	 n;
	int	 rc;

	assert_non_null(res);
	*out = NULL;
	f = open_memstream(out, &n);
	assert_non_null(f);
	rc = fc_print_trial_balance(f, title, res, cause);
	assert_int_equal(fclose(f), 0);
	cJSON_Delete(res);
	return rc;
}

#define TB_EUR \
	"{\"currency\": \"EUR\", \"accounts\": [" \
	"{\"account\": \"G:cash\", \"fund\": \"G\", \"currency\": \"EUR\", " \
	"\"opening\": \"107.00\", \"debit\": \"50.00\", \"credit\": \"0.00\", " \
	"\"closing\": \"157.00\"}, " \
	"{\"account\": \"G:contributions\", \"fund\": \"G\", \"currency\": \"EUR\", " \
	"\"opening\": \"-100.00\", \"debit\": \"0.00\", \"credit\": \"50.00\", " \
	"\"closing\": \"-150.00\"}, " \
	"{\"account\": \"G:earnings\", \"fund\": \"G\", \"currency\": \"EUR\", " \
	"\"opening\": \"-7.00\", \"debit\": \"7.00\", \"credit\": \"0.00\", " \
	"\"closing\": \"-0.00\"}], " \
	"\"totals\": {\"opening_debit\": \"107.00\", \"opening_credit\": \"107.00\", " \
	"\"debit\": \"57.00\", \"credit\": \"50.00\", \"closing_debit\": \"157.00\", " \
	"\"closing_credit\": \"150.00\"}, " \
	"\"totals_by_currency\": [{\"currency\": \"EUR\", " \
	"\"opening_debit\": \"107.00\", \"opening_credit\": \"107.00\", " \
	"\"debit\": \"57.00\", \"credit\": \"50.00\", \"closing_debit\": \"157.00\", " \
	"\"closing_credit\": \"150.00\"}]}"

static void
test_table(void **state)
{
	char	*out, *cause = NULL;

	(void)state;
	assert_int_equal(print_json("Trial balance of fund G", TB_EUR, &out,
	    &cause), 0);
	assert_null(cause);
	assert_string_equal(out,
	    "Trial balance of fund G\n"
	    "\n"
	    "account          currency    opening  debit  credit    closing\n"
	    "G:cash           EUR       107.00 Dr  50.00    0.00  157.00 Dr\n"
	    "G:contributions  EUR       100.00 Cr   0.00   50.00  150.00 Cr\n"
	    "G:earnings       EUR         7.00 Cr   7.00    0.00    0.00   \n"
	    "total            EUR       107.00 Dr  57.00   50.00  157.00 Dr\n"
	    "                           107.00 Cr                 150.00 Cr\n");
	free(out);
}

static void
test_every_currency(void **state)
{
	char	*out, *cause = NULL;

	(void)state;
	assert_int_equal(print_json(NULL,
	    "{\"currency\": null, \"totals\": null, \"accounts\": ["
	    "{\"account\": \"E:cash\", \"fund\": \"E\", \"currency\": \"EUR\", "
	    "\"opening\": \"0.00\", \"debit\": \"1.50\", \"credit\": \"0.00\", "
	    "\"closing\": \"1.50\"}, "
	    "{\"account\": \"J:cash\", \"fund\": \"J\", \"currency\": \"JPY\", "
	    "\"opening\": \"0\", \"debit\": \"15\", \"credit\": \"0\", "
	    "\"closing\": \"15\"}], "
	    "\"totals_by_currency\": ["
	    "{\"currency\": \"EUR\", \"opening_debit\": \"0.00\", "
	    "\"opening_credit\": \"0.00\", \"debit\": \"1.50\", \"credit\": \"1.50\", "
	    "\"closing_debit\": \"1.50\", \"closing_credit\": \"1.50\"}, "
	    "{\"currency\": \"JPY\", \"opening_debit\": \"0\", "
	    "\"opening_credit\": \"0\", \"debit\": \"15\", \"credit\": \"15\", "
	    "\"closing_debit\": \"15\", \"closing_credit\": \"15\"}]}",
	    &out, &cause), 0);
	assert_string_equal(out,
	    "account  currency  opening  debit  credit  closing\n"
	    "E:cash   EUR       0.00      1.50    0.00  1.50 Dr\n"
	    "J:cash   JPY          0        15       0    15 Dr\n"
	    "total    EUR       0.00 Dr   1.50    1.50  1.50 Dr\n"
	    "                   0.00 Cr                 1.50 Cr\n"
	    "total    JPY          0 Dr     15      15    15 Dr\n"
	    "                      0 Cr                   15 Cr\n");
	free(out);
}

static void
test_no_entries(void **state)
{
	char	*out, *cause = NULL;

	(void)state;
	assert_int_equal(print_json(NULL,
	    "{\"currency\": \"JPY\", \"accounts\": [], \"totals\": "
	    "{\"opening_debit\": \"0\", \"opening_credit\": \"0\", \"debit\": \"0\", "
	    "\"credit\": \"0\", \"closing_debit\": \"0\", \"closing_credit\": \"0\"}, "
	    "\"totals_by_currency\": []}", &out, &cause), 0);
	assert_string_equal(out,
	    "account  currency  opening  debit  credit  closing\n"
	    "(no entries)\n"
	    "total    JPY          0 Dr      0       0     0 Dr\n"
	    "                      0 Cr                    0 Cr\n");
	free(out);
}

/* A server's strings reach the terminal cleaned: no escape sequences. */
static void
test_control_characters(void **state)
{
	char	*out, *cause = NULL;

	(void)state;
	assert_int_equal(print_json("T",
	    "{\"currency\": \"EUR\", \"accounts\": ["
	    "{\"account\": \"G:\\u001b[2Jcash\\n\", \"fund\": \"G\", "
	    "\"currency\": \"EUR\", \"opening\": \"0.00\", \"debit\": \"1\\u0007\", "
	    "\"credit\": \"0.00\", \"closing\": \"-\\u001b\"}], \"totals\": "
	    "{\"opening_debit\": \"0\", \"opening_credit\": \"0\", \"debit\": \"0\", "
	    "\"credit\": \"0\", \"closing_debit\": \"0\", \"closing_credit\": \"0\"}, "
	    "\"totals_by_currency\": []}", &out, &cause), 0);
	assert_null(strchr(out, '\033'));
	assert_null(strchr(out, '\007'));
	assert_non_null(strstr(out, "G:?[2Jcash "));
	assert_non_null(strstr(out, "? Cr"));
	free(out);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{}",
		"{\"currency\": \"EUR\", \"accounts\": {}, \"totals_by_currency\": []}",
		"{\"currency\": 1, \"accounts\": [], \"totals_by_currency\": []}",
		"{\"currency\": \"EUR\", \"accounts\": [], \"totals_by_currency\": {}}",
		/* an account without closing */
		"{\"currency\": null, \"accounts\": [{\"account\": \"a\", "
		"\"currency\": \"EUR\", \"opening\": \"0\", \"debit\": \"0\", "
		"\"credit\": \"0\"}], \"totals_by_currency\": []}",
		/* an amount as a number */
		"{\"currency\": null, \"accounts\": [{\"account\": \"a\", "
		"\"currency\": \"EUR\", \"opening\": 0, \"debit\": \"0\", "
		"\"credit\": \"0\", \"closing\": \"0\"}], \"totals_by_currency\": []}",
		/* one currency, no totals */
		"{\"currency\": \"EUR\", \"accounts\": [], \"totals_by_currency\": []}",
		"{\"currency\": \"EUR\", \"accounts\": [], \"totals\": null, "
		"\"totals_by_currency\": []}",
		/* a total missing */
		"{\"currency\": \"EUR\", \"accounts\": [], \"totals\": {\"debit\": \"0\"},"
		" \"totals_by_currency\": []}",
		/* totals of no currency */
		"{\"currency\": null, \"accounts\": [], \"totals_by_currency\": [{}]}",
		"{\"currency\": null, \"accounts\": [], \"totals_by_currency\": "
		"[{\"currency\": \"EUR\"}]}",
	};
	char	*out, *cause;
	size_t	 i;

	(void)state;
	for (i = 0; i < NITEMS(bad); i++) {
		cause = NULL;
		assert_int_equal(print_json("T", bad[i], &out, &cause), -1);
		assert_non_null(cause);
		assert_non_null(strstr(cause, "malformed trial balance"));
		assert_string_equal(out, "");	/* nothing half printed */
		free(cause);
		free(out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_every_currency),
		cmocka_unit_test(test_no_entries),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_malformed),
	};
	cJSON_Hooks	hooks = { xmalloc, free };

	cJSON_InitHooks(&hooks);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
