/*
 * fundctl_out.c: a result for people (an aligned table) or for spreadsheets
 * (CSV), beside the JSON that scripts read (`fundctl -o table|csv|json`).
 *
 * Nothing here knows a method: a list is recognised by its shape (objects
 * in an array), id columns by their names, money by its values (decimal
 * strings) and currencies by their names (`currency`, `X_currency`).
 * Widths count code points, not bytes, so names in Armenian or Cyrillic
 * line up as well as Latin ones. Strings from the server never reach the
 * terminal with control characters in them.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fundctl.h"
#include "fundctl_out.h"

#define COL_GAP		"  "

struct col {
	const char	*name;		/* borrowed from the result */
	int		 right;		/* numbers and money: right-aligned */
	int		 money;		/* decimal strings */
	int		 id;		/* *_id, id, code */
	int		 cur;		/* currency, X_currency */
	int		 placed;	/* already in the order */
	size_t		 anchor;	/* a currency's amount column, or SIZE_MAX */
	size_t		 width;		/* code points */
};

struct table {
	struct col	*col;
	size_t		 ncol;
	size_t		*order;		/* indexes into col, in print order */
	size_t		 nord;
};

int
fc_output_parse(const char *s, enum fc_output *o)
{
	if (strcmp(s, "json") == 0)
		*o = FC_OUT_JSON;
	else if (strcmp(s, "table") == 0)
		*o = FC_OUT_TABLE;
	else if (strcmp(s, "csv") == 0)
		*o = FC_OUT_CSV;
	else
		return -1;
	return 0;
}

size_t
fc_utf8_width(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * A printable copy of s: C0 controls, DEL and C1 controls (U+0080 to
 * U+009F, which terminals obey too) become '?'; with keep_lines '\t', '\r'
 * and '\n' stay. With max > 0, at most max code points, "..." marking a cut.
 */
static char *
printable(const char *s, int keep_lines, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s, *end;
	struct fc_buf		 b = { NULL, 0, 0 };
	size_t			 keep;
	int			 cut = 0;

	end = p + strlen(s);
	if (max > 0 && fc_utf8_width(s) > max) {
		/* The first max - 3 code points, then "...". */
		keep = max > 3 ? max - 3 : 0;
		for (end = p; *end != '\0'; end++)
			if ((*end & 0xc0) != 0x80 && keep-- == 0)
				break;
		cut = 1;
	}
	fc_buf_add(&b, "", 0);
	while (p < end) {
		if (*p < 0x20 || *p == 0x7f) {
			if (keep_lines && (*p == '\t' || *p == '\r' ||
			    *p == '\n'))
				fc_buf_add(&b, p, 1);
			else if (*p == '\t' || *p == '\r' || *p == '\n')
				fc_buf_add(&b, " ", 1);
			else
				fc_buf_add(&b, "?", 1);
			p++;
		} else if (p[0] == 0xc2 && p + 1 < end && p[1] >= 0x80 &&
		    p[1] <= 0x9f) {
			fc_buf_add(&b, "?", 1);
			p += 2;
		} else
			fc_buf_add(&b, p++, 1);
	}
	if (cut)
		fc_buf_add(&b, "...", 3);
	return b.data;
}

/* The text of a value, allocated: strings as they are, null as "", the
 * rest as compact JSON (whole numbers without an exponent). */
static char *
value_text(const cJSON *v)
{
	char	*s, *out;

	if (v == NULL || cJSON_IsNull(v))
		return xstrdup("");
	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
	    fabs(v->valuedouble) < 9007199254740992.0)
		return xprintf("%.0f", v->valuedouble);
	if ((s = cJSON_PrintUnformatted(v)) == NULL)
		return xstrdup("");
	out = xstrdup(s);
	cJSON_free(s);
	return out;
}

/* A decimal string: -?digits(.digits)? */
static int
is_decimal(const char *s)
{
	const char	*p = s;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t	n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Whether every element of a is an object (an empty array too). */
static int
all_objects(const cJSON *a)
{
	const cJSON	*e;

	if (!cJSON_IsArray(a))
		return 0;
	cJSON_ArrayForEach(e, a)
		if (!cJSON_IsObject(e))
			return 0;
	return 1;
}

/*
 * The array of rows of res, or NULL when res is not a list: an array of
 * objects; or an object's `rows`, or its only array of objects.
 */
static const cJSON *
rows_of(const cJSON *res)
{
	const cJSON	*m, *found = NULL;
	int		 n = 0;

	if (all_objects(res))
		return res;
	if (!cJSON_IsObject(res))
		return NULL;
	m = cJSON_GetObjectItemCaseSensitive(res, "rows");
	if (all_objects(m))
		return m;
	cJSON_ArrayForEach(m, res)
		if (all_objects(m)) {
			found = m;
			n++;
		}
	return n == 1 ? found : NULL;
}

static struct col *
col_find(struct table *t, const char *name)
{
	size_t	i;

	for (i = 0; i < t->ncol; i++)
		if (strcmp(t->col[i].name, name) == 0)
			return &t->col[i];
	return NULL;
}

static void
place(struct table *t, size_t i)
{
	if (!t->col[i].placed) {
		t->col[i].placed = 1;
		t->order[t->nord++] = i;
	}
}

/* Whether currency column cur belongs to money column m: `X_currency`
 * to `X` or `X_...`; `currency` to a money column of no such X. */
static int
cur_belongs(const struct table *t, const struct col *cur, const struct col *m)
{
	size_t	 i, plen;

	if (strcmp(cur->name, "currency") != 0) {
		plen = strlen(cur->name) - strlen("_currency");
		return strncmp(m->name, cur->name, plen) == 0 &&
		    (m->name[plen] == '\0' || m->name[plen] == '_');
	}
	for (i = 0; i < t->ncol; i++)
		if (t->col[i].cur && &t->col[i] != cur &&
		    cur_belongs(t, &t->col[i], m))
			return 0;
	return 1;
}

/* The amount column of currency column cur: `amount` (`X_amount` for
 * `X_currency`) when it holds money, else the first money column it
 * belongs to; SIZE_MAX when there is none. */
static size_t
anchor_of(const struct table *t, const struct col *cur)
{
	size_t	 i, plen;

	plen = strlen(cur->name) - strlen("currency");
	for (i = 0; i < t->ncol; i++)
		if (t->col[i].money && strncmp(t->col[i].name, cur->name,
		    plen) == 0 && strcmp(t->col[i].name + plen, "amount") == 0)
			return i;
	for (i = 0; i < t->ncol; i++)
		if (t->col[i].money && cur_belongs(t, cur, &t->col[i]))
			return i;
	return SIZE_MAX;
}

/* The name of the id of a list's rows: "contribution_id" for
 * "contributions", "entry_id" for "entries"; NULL when none. */
static char *
own_id_of(const char *list)
{
	size_t	n;

	if (list == NULL || (n = strlen(list)) < 2 || list[n - 1] != 's')
		return NULL;
	if (n > 3 && strcmp(list + n - 3, "ies") == 0)
		return xprintf("%.*sy_id", (int)(n - 3), list);
	return xprintf("%.*s_id", (int)(n - 1), list);
}

/* Columns of rows in first-seen order, classified, then ordered: ids
 * first (the rows' own id before the others), each currency right after
 * its amount. */
static void
table_build(struct table *t, const cJSON *rows)
{
	const cJSON	*r, *v;
	struct col	*c;
	size_t		 i, j, n = 0, nvals;
	char		*own;
	int		 dec, num;

	memset(t, 0, sizeof *t);
	cJSON_ArrayForEach(r, rows)
		n += (size_t)cJSON_GetArraySize(r);
	t->col = xmalloc((n > 0 ? n : 1) * sizeof *t->col);
	cJSON_ArrayForEach(r, rows)
		cJSON_ArrayForEach(v, r) {
			if (v->string == NULL || col_find(t, v->string) != NULL)
				continue;
			c = &t->col[t->ncol++];
			memset(c, 0, sizeof *c);
			c->name = v->string;
		}
	for (i = 0; i < t->ncol; i++) {
		c = &t->col[i];
		c->id = ends_with(c->name, "_id") || strcmp(c->name, "id") == 0 ||
		    strcmp(c->name, "code") == 0;
		c->cur = strcmp(c->name, "currency") == 0 ||
		    ends_with(c->name, "_currency");
		dec = num = 1;
		nvals = 0;
		cJSON_ArrayForEach(r, rows) {
			v = cJSON_GetObjectItemCaseSensitive(r, c->name);
			if (v == NULL || cJSON_IsNull(v))
				continue;
			nvals++;
			if (!cJSON_IsString(v) || !is_decimal(v->valuestring))
				dec = 0;
			if (!cJSON_IsNumber(v))
				num = 0;
		}
		c->money = nvals > 0 && dec && !c->id && !c->cur;
		c->right = nvals > 0 && (dec || num) && !c->id && !c->cur;
	}
	for (i = 0; i < t->ncol; i++)
		t->col[i].anchor = t->col[i].cur ? anchor_of(t, &t->col[i]) :
		    SIZE_MAX;
	t->order = xmalloc((t->ncol > 0 ? t->ncol : 1) * sizeof *t->order);
	own = own_id_of(rows->string);
	if (own != NULL && (c = col_find(t, own)) != NULL)
		place(t, (size_t)(c - t->col));
	free(own);
	for (i = 0; i < t->ncol; i++)
		if (t->col[i].id)
			place(t, i);
	for (i = 0; i < t->ncol; i++) {
		if (t->col[i].placed || t->col[i].anchor != SIZE_MAX)
			continue;
		place(t, i);
		for (j = 0; j < t->ncol; j++)
			if (t->col[j].anchor == i)
				place(t, j);
	}
}

static void
table_free(struct table *t)
{
	free(t->col);
	free(t->order);
}

/* A cell of a table as it prints: clean, cut. */
static char *
cell_text(const cJSON *row, const char *name)
{
	char	*raw, *out;

	raw = value_text(cJSON_GetObjectItemCaseSensitive(row, name));
	out = printable(raw, 0, FC_CELL_MAX);
	free(raw);
	return out;
}

static void
put_padded(FILE *f, const char *s, size_t width, int right, int last)
{
	size_t	w = fc_utf8_width(s);

	if (right)
		for (; w < width; w++)
			fputc(' ', f);
	fputs(s, f);
	if (!right && !last)
		for (; w < width; w++)
			fputc(' ', f);
}

static void
print_table(FILE *f, const cJSON *rows)
{
	struct table	 t;
	const cJSON	*r;
	struct col	*c;
	char		*s, *h;
	size_t		 k;

	table_build(&t, rows);
	if (t.ncol == 0) {
		fputs("(no rows)\n", f);
		table_free(&t);
		return;
	}
	for (k = 0; k < t.nord; k++) {
		c = &t.col[t.order[k]];
		h = printable(c->name, 0, FC_CELL_MAX);
		c->width = fc_utf8_width(h);
		free(h);
		cJSON_ArrayForEach(r, rows) {
			s = cell_text(r, c->name);
			if (fc_utf8_width(s) > c->width)
				c->width = fc_utf8_width(s);
			free(s);
		}
	}
	for (k = 0; k < t.nord; k++) {
		c = &t.col[t.order[k]];
		h = printable(c->name, 0, FC_CELL_MAX);
		if (k > 0)
			fputs(COL_GAP, f);
		put_padded(f, h, c->width, c->right, k + 1 == t.nord);
		free(h);
	}
	fputc('\n', f);
	cJSON_ArrayForEach(r, rows) {
		for (k = 0; k < t.nord; k++) {
			c = &t.col[t.order[k]];
			s = cell_text(r, c->name);
			if (k > 0)
				fputs(COL_GAP, f);
			put_padded(f, s, c->width, c->right, k + 1 == t.nord);
			free(s);
		}
		fputc('\n', f);
	}
	if (cJSON_GetArraySize(rows) == 0)
		fputs("(no rows)\n", f);
	table_free(&t);
}

/* One CSV field, RFC 4180: quoted when it holds a comma, quote or line
 * break, quotes doubled. */
static void
csv_field(FILE *f, const char *raw)
{
	char		*s = printable(raw, 1, 0);
	const char	*p;

	if (strpbrk(s, ",\"\r\n") == NULL)
		fputs(s, f);
	else {
		fputc('"', f);
		for (p = s; *p != '\0'; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fputc('"', f);
	}
	free(s);
}

static void
print_csv(FILE *f, const cJSON *rows)
{
	struct table	 t;
	const cJSON	*r;
	char		*s;
	size_t		 k;

	table_build(&t, rows);
	if (t.ncol > 0) {
		for (k = 0; k < t.nord; k++) {
			if (k > 0)
				fputc(',', f);
			csv_field(f, t.col[t.order[k]].name);
		}
		fputs("\r\n", f);
	}
	cJSON_ArrayForEach(r, rows) {
		for (k = 0; k < t.nord; k++) {
			if (k > 0)
				fputc(',', f);
			s = value_text(cJSON_GetObjectItemCaseSensitive(r,
			    t.col[t.order[k]].name));
			csv_field(f, s);
			free(s);
		}
		fputs("\r\n", f);
	}
	table_free(&t);
}

/* "key: value" for each member of o but skip, and nulls when skip_null. */
static void
print_members(FILE *f, const cJSON *o, const cJSON *skip, int skip_null)
{
	const cJSON	*m;
	char		*raw, *s;

	cJSON_ArrayForEach(m, o) {
		if (m == skip || m->string == NULL ||
		    (skip_null && cJSON_IsNull(m)))
			continue;
		s = printable(m->string, 0, 0);
		fputs(s, f);
		free(s);
		fputs(": ", f);
		raw = value_text(m);
		s = printable(raw, 0, 0);
		fputs(s, f);
		fputc('\n', f);
		free(s);
		free(raw);
	}
}

int
fc_print_result(FILE *f, FILE *notes, enum fc_output o, const cJSON *res)
{
	const cJSON	*rows;
	cJSON		*one;
	char		*s, *raw;

	switch (o) {
	case FC_OUT_JSON:
		if ((s = cJSON_Print(res)) != NULL) {
			fputs(s, f);
			fputc('\n', f);
			cJSON_free(s);
		}
		break;
	case FC_OUT_TABLE:
		if ((rows = rows_of(res)) != NULL) {
			print_table(f, rows);
			if (rows != res)
				print_members(f, res, rows, 1);
		} else if (cJSON_IsObject(res))
			print_members(f, res, NULL, 0);
		else {
			raw = value_text(res);
			s = printable(raw, 0, 0);
			fprintf(f, "%s\n", s);
			free(s);
			free(raw);
		}
		break;
	case FC_OUT_CSV:
		if ((rows = rows_of(res)) != NULL) {
			print_csv(f, rows);
			if (rows != res && notes != NULL)
				print_members(notes, res, rows, 1);
		} else if (cJSON_IsObject(res)) {
			one = cJSON_CreateArray();
			cJSON_AddItemReferenceToArray(one, (cJSON *)res);
			print_csv(f, one);
			cJSON_Delete(one);
		} else {
			raw = value_text(res);
			fputs("value\r\n", f);
			csv_field(f, raw);
			fputs("\r\n", f);
			free(raw);
		}
		break;
	}
	return ferror(f) ? -1 : 0;
}
