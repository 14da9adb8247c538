/*
 * test_fundctl_out.c: unit tests for clients/fundctl_out.c, what `fundctl -o table|csv`,
 * `fundctl methods` and `fundctl help METHOD` print: the exact text of a table (ids
 * first, money right-aligned beside its currency, Armenian and Cyrillic names aligned by
 * code points), RFC 4180 CSV, a saved rpc.discover document, and server text with control
 * characters (which must never reach the terminal) or members missing (never a crash).
 *
 * Links fundctl_out.c, fundctl_util.c, cJSON and cmocka.
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
#include "fundctl_out.h"

/* What fc_print_result prints for the JSON text json in mode (allocated). */
static char *
result_text(const char *json, enum fc_output mode)
{
	cJSON	*res = cJSON_Parse(json);
	char	*out = NULL;
	size_t	 n;
	FILE	*f;

	assert_non_null(res);
	f = open_memstream(&out, &n);
	assert_non_null(f);
	fc_print_result(f, res, mode);
	assert_int_equal(fclose(f), 0);
	cJSON_Delete(res);
	return out;
}

#define LIST \
	"{\"contributions\": [" \
	"{\"fee\": \"0.00\", \"fund\": \"SHIRAK\", \"name\": \"Արամ\", \"amount\": \"5.00\", " \
	"\"currency\": \"EUR\", \"partner_id\": \"pa_1\", \"contribution_id\": \"co_1\"}, " \
	"{\"fee\": \"0.00\", \"fund\": \"SHIRAK\", \"name\": \"Иван Петров\", \"amount\": \"1234.50\", " \
	"\"currency\": \"EUR\", \"partner_id\": \"pa_2\", \"contribution_id\": \"co_2\"}], " \
	"\"next_cursor\": \"c_2\"}"

static void
test_table_of_a_list(void **state)
{
	char	*out = result_text(LIST, FC_OUT_TABLE);

	(void)state;
	/* own id, other ids, then as they come with the currency after the amount;
	 * widths in code points: "Иван Петров" is 11 wide, not 21 bytes */
	assert_string_equal(out,
	    "contribution_id  partner_id   fee  fund    name          amount  currency\n"
	    "co_1             pa_1        0.00  SHIRAK  Արամ            5.00  EUR\n"
	    "co_2             pa_2        0.00  SHIRAK  Иван Петров  1234.50  EUR\n"
	    "next_cursor: c_2\n");
	free(out);
}

static void
test_each_currency_beside_its_amount(void **state)
{
	char	*out = result_text("{\"transfers\": [{\"to_currency\": \"AMD\", "
	    "\"memo\": \"m\", \"fund_currency\": \"EUR\", \"to_amount\": \"51910\", "
	    "\"currency\": \"USD\", \"fund_amount\": \"92.65\", \"fee\": \"0.50\", "
	    "\"amount\": \"100.00\", \"transfer_id\": \"tr_1\"}]}", FC_OUT_CSV);
	char	*only = result_text("{\"rows\": [{\"received\": \"1.00\", \"currency\": "
	    "\"EUR\"}]}", FC_OUT_CSV);

	(void)state;
	/* "51910" is an amount too (AMD has no minor unit) */
	assert_string_equal(out, "transfer_id,memo,to_amount,to_currency,fund_amount,"
	    "fund_currency,fee,amount,currency\r\n"
	    "tr_1,m,51910,AMD,92.65,EUR,0.50,100.00,USD\r\n");
	/* no amount: beside the first money */
	assert_string_equal(only, "received,currency\r\n1.00,EUR\r\n");
	free(out);
	free(only);
}

static void
test_whole_amounts_right_aligned(void **state)
{
	char	*out = result_text("{\"funds\": [{\"code\": \"A\", \"limit\": \"100000.00\", "
	    "\"currency\": \"EUR\"}, {\"code\": \"B\", \"limit\": \"1000\", \"currency\": "
	    "\"JPY\"}]}", FC_OUT_TABLE);

	(void)state;
	assert_string_equal(out,
	    "code      limit  currency\n"
	    "A     100000.00  EUR\n"
	    "B          1000  JPY\n");
	free(out);
}

static void
test_csv_of_a_list(void **state)
{
	char	*out = result_text("{\"rows\": [{\"code\": \"A\", \"memo\": \"say \\\"hi\\\", "
	    "then\\nbye\", \"n\": 3, \"tags\": [\"x\", \"y\"], \"none\": null}], "
	    "\"columns\": [{\"name\": \"code\"}, {\"name\": \"memo\"}, {\"name\": \"n\"}, "
	    "{\"name\": \"tags\"}, {\"name\": \"none\"}], \"totals\": []}", FC_OUT_CSV);

	(void)state;
	assert_string_equal(out,
	    "code,memo,n,tags,none\r\n"
	    "A,\"say \"\"hi\"\", then\nbye\",3,\"[\"\"x\"\",\"\"y\"\"]\",\r\n");
	free(out);
}

static void
test_control_characters_never_reach_the_terminal(void **state)
{
	/* ESC ] 0 (set the window title), a C1 CSI (U+009B), BEL, DEL */
	char	*t = result_text("{\"partners\": [{\"partner_id\": \"pa_1\", "
	    "\"name\": \"x\\u001b]0;owned\\u0007\\u009b2J\\u007fy\"}], "
	    "\"next_cursor\": \"\\u001b[2J\"}", FC_OUT_TABLE);
	char	*kv = result_text("{\"name\\u001b\": \"a\\u001b[31mb\\u0085c\", \"n\": 1}",
	    FC_OUT_TABLE);
	char	*csv = result_text("{\"name\": \"a\\u001bb\\tc\"}", FC_OUT_CSV);

	(void)state;
	assert_null(strchr(t, '\033'));
	assert_null(strstr(t, "\xc2\x9b"));
	assert_null(strchr(t, '\a'));
	assert_null(strchr(t, '\177'));
	assert_string_equal(t, "partner_id  name\npa_1        x?]0;owned??2J?y\n"
	    "next_cursor: ?[2J\n");
	assert_string_equal(kv, "name?: a?[31mb?c\nn:     1\n");
	assert_string_equal(csv, "key,value\r\nname,a?b\tc\r\n");
	free(t);
	free(kv);
	free(csv);
}

static void
test_json_is_unchanged(void **state)
{
	char	*out = result_text("{\"a\": \"\\u001b\", \"b\": [1, 2]}", FC_OUT_JSON);

	(void)state;
	assert_string_equal(out, "{\n\t\"a\":\t\"\\u001b\",\n\t\"b\":\t[1, 2]\n}\n");
	free(out);
}

/* A saved rpc.discover document, in the shape the daemon answers. */
#define DISCOVER \
	"{\"openrpc\": \"1.2.6\", \"info\": {\"title\": \"fundd\", \"version\": \"0.1.0\"}, " \
	"\"methods\": [" \
	"{\"name\": \"grant.apply\", \"x-roles\": [\"admin\"], \"x-mutation\": true, " \
	"\"paramStructure\": \"by-name\", \"params\": [" \
	"{\"name\": \"returnee_id\", \"required\": true, \"schema\": {\"type\": \"string\", " \
	"\"x-kind\": \"id\"}}, " \
	"{\"name\": \"amount\", \"required\": true, \"schema\": {\"type\": \"string\", " \
	"\"x-kind\": \"money\", \"pattern\": \"^[0-9]+(\\\\.[0-9]{1,4})?$\", " \
	"\"description\": \"a decimal string\"}}, " \
	"{\"name\": \"category\", \"required\": true, \"schema\": {\"type\": \"string\", " \
	"\"x-kind\": \"enum\", \"enum\": [\"small_business\", \"agriculture\"]}}, " \
	"{\"name\": \"purpose\", \"required\": true, \"schema\": {\"type\": \"string\", " \
	"\"x-kind\": \"text\", \"maxLength\": 1000}}, " \
	"{\"name\": \"by\", \"required\": false, \"schema\": {\"type\": \"array\", " \
	"\"x-kind\": \"enums\", \"items\": {\"type\": \"string\", \"enum\": [\"fund\", " \
	"\"region\"]}}}, " \
	"{\"name\": \"from\", \"required\": false, \"schema\": {\"type\": \"string\", " \
	"\"x-kind\": \"date\", \"format\": \"date\", \"description\": \"YYYY-MM-DD\"}}, " \
	"{\"name\": \"limit\", \"required\": false, \"schema\": {\"type\": \"integer\", " \
	"\"x-kind\": \"limit\", \"minimum\": 1, \"maximum\": 1000}}], " \
	"\"result\": {\"name\": \"result\", \"description\": \"the grant\", " \
	"\"schema\": {\"type\": \"object\"}}, " \
	"\"errors\": [{\"code\": -32004, \"message\": \"returnee_not_found\", " \
	"\"data\": {\"reason\": \"returnee_not_found\"}}]}, " \
	"{\"name\": \"system.version\", \"x-roles\": [], \"x-mutation\": false, " \
	"\"params\": [], \"result\": {\"name\": \"result\"}, \"errors\": []}]}"

static char *
doc_text(const char *json, const char *help_of, int *rc)
{
	cJSON	*doc = cJSON_Parse(json);
	char	*out = NULL;
	size_t	 n;
	FILE	*f;

	assert_non_null(doc);
	f = open_memstream(&out, &n);
	assert_non_null(f);
	if (help_of == NULL)
		fc_print_methods(f, doc);
	else
		*rc = fc_print_help(f, doc, help_of);
	assert_int_equal(fclose(f), 0);
	cJSON_Delete(doc);
	return out;
}

static void
test_methods(void **state)
{
	char	*out = doc_text(DISCOVER, NULL, NULL);

	(void)state;
	assert_string_equal(out,
	    "method          roles  mutation\n"
	    "grant.apply     admin  yes\n"
	    "system.version  any    no\n");
	free(out);
}

static void
test_help(void **state)
{
	int	 rc = -2;
	char	*out = doc_text(DISCOVER, "grant.apply", &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_string_equal(out,
	    "grant.apply\n"
	    "  roles: admin\n"
	    "  a mutation: fundctl gives it an idempotency key unless you do\n"
	    "params (? marks an optional one):\n"
	    "  returnee_id  id\n"
	    "  amount  money: a decimal string [pattern ^[0-9]+(\\.[0-9]{1,4})?$]\n"
	    "  category  enum: small_business|agriculture\n"
	    "  purpose  text [at most 1000 characters]\n"
	    "  by?  enums: fund|region\n"
	    "  from?  date: YYYY-MM-DD [format date]\n"
	    "  limit?  limit [from 1, to 1000]\n"
	    "result:\n"
	    "  the grant\n"
	    "errors:\n"
	    "  -32004 returnee_not_found\n");
	free(out);
	out = doc_text(DISCOVER, "system.version", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "  roles: any\n  reads only\n"));
	assert_non_null(strstr(out, "params (? marks an optional one):\n  none\n"));
	assert_non_null(strstr(out, "result:\n  (see the docs)\n"));
	free(out);
	out = doc_text(DISCOVER, "no.such", &rc);
	assert_int_equal(rc, -1);
	free(out);
}

static void
test_a_document_with_members_missing(void **state)
{
	/* no names, roles that are not strings, an enum of numbers, a hostile description:
	 * printed without a crash, and without the escape */
	const char	*bad = "{\"methods\": [{\"x-roles\": [1, null], \"params\": ["
	    "{\"schema\": {\"enum\": [1, 2]}}, {\"name\": \"p\", \"schema\": "
	    "{\"description\": \"\\u001b[2J\"}}, {}], \"errors\": [{}, {\"code\": 1}]}, "
	    "{\"name\": \"m\", \"x-roles\": [\"\\u001b\"], \"params\": 7}]}";
	int		 rc = -2;
	char		*out;

	(void)state;
	out = doc_text(bad, NULL, NULL);
	assert_null(strchr(out, '\033'));
	free(out);
	out = doc_text(bad, "", &rc);
	assert_int_equal(rc, 0);
	assert_null(strchr(out, '\033'));
	assert_non_null(strstr(out, "  roles: any\n"));
	assert_non_null(strstr(out, "  ?  : 1|2\n"));
	assert_non_null(strstr(out, "  p?  : ?[2J\n"));
	free(out);
	out = doc_text(bad, "m", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "  roles: ?\n"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_of_a_list),
		cmocka_unit_test(test_each_currency_beside_its_amount),
		cmocka_unit_test(test_whole_amounts_right_aligned),
		cmocka_unit_test(test_csv_of_a_list),
		cmocka_unit_test(test_control_characters_never_reach_the_terminal),
		cmocka_unit_test(test_json_is_unchanged),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_a_document_with_members_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
