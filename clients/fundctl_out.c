/* fundctl_out.c: answers as JSON, tables or CSV, and rpc.discover read (fundctl_out.h). */
#include <stdlib.h>
#include <string.h>

#include "fundctl.h"
#include "fundctl_out.h"

#define CELL_MAX	48	/* characters of a nested value shown in a table cell */

int
fc_output_mode(const char *s)
{
	if (strcmp(s, "json") == 0)
		return FC_OUT_JSON;
	if (strcmp(s, "table") == 0)
		return FC_OUT_TABLE;
	if (strcmp(s, "csv") == 0)
		return FC_OUT_CSV;
	return -1;
}

/* Characters (UTF-8 code points) of s: what a terminal gives each of them, near enough. */
static size_t
width(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * A copy of server text that cannot drive the terminal (allocated): C0
 * controls, DEL and C1 controls (U+0080 to U+009F, which terminals obey
 * too) become '?'; line breaks and tabs a space, or, with keep_lines (CSV,
 * which quotes them), stay.
 */
static char *
safe(const char *s, int keep_lines)
{
	const unsigned char	*p = (const unsigned char *)(s != NULL ? s : "");
	char			*out = xmalloc(strlen((const char *)p) + 1), *o = out;

	while (*p != '\0') {
		if (*p == '\t' || *p == '\r' || *p == '\n') {
			*o++ = keep_lines ? (char)*p : ' ';
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			*o++ = '?';
			p++;
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			*o++ = '?';
			p += 2;
		} else
			*o++ = (char)*p++;
	}
	*o = '\0';
	return out;
}

/* s to f through safe(). */
static void
put_safe(FILE *f, const char *s)
{
	char	*c = safe(s, 0);

	fputs(c, f);
	free(c);
}

/* A value as text (allocated, through safe()): strings as they are, null as "", the rest
 * as JSON. */
static char *
text_of(const cJSON *v, int keep_lines)
{
	char	*s, *c;

	if (v == NULL || cJSON_IsNull(v))
		return xstrdup("");
	if (cJSON_IsString(v))
		return safe(v->valuestring, keep_lines);
	s = cJSON_PrintUnformatted(v);
	if (s == NULL)
		return xstrdup("");
	c = safe(s, keep_lines);
	cJSON_free(s);
	return c;
}

/* The string member name of o, or "" (a document from a server may lack it). */
static const char *
str_of(const cJSON *o, const char *name)
{
	const char	*s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));

	return s != NULL ? s : "";
}

/* A decimal amount: digits, one point, an optional sign. */
static int
is_money(const char *s)
{
	const char	*dot;

	if (*s == '-')
		s++;
	dot = strchr(s, '.');
	return *s != '\0' && dot != NULL && dot != s && dot[1] != '\0' &&
	    strspn(s, "0123456789.") == strlen(s) && strchr(dot + 1, '.') == NULL;
}

/* Money of any currency, "1250.00" or "1250" (JPY): a right-aligned figure. */
static int
is_figure(const char *s)
{
	if (*s == '-')
		s++;
	return is_money(s) || (*s != '\0' && strspn(s, "0123456789") == strlen(s));
}

static int
is_id(const char *k)
{
	size_t	n = strlen(k);

	return strcmp(k, "code") == 0 || (n > 3 && strcmp(k + n - 3, "_id") == 0);
}

static void
add_col(cJSON *cols, const char *k)
{
	const cJSON	*c;

	cJSON_ArrayForEach(c, cols)
		if (strcmp(c->valuestring, k) == 0)
			return;
	cJSON_AddItemToArray(cols, cJSON_CreateString(k));
}

/* The rows a list answer holds: a report's rows and totals, else its one array of
 * objects (its name in *key); NULL when it is no list. */
static cJSON *
rows_of(const cJSON *res, const char **key)
{
	const cJSON	*v, *found = NULL, *e;
	cJSON		*rows;
	int		 arrays = 0;

	if (!cJSON_IsObject(res))
		return NULL;
	if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(res, "rows")) &&
	    cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(res, "columns"))) {
		rows = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(res, "rows"), 1);
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res, "totals"))
			cJSON_AddItemToArray(rows, cJSON_Duplicate(e, 1));
		return rows;
	}
	cJSON_ArrayForEach(v, res) {
		if (!cJSON_IsArray(v))
			continue;
		arrays++;
		found = v;
	}
	if (arrays != 1 || (cJSON_GetArraySize(found) > 0 &&
	    !cJSON_IsObject(cJSON_GetArrayItem(found, 0))))
		return NULL;
	*key = found->string;
	return cJSON_Duplicate(found, 1);
}

/* Whether column name holds money (by the first row's value). */
static int
money_col(const cJSON *rows, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rows, 0), name);

	return cJSON_IsString(v) && is_money(v->valuestring);
}

/*
 * The money column that currency column name sits beside, or NULL (no currency column, or
 * none to sit by): `X_currency` beside `X_amount`, `currency` beside `amount`, else beside
 * the first money column. So a contribution reads "amount currency", and its fee (in the
 * fund's currency) does not seem to be in the contribution's.
 */
static const char *
anchor_of(const cJSON *rows, const cJSON *cols, const char *name)
{
	const cJSON	*c, *v;
	size_t		 n = strlen(name), plen;
	const char	*found = NULL;

	if (strcmp(name, "currency") != 0 && (n <= 9 || strcmp(name + n - 9, "_currency") != 0))
		return NULL;
	plen = n - strlen("currency");
	cJSON_ArrayForEach(c, cols) {
		/* by its name, an amount of any currency: "1250" JPY too */
		v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rows, 0), c->valuestring);
		if (strncmp(c->valuestring, name, plen) == 0 &&
		    strcmp(c->valuestring + plen, "amount") == 0 && cJSON_IsString(v) &&
		    *v->valuestring != '\0' &&
		    strspn(v->valuestring, "-0123456789.") == strlen(v->valuestring))
			return c->valuestring;
	}
	if (plen > 0)
		return NULL;
	cJSON_ArrayForEach(c, cols)
		if (found == NULL && !is_id(c->valuestring) && money_col(rows, c->valuestring))
			found = c->valuestring;
	return found;
}

/* The columns of rows: ids first (the list's own first: "grants" lists grant_id), then
 * the others as they come, each currency right after its amount (anchor_of; a report
 * names its own in order). */
static cJSON *
columns_of(const cJSON *res, const cJSON *rows, const char *key)
{
	cJSON		*cols = cJSON_CreateArray(), *ordered = cJSON_CreateArray();
	const cJSON	*r, *v, *c, *x, *rc = cJSON_GetObjectItemCaseSensitive(res, "columns");
	const char	*a;

	if (cJSON_IsArray(rc)) {
		cJSON_ArrayForEach(c, rc)
			add_col(ordered, str_of(c, "name"));
		cJSON_Delete(cols);
		return ordered;
	}
	cJSON_ArrayForEach(r, rows)
		cJSON_ArrayForEach(v, r)
			if (v->string != NULL)
				add_col(cols, v->string);
	if (key != NULL && strlen(key) > 1) {
		char	*own = xprintf("%.*s_id", (int)strlen(key) - 1, key);

		cJSON_ArrayForEach(c, cols)
			if (strcmp(c->valuestring, own) == 0)
				add_col(ordered, own);
		free(own);
	}
	cJSON_ArrayForEach(c, cols)
		if (is_id(c->valuestring))
			add_col(ordered, c->valuestring);
	cJSON_ArrayForEach(c, cols) {
		if (is_id(c->valuestring) || anchor_of(rows, cols, c->valuestring) != NULL)
			continue;
		add_col(ordered, c->valuestring);
		cJSON_ArrayForEach(x, cols)
			if ((a = anchor_of(rows, cols, x->valuestring)) != NULL &&
			    strcmp(a, c->valuestring) == 0)
				add_col(ordered, x->valuestring);
	}
	cJSON_ArrayForEach(c, cols)
		add_col(ordered, c->valuestring);
	cJSON_Delete(cols);
	return ordered;
}

static void
csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, "\",\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* A cell of a table: a nested value cut to CELL_MAX characters. */
static char *
cell_of(const cJSON *v)
{
	char	*s = text_of(v, 0);
	size_t	 n = 0, i;

	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return s;
	for (i = 0; s[i] != '\0'; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && ++n > CELL_MAX) {
			strcpy(s + i, "...");
			break;
		}
	return s;
}

static void
print_rows(FILE *f, const cJSON *res, cJSON *rows, const char *key, enum fc_output mode)
{
	cJSON		*cols = columns_of(res, rows, key);
	const cJSON	*c, *r;
	int		 ncol = cJSON_GetArraySize(cols), i, j, nrow = cJSON_GetArraySize(rows);
	size_t		*w = xmalloc(((size_t)ncol + 1) * sizeof(*w));
	int		*right = xmalloc(((size_t)ncol + 1) * sizeof(*right));
	char		*s;

	i = 0;
	cJSON_ArrayForEach(c, cols) {
		s = safe(c->valuestring, 0);
		w[i] = width(s);
		free(s);
		right[i] = 1;
		for (j = 0; j < nrow; j++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetArrayItem(rows, j), c->valuestring);

			s = cell_of(v);
			if (width(s) > w[i])
				w[i] = width(s);
			if (*s != '\0' && !is_figure(s) && !cJSON_IsNumber(v))
				right[i] = 0;
			free(s);
		}
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(c, cols) {
		s = safe(c->valuestring, mode == FC_OUT_CSV);
		if (mode == FC_OUT_CSV) {
			if (i > 0)
				fputc(',', f);
			csv_field(f, s);
		} else if (right[i])	/* over the right edge of its figures */
			fprintf(f, "%s%*s%s", i > 0 ? "  " : "", (int)(w[i] - width(s)), "",
			    s);
		else
			fprintf(f, "%s%s%*s", i > 0 ? "  " : "", s,
			    i + 1 < ncol ? (int)(w[i] - width(s)) : 0, "");
		free(s);
		i++;
	}
	fputs(mode == FC_OUT_CSV ? "\r\n" : "\n", f);
	cJSON_ArrayForEach(r, rows) {
		i = 0;
		cJSON_ArrayForEach(c, cols) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, c->valuestring);

			if (mode == FC_OUT_CSV) {
				s = text_of(v, 1);
				if (i > 0)
					fputc(',', f);
				csv_field(f, s);
			} else {
				int pad;

				s = cell_of(v);
				pad = (int)(w[i] - width(s));
				if (i > 0)
					fputs("  ", f);
				if (right[i])
					fprintf(f, "%*s%s", pad, "", s);
				else
					fprintf(f, "%s%*s", s, i + 1 < ncol ? pad : 0, "");
			}
			free(s);
			i++;
		}
		fputs(mode == FC_OUT_CSV ? "\r\n" : "\n", f);
	}
	if (mode == FC_OUT_TABLE) {
		const cJSON *nc = cJSON_GetObjectItemCaseSensitive(res, "next_cursor");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(res, "count");

		if (cJSON_IsString(nc)) {
			fputs("next_cursor: ", f);
			put_safe(f, nc->valuestring);
			fputc('\n', f);
		}
		if (cJSON_IsNumber(n))
			fprintf(f, "count: %.0f\n", n->valuedouble);
	}
	free(w);
	free(right);
	cJSON_Delete(cols);
}

void
fc_print_result(FILE *f, const cJSON *res, enum fc_output mode)
{
	cJSON		*rows;
	const cJSON	*v;
	const char	*key = NULL;
	char		*s, *k;
	size_t		 kw = 0;

	if (mode != FC_OUT_JSON && (rows = rows_of(res, &key)) != NULL) {
		print_rows(f, res, rows, key, mode);
		cJSON_Delete(rows);
		return;
	}
	if (mode == FC_OUT_JSON || !cJSON_IsObject(res)) {
		s = cJSON_Print(res);
		fputs(s != NULL ? s : "null", f);
		fputc('\n', f);
		cJSON_free(s);
		return;
	}
	if (mode == FC_OUT_CSV) {
		fputs("key,value\r\n", f);
		cJSON_ArrayForEach(v, res) {
			k = safe(v->string, 1);
			s = text_of(v, 1);
			csv_field(f, k);
			fputc(',', f);
			csv_field(f, s);
			fputs("\r\n", f);
			free(k);
			free(s);
		}
		return;
	}
	cJSON_ArrayForEach(v, res)
		if (width(v->string) > kw)
			kw = width(v->string);
	cJSON_ArrayForEach(v, res) {
		k = safe(v->string, 0);
		s = text_of(v, 0);
		fprintf(f, "%s:%*s %s\n", k, (int)(kw - width(v->string)), "", s);
		free(k);
		free(s);
	}
}

static const cJSON *
method_of(const cJSON *doc, const char *name)
{
	const cJSON	*m;

	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(doc, "methods"))
		if (strcmp(str_of(m, "name"), name) == 0)
			return m;
	return NULL;
}

/* "admin, auditor", or "any" for []. */
static char *
roles_text(const cJSON *m)
{
	const cJSON	*r;
	struct fc_buf	 b = { NULL, 0, 0 };

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(m, "x-roles"))
		if (cJSON_IsString(r))
			fc_buf_addf(&b, "%s%s", b.len > 0 ? ", " : "", r->valuestring);
	if (b.len == 0)
		fc_buf_addf(&b, "any");
	return b.data;
}

void
fc_print_methods(FILE *f, const cJSON *doc)
{
	cJSON		*res = cJSON_CreateObject(), *rows;
	const cJSON	*m;

	rows = cJSON_AddArrayToObject(res, "methods");
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(doc, "methods")) {
		cJSON	*o = cJSON_CreateObject();
		char	*roles = roles_text(m);

		cJSON_AddStringToObject(o, "method", str_of(m, "name"));
		cJSON_AddStringToObject(o, "roles", roles);
		cJSON_AddStringToObject(o, "mutation", cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(m, "x-mutation")) ? "yes" : "no");
		cJSON_AddItemToArray(rows, o);
		free(roles);
	}
	fc_print_result(f, res, FC_OUT_TABLE);
	cJSON_Delete(res);
}

/* " N" for a number member name of schema s, with what it means before it. */
static void
add_number(struct fc_buf *b, const cJSON *s, const char *name, const char *what)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(s, name);

	if (cJSON_IsNumber(v))
		fc_buf_addf(b, "%s%s %.0f", b->len > 0 ? ", " : "", what, v->valuedouble);
}

static void
add_string(struct fc_buf *b, const cJSON *s, const char *name, const char *what)
{
	const char	*v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, name));

	if (v != NULL)
		fc_buf_addf(b, "%s%s %s", b->len > 0 ? ", " : "", what, v);
}

/*
 * One param: "  NAME[?]  KIND[: a|b|c or: DESCRIPTION] [LIMITS]", where ? marks an
 * optional param, a|b|c the allowed values (of each item of an array), and LIMITS its
 * format, pattern, length and bounds.
 */
static void
print_param(FILE *f, const cJSON *p)
{
	const cJSON	*s = cJSON_GetObjectItemCaseSensitive(p, "schema"), *items, *v, *x;
	const char	*kind, *desc;
	struct fc_buf	 b = { NULL, 0, 0 };
	int		 first = 1;

	items = cJSON_GetObjectItemCaseSensitive(s, "items");
	kind = str_of(s, "x-kind");
	if (*kind == '\0')
		kind = str_of(s, "type");
	fc_buf_addf(&b, "  %s%s  %s", str_of(p, "name"), cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(p, "required")) ? "" : "?", kind);
	v = cJSON_GetObjectItemCaseSensitive(s, "enum");
	if (v == NULL)
		v = cJSON_GetObjectItemCaseSensitive(items, "enum");
	desc = str_of(s, "description");
	if (cJSON_IsArray(v)) {
		fc_buf_addf(&b, ": ");
		cJSON_ArrayForEach(x, v) {
			char	*t = text_of(x, 0);

			fc_buf_addf(&b, "%s%s", first ? "" : "|", t);
			free(t);
			first = 0;
		}
	} else if (*desc != '\0')
		fc_buf_addf(&b, ": %s", desc);
	put_safe(f, b.data);
	fc_buf_free(&b);

	/* its limits, in brackets */
	add_string(&b, s, "format", "format");
	add_string(&b, s, "pattern", "pattern");
	add_number(&b, s, "maxLength", "at most");
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(s, "maxLength")))
		fc_buf_addf(&b, " characters");
	add_number(&b, s, "minimum", "from");
	add_number(&b, s, "maximum", "to");
	add_number(&b, s, "minItems", "at least");
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(s, "minItems")))
		fc_buf_addf(&b, " items");
	add_number(&b, s, "maxItems", "at most");
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(s, "maxItems")))
		fc_buf_addf(&b, " items");
	if (cJSON_IsArray(v) && *desc != '\0')
		fc_buf_addf(&b, "%s%s", b.len > 0 ? ", " : "", desc);
	if (b.len > 0) {
		fputs(" [", f);
		put_safe(f, b.data);
		fputc(']', f);
	}
	fputc('\n', f);
	fc_buf_free(&b);
}

int
fc_print_help(FILE *f, const cJSON *doc, const char *method)
{
	const cJSON	*m = method_of(doc, method), *p, *e, *c;
	const char	*t;
	char		*roles;

	if (m == NULL)
		return -1;
	roles = roles_text(m);
	put_safe(f, method);
	fputs("\n  roles: ", f);
	put_safe(f, roles);
	fprintf(f, "\n  %s\n", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m,
	    "x-mutation")) ? "a mutation: fundctl gives it an idempotency key unless you do" :
	    "reads only");
	free(roles);
	fputs("params (? marks an optional one):\n", f);
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "params")) == 0)
		fputs("  none\n", f);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(m, "params"))
		print_param(f, p);
	t = str_of(cJSON_GetObjectItemCaseSensitive(m, "result"), "description");
	fputs("result:\n  ", f);
	put_safe(f, *t != '\0' ? t : "(see the docs)");
	fputs("\nerrors:\n", f);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(m, "errors")) {
		t = str_of(cJSON_GetObjectItemCaseSensitive(e, "data"), "reason");
		c = cJSON_GetObjectItemCaseSensitive(e, "code");
		fprintf(f, "  %.0f ", cJSON_IsNumber(c) ? c->valuedouble : 0.0);
		put_safe(f, *t != '\0' ? t : str_of(e, "message"));
		fputc('\n', f);
	}
	return 0;
}
