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

/* A value as text (allocated): strings as they are, null as "", the rest as JSON. */
static char *
text_of(const cJSON *v)
{
	char	*s;

	if (v == NULL || cJSON_IsNull(v))
		return xstrdup("");
	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	s = cJSON_PrintUnformatted(v);
	if (s == NULL)
		return xstrdup("");
	{
		char *c = xstrdup(s);

		cJSON_free(s);
		return c;
	}
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

/* The columns of rows: ids first (the list's own first: "grants" lists grant_id), then
 * the others as they come, a currency right after the first money column (a report names
 * its own in order). */
static cJSON *
columns_of(const cJSON *res, const cJSON *rows, const char *key)
{
	cJSON		*cols = cJSON_CreateArray(), *ordered = cJSON_CreateArray();
	const cJSON	*r, *v, *c, *rc = cJSON_GetObjectItemCaseSensitive(res, "columns");
	int		 cur = 0;

	if (cJSON_IsArray(rc)) {
		cJSON_ArrayForEach(c, rc)
			add_col(ordered, cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(c, "name")));
		cJSON_Delete(cols);
		return ordered;
	}
	cJSON_ArrayForEach(r, rows)
		cJSON_ArrayForEach(v, r)
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
		const cJSON	*first = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetArrayItem(rows, 0), c->valuestring);

		if (is_id(c->valuestring) || strcmp(c->valuestring, "currency") == 0)
			continue;
		add_col(ordered, c->valuestring);
		if (!cur && cJSON_IsString(first) && is_money(first->valuestring) &&
		    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rows, 0),
		    "currency") != NULL) {
			add_col(ordered, "currency");
			cur = 1;
		}
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
	char	*s = text_of(v);
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
		w[i] = width(c->valuestring);
		right[i] = 1;
		for (j = 0; j < nrow; j++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetArrayItem(rows, j), c->valuestring);

			s = cell_of(v);
			if (width(s) > w[i])
				w[i] = width(s);
			if (*s != '\0' && !is_money(s) && !cJSON_IsNumber(v))
				right[i] = 0;
			free(s);
		}
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(c, cols) {
		if (mode == FC_OUT_CSV) {
			if (i > 0)
				fputc(',', f);
			csv_field(f, c->valuestring);
		} else
			fprintf(f, "%s%s%*s", i > 0 ? "  " : "", c->valuestring,
			    i + 1 < ncol ? (int)(w[i] - width(c->valuestring)) : 0, "");
		i++;
	}
	fputs(mode == FC_OUT_CSV ? "\r\n" : "\n", f);
	cJSON_ArrayForEach(r, rows) {
		i = 0;
		cJSON_ArrayForEach(c, cols) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, c->valuestring);

			if (mode == FC_OUT_CSV) {
				s = text_of(v);
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

		if (cJSON_IsString(nc))
			fprintf(f, "next_cursor: %s\n", nc->valuestring);
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
	char		*s;
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
			s = text_of(v);
			csv_field(f, v->string);
			fputc(',', f);
			csv_field(f, s);
			fputs("\r\n", f);
			free(s);
		}
		return;
	}
	cJSON_ArrayForEach(v, res)
		if (width(v->string) > kw)
			kw = width(v->string);
	cJSON_ArrayForEach(v, res) {
		s = text_of(v);
		fprintf(f, "%s:%*s %s\n", v->string, (int)(kw - width(v->string)), "", s);
		free(s);
	}
}

static const cJSON *
method_of(const cJSON *doc, const char *name)
{
	const cJSON	*m;

	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(doc, "methods"))
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "name")) ?
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "name")) : "",
		    name) == 0)
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

		cJSON_AddStringToObject(o, "method", cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(m, "name")));
		cJSON_AddStringToObject(o, "roles", roles);
		cJSON_AddStringToObject(o, "mutation", cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(m, "x-mutation")) ? "yes" : "no");
		cJSON_AddItemToArray(rows, o);
		free(roles);
	}
	fc_print_result(f, res, FC_OUT_TABLE);
	cJSON_Delete(res);
}

int
fc_print_help(FILE *f, const cJSON *doc, const char *method)
{
	const cJSON	*m = method_of(doc, method), *p, *s, *e, *v;
	char		*roles, *t;

	if (m == NULL)
		return -1;
	roles = roles_text(m);
	fprintf(f, "%s\n  roles: %s\n  %s\n", method, roles, cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(m, "x-mutation")) ? "a mutation: fundctl gives it "
	    "an idempotency key unless you do" : "reads only");
	free(roles);
	fputs("params:\n", f);
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "params")) == 0)
		fputs("  none\n", f);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(m, "params")) {
		s = cJSON_GetObjectItemCaseSensitive(p, "schema");
		fprintf(f, "  %s%s  %s", cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(p, "name")),
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "required")) ? "" : "?",
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "x-kind")) ?
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "x-kind")) :
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "type")));
		v = cJSON_GetObjectItemCaseSensitive(s, "enum");
		if (v == NULL)
			v = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(s, "items"), "enum");
		if (cJSON_IsArray(v)) {
			const cJSON *x;
			int first = 1;

			fputs(": ", f);
			cJSON_ArrayForEach(x, v) {
				fprintf(f, "%s%s", first ? "" : "|", x->valuestring);
				first = 0;
			}
		} else if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(s, "description")))
			fprintf(f, ": %s", cJSON_GetObjectItemCaseSensitive(s,
			    "description")->valuestring);
		fputc('\n', f);
	}
	t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(m, "result"), "description"));
	fprintf(f, "result:\n  %s\nerrors:\n", t != NULL && *t != '\0' ? t : "(see the docs)");
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(m, "errors"))
		fprintf(f, "  %.0f %s\n", cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(e, "code")), cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "data"),
		    "reason")));
	return 0;
}
