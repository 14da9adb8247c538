/*
 * fundctl_ledger.c: the ledger's views for people: a ledger.trial_balance
 * result as a table (`fundctl ledger trial-balance`).
 *
 * Net balances come signed (debit positive, docs/protocol.md); the table
 * writes them as an amount and its side, "1475.59 Dr" or "1463.25 Cr". Every
 * string of the result is printed through fc_clean, so a server cannot drive
 * the terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fundctl.h"
#include "fundctl_ledger.h"

#define TB_COLS		6	/* account, currency, opening, debit, credit, closing */
#define TB_CELL_MAX	200	/* bytes of one cell */

struct tb_table {
	char	**cell;		/* nrows * TB_COLS, each allocated or NULL */
	size_t	  nrows;
	size_t	  cap;
};

static char **
tb_add_row(struct tb_table *t)
{
	char	**row;

	if (t->nrows == t->cap) {
		t->cap = t->cap == 0 ? 16 : t->cap * 2;
		t->cell = xrealloc(t->cell, t->cap * TB_COLS * sizeof *t->cell);
	}
	row = t->cell + t->nrows++ * TB_COLS;
	memset(row, 0, TB_COLS * sizeof *row);
	return row;
}

static void
tb_free(struct tb_table *t)
{
	size_t	i;

	for (i = 0; i < t->nrows * TB_COLS; i++)
		free(t->cell[i]);
	free(t->cell);
}

static char *
clean(const char *s)
{
	return fc_clean(s, strlen(s), TB_CELL_MAX);
}

/* The string member `name` of o, or NULL. */
static const char *
str_of(const cJSON *o, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Whether a decimal string is zero ("0", "0.00", "-0.00"). */
static int
is_zero(const char *s)
{
	if (*s == '-')
		s++;
	for (; *s != '\0'; s++)
		if (*s != '0' && *s != '.')
			return 0;
	return 1;
}

/* A signed net balance as "AMOUNT Dr", "AMOUNT Cr", or "0.00   ". */
static char *
side(const char *signed_amount)
{
	char	*c, *out;

	if (is_zero(signed_amount)) {
		c = clean(*signed_amount == '-' ? signed_amount + 1 :
		    signed_amount);
		out = xprintf("%s   ", c);
	} else if (*signed_amount == '-') {
		c = clean(signed_amount + 1);
		out = xprintf("%s Cr", c);
	} else {
		c = clean(signed_amount);
		out = xprintf("%s Dr", c);
	}
	free(c);
	return out;
}

/* An unsigned amount with the side it is on ("Dr" or "Cr"). */
static char *
on_side(const char *amount, const char *dr_cr)
{
	char	*c = clean(amount), *out;

	out = xprintf("%s %s", c, dr_cr);
	free(c);
	return out;
}

static int
malformed(char **cause, const char *what)
{
	return fc_cause(cause, "malformed trial balance: %s", what);
}

/* The two rows of a currency's totals: the debit side, the credit side. */
static int
add_totals(struct tb_table *t, const char *cur, const cJSON *tot, char **cause)
{
	static const char *const keys[] = { "opening_debit", "opening_credit",
	    "debit", "credit", "closing_debit", "closing_credit" };
	const char	*v[6];
	char		**row;
	size_t		 i;

	if (!cJSON_IsObject(tot))
		return malformed(cause, "totals are not an object");
	for (i = 0; i < 6; i++)
		if ((v[i] = str_of(tot, keys[i])) == NULL)
			return malformed(cause, "a total is missing");
	row = tb_add_row(t);
	row[0] = xstrdup("total");
	row[1] = clean(cur);
	row[2] = on_side(v[0], "Dr");
	row[3] = clean(v[2]);
	row[4] = clean(v[3]);
	row[5] = on_side(v[4], "Dr");
	row = tb_add_row(t);
	row[2] = on_side(v[1], "Cr");
	row[5] = on_side(v[5], "Cr");
	return 0;
}

int
fc_print_trial_balance(FILE *f, const char *title, const cJSON *res,
    char **cause)
{
	static const char *const head[TB_COLS] = { "account", "currency",
	    "opening", "debit", "credit", "closing" };
	struct tb_table	 t = { NULL, 0, 0 };
	const cJSON	*accounts, *a, *cur, *tbc, *x;
	const char	*name, *c, *o, *d, *cr, *cl;
	char		**row;
	size_t		 w[TB_COLS] = { 0 }, i, j, n;
	int		 rc = -1;

	if (!cJSON_IsObject(res))
		return malformed(cause, "not an object");
	accounts = cJSON_GetObjectItemCaseSensitive(res, "accounts");
	cur = cJSON_GetObjectItemCaseSensitive(res, "currency");
	tbc = cJSON_GetObjectItemCaseSensitive(res, "totals_by_currency");
	if (!cJSON_IsArray(accounts) || !cJSON_IsArray(tbc) ||
	    !(cJSON_IsString(cur) || cJSON_IsNull(cur)))
		return malformed(cause, "no accounts, currency or "
		    "totals_by_currency");

	row = tb_add_row(&t);
	for (i = 0; i < TB_COLS; i++)
		row[i] = xstrdup(head[i]);
	cJSON_ArrayForEach(a, accounts) {
		if ((name = str_of(a, "account")) == NULL ||
		    (c = str_of(a, "currency")) == NULL ||
		    (o = str_of(a, "opening")) == NULL ||
		    (d = str_of(a, "debit")) == NULL ||
		    (cr = str_of(a, "credit")) == NULL ||
		    (cl = str_of(a, "closing")) == NULL) {
			malformed(cause, "an account lacks a member");
			goto out;
		}
		row = tb_add_row(&t);
		row[0] = clean(name);
		row[1] = clean(c);
		row[2] = side(o);
		row[3] = clean(d);
		row[4] = clean(cr);
		row[5] = side(cl);
	}
	if (cJSON_IsString(cur)) {
		/* One currency shown: its totals. */
		if (add_totals(&t, cur->valuestring,
		    cJSON_GetObjectItemCaseSensitive(res, "totals"), cause) == -1)
			goto out;
	} else {
		cJSON_ArrayForEach(x, tbc) {
			if ((c = str_of(x, "currency")) == NULL) {
				malformed(cause, "totals without a currency");
				goto out;
			}
			if (add_totals(&t, c, x, cause) == -1)
				goto out;
		}
	}

	for (i = 0; i < t.nrows; i++)
		for (j = 0; j < TB_COLS; j++)
			if (t.cell[i * TB_COLS + j] != NULL &&
			    (n = strlen(t.cell[i * TB_COLS + j])) > w[j])
				w[j] = n;
	if (title != NULL)
		fprintf(f, "%s\n\n", title);
	for (i = 0; i < t.nrows; i++) {
		row = t.cell + i * TB_COLS;
		/* account and currency left, the amounts right; "Dr"/"Cr" and
		 * the three spaces of a zero balance keep the digits aligned */
		fprintf(f, "%-*s  %-*s", (int)w[0], row[0] ? row[0] : "",
		    (int)w[1], row[1] ? row[1] : "");
		for (j = 2; j < TB_COLS; j++)
			fprintf(f, "  %*s", (int)w[j], row[j] ? row[j] : "");
		fputc('\n', f);
		if (i == 0 && cJSON_GetArraySize(accounts) == 0)
			fputs("(no entries)\n", f);
	}
	rc = 0;
out:
	tb_free(&t);
	return rc;
}
