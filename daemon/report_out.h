/*
 * report_out.h: a report's answer (report.grants, .contributions, .pipeline: an object
 * with "columns", "rows", "totals" and "by") written as CSV or as an XLSX workbook. Pure
 * but for the workbook's temporary file; the XLSX writer blocks on the disk, so callers on
 * an event loop run it on a thread of its own (h_report.c).
 */
#ifndef FUND_REPORT_OUT_H
#define FUND_REPORT_OUT_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* The CSV (RFC 4180, CRLF, a header row, then the rows, then the totals with "Total" in
 * the first column when the report has dimensions); allocated, *len its length. NULL
 * when rep is not a report's answer. */
char	*report_csv(const cJSON *rep, size_t *len);

/* The XLSX workbook, written through a temporary file in tmpdir: numbers as numbers,
 * money with its currency's decimals, months as dates. 0 with an allocated *out, or -1. */
int	 report_xlsx(const cJSON *rep, const char *tmpdir, unsigned char **out,
	    size_t *len);

#endif
