/* report_out.c: a report's answer as CSV or XLSX (report_out.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "report_out.h"
#include "util.h"

struct sbuf {
	char	*p;
	size_t	 len, cap;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* The parts of a report's answer; 0, or -1 when rep is not one. */
static int
parts(const cJSON *rep, const cJSON **cols, const cJSON **rows, const cJSON **totals,
    int *ndims)
{
	const cJSON	*by = cJSON_GetObjectItemCaseSensitive(rep, "by");

	*cols = cJSON_GetObjectItemCaseSensitive(rep, "columns");
	*rows = cJSON_GetObjectItemCaseSensitive(rep, "rows");
	*totals = cJSON_GetObjectItemCaseSensitive(rep, "totals");
	if (!cJSON_IsArray(*cols) || !cJSON_IsArray(*rows) || !cJSON_IsArray(*totals) ||
	    !cJSON_IsArray(by))
		return -1;
	*ndims = cJSON_GetArraySize(by);
	return 0;
}

static const char *
col_name(const cJSON *col)
{
	const cJSON	*n = cJSON_GetObjectItemCaseSensitive(col, "name");

	return cJSON_IsString(n) ? n->valuestring : "";
}

static const char *
col_type(const cJSON *col)
{
	const cJSON	*t = cJSON_GetObjectItemCaseSensitive(col, "type");

	return cJSON_IsString(t) ? t->valuestring : "text";
}

/* A value as text: strings as they are, integers, booleans; "" for null or absent. */
static void
value_text(const cJSON *v, char *buf, size_t len)
{
	if (cJSON_IsString(v))
		snprintf(buf, len, "%s", v->valuestring);
	else if (cJSON_IsBool(v))
		snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNumber(v)) {
		char *s = cJSON_PrintUnformatted(v);

		snprintf(buf, len, "%s", s != NULL ? s : "");
		cJSON_free(s);
	} else
		buf[0] = '\0';
}

/* One CSV field: quoted when it holds a quote, a comma, a CR or a LF. */
static void
csv_field(struct sbuf *b, const char *s)
{
	const char	*p;

	if (strpbrk(s, "\",\r\n") == NULL) {
		sb_add(b, s, strlen(s));
		return;
	}
	sb_add(b, "\"", 1);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			sb_add(b, "\"", 1);
		sb_add(b, p, 1);
	}
	sb_add(b, "\"", 1);
}

static void
csv_row(struct sbuf *b, const cJSON *cols, const cJSON *row, int label)
{
	const cJSON	*col;
	char		 buf[512];
	int		 i = 0;

	cJSON_ArrayForEach(col, cols) {
		if (i > 0)
			sb_add(b, ",", 1);
		if (label && i == 0)
			snprintf(buf, sizeof(buf), "Total");
		else
			value_text(cJSON_GetObjectItemCaseSensitive(row, col_name(col)), buf,
			    sizeof(buf));
		csv_field(b, buf);
		i++;
	}
	sb_add(b, "\r\n", 2);
}

char *
report_csv(const cJSON *rep, size_t *len)
{
	const cJSON	*cols, *rows, *totals, *col, *row;
	struct sbuf	 b = { NULL, 0, 0 };
	int		 ndims, i = 0;

	if (parts(rep, &cols, &rows, &totals, &ndims) != 0)
		return NULL;
	sb_add(&b, "", 0);
	cJSON_ArrayForEach(col, cols) {
		if (i++ > 0)
			sb_add(&b, ",", 1);
		csv_field(&b, col_name(col));
	}
	sb_add(&b, "\r\n", 2);
	cJSON_ArrayForEach(row, rows)
		csv_row(&b, cols, row, 0);
	if (ndims > 0)
		cJSON_ArrayForEach(row, totals)
			csv_row(&b, cols, row, 1);
	*len = b.len;
	return b.p;
}

/* The decimals of a decimal string ("12.50": 2), at most 4. */
static int
decimals(const char *s)
{
	const char	*dot = strchr(s, '.');
	size_t		 n = dot != NULL ? strlen(dot + 1) : 0;

	return n > 4 ? 4 : (int)n;
}

struct xlsx_formats {
	lxw_format	*head, *label, *month, *money[5];
};

static void
xlsx_cell(lxw_worksheet *ws, struct xlsx_formats *fm, lxw_row_t r, lxw_col_t c,
    const cJSON *col, const cJSON *v)
{
	const char	*type = col_type(col);

	if (cJSON_IsNull(v) || v == NULL)
		return;
	if (cJSON_IsBool(v)) {
		worksheet_write_boolean(ws, r, c, cJSON_IsTrue(v), NULL);
	} else if (cJSON_IsNumber(v)) {
		worksheet_write_number(ws, r, c, v->valuedouble, NULL);
	} else if (!cJSON_IsString(v)) {
		return;
	} else if (strcmp(type, "money") == 0) {
		/* the decimal string's value; the cell's format shows its minor units */
		worksheet_write_number(ws, r, c, strtod(v->valuestring, NULL),
		    fm->money[decimals(v->valuestring)]);
	} else if (strcmp(type, "month") == 0 && strlen(v->valuestring) == 7) {
		lxw_datetime	dt = { atoi(v->valuestring), atoi(v->valuestring + 5), 1,
		    0, 0, 0 };

		worksheet_write_datetime(ws, r, c, &dt, fm->month);
	} else {
		worksheet_write_string(ws, r, c, v->valuestring, NULL);
	}
}

static void
xlsx_rows(lxw_worksheet *ws, struct xlsx_formats *fm, const cJSON *cols, const cJSON *rows,
    lxw_row_t *r, int label)
{
	const cJSON	*row, *col;
	lxw_col_t	 c;

	cJSON_ArrayForEach(row, rows) {
		c = 0;
		cJSON_ArrayForEach(col, cols) {
			if (label && c == 0)
				worksheet_write_string(ws, *r, c, "Total", fm->label);
			else
				xlsx_cell(ws, fm, *r, c, col,
				    cJSON_GetObjectItemCaseSensitive(row, col_name(col)));
			c++;
		}
		(*r)++;
	}
}

int
report_xlsx(const cJSON *rep, const char *tmpdir, unsigned char **out, size_t *len)
{
	static const char *money_fmt[5] = { "#,##0", "#,##0.0", "#,##0.00", "#,##0.000",
	    "#,##0.0000" };
	const cJSON		*cols, *rows, *totals, *col, *name;
	lxw_workbook_options	 opt = { 0 };
	lxw_workbook		*wb;
	lxw_worksheet		*ws;
	struct xlsx_formats	 fm;
	lxw_row_t		 r = 0;
	lxw_col_t		 c = 0;
	char			 path[4096];
	int			 ndims, fd, i, rc = -1;
	FILE			*f;
	long			 size;

	if (parts(rep, &cols, &rows, &totals, &ndims) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/fundd-report-XXXXXX", tmpdir);
	if ((fd = mkstemp(path)) == -1)
		return -1;
	close(fd);
	opt.tmpdir = (char *)(uintptr_t)tmpdir;
	if ((wb = workbook_new_opt(path, &opt)) == NULL) {
		unlink(path);
		return -1;
	}
	name = cJSON_GetObjectItemCaseSensitive(rep, "report");
	ws = workbook_add_worksheet(wb, cJSON_IsString(name) ? name->valuestring : NULL);
	fm.head = workbook_add_format(wb);
	format_set_bold(fm.head);
	fm.label = workbook_add_format(wb);
	format_set_bold(fm.label);
	fm.month = workbook_add_format(wb);
	format_set_num_format(fm.month, "yyyy-mm");
	for (i = 0; i < 5; i++) {
		fm.money[i] = workbook_add_format(wb);
		format_set_num_format(fm.money[i], money_fmt[i]);
	}
	cJSON_ArrayForEach(col, cols) {
		worksheet_write_string(ws, 0, c, col_name(col), fm.head);
		worksheet_set_column(ws, c, c, 14, NULL);
		c++;
	}
	r = 1;
	xlsx_rows(ws, &fm, cols, rows, &r, 0);
	if (ndims > 0)
		xlsx_rows(ws, &fm, cols, totals, &r, 1);
	if (workbook_close(wb) != LXW_NO_ERROR)
		goto out;
	if ((f = fopen(path, "rb")) == NULL)
		goto out;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		*out = xmalloc((size_t)size);
		if (fread(*out, 1, (size_t)size, f) == (size_t)size) {
			*len = (size_t)size;
			rc = 0;
		} else {
			free(*out);
			*out = NULL;
		}
	}
	fclose(f);
out:
	unlink(path);
	return rc;
}
