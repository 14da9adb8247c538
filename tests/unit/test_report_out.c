/* test_report_out.c: a report's answer as CSV and as an XLSX workbook (report_out.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report_out.h"

static const char *REP =
    "{\"report\":\"grants\",\"by\":[\"region\",\"month\"],"
    "\"columns\":[{\"name\":\"region\",\"type\":\"text\"},"
    "{\"name\":\"month\",\"type\":\"month\"},{\"name\":\"currency\",\"type\":\"text\"},"
    "{\"name\":\"grants\",\"type\":\"integer\"},{\"name\":\"requested\",\"type\":\"money\"},"
    "{\"name\":\"suppressed\",\"type\":\"boolean\"}],"
    "\"rows\":[{\"region\":\"Vayots Dzor\",\"month\":\"2026-11\",\"currency\":\"EUR\","
    "\"grants\":7,\"requested\":\"1200.50\",\"suppressed\":false},"
    "{\"region\":\"A \\\"quoted\\\", name\",\"month\":\"2026-12\",\"currency\":\"AMD\","
    "\"grants\":null,\"requested\":null,\"suppressed\":true}],"
    "\"totals\":[{\"currency\":\"EUR\",\"grants\":9,\"requested\":\"1300.50\"}]}";

static void
test_csv(void **state)
{
	cJSON	*rep = cJSON_Parse(REP);
	size_t	 len;
	char	*csv;

	(void)state;
	csv = report_csv(rep, &len);
	assert_non_null(csv);
	assert_int_equal(len, strlen(csv));
	assert_string_equal(csv,
	    "region,month,currency,grants,requested,suppressed\r\n"
	    "Vayots Dzor,2026-11,EUR,7,1200.50,false\r\n"
	    "\"A \"\"quoted\"\", name\",2026-12,AMD,,,true\r\n"
	    "Total,,EUR,9,1300.50,\r\n");
	free(csv);
	cJSON_Delete(rep);
}

static void
test_not_a_report(void **state)
{
	cJSON		*rep = cJSON_Parse("{\"rows\":[]}");
	unsigned char	*out = NULL;
	size_t		 len = 0;

	(void)state;
	assert_null(report_csv(rep, &len));
	assert_int_equal(report_xlsx(rep, "/tmp", &out, &len), -1);
	assert_null(out);
	cJSON_Delete(rep);
}

/* A workbook is a zip archive: its signature, and the sheet's name in it. */
static void
test_xlsx(void **state)
{
	cJSON		*rep = cJSON_Parse(REP);
	unsigned char	*out = NULL;
	size_t		 len = 0;

	(void)state;
	assert_int_equal(report_xlsx(rep, "/tmp", &out, &len), 0);
	assert_true(len > 1000);
	assert_memory_equal(out, "PK\x03\x04", 4);
	assert_non_null(memmem(out, len, "xl/worksheets/sheet1.xml", 24));
	free(out);
	cJSON_Delete(rep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_not_a_report),
		cmocka_unit_test(test_xlsx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
