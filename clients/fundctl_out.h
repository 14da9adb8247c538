/*
 * fundctl_out.h: a result as JSON, an aligned text table or CSV (`-o`).
 */
#ifndef FUNDCTL_OUT_H
#define FUNDCTL_OUT_H

#include <stdio.h>

#include <cjson/cJSON.h>

enum fc_output {
	FC_OUT_JSON,		/* the result as indented JSON (the default) */
	FC_OUT_TABLE,		/* a list as an aligned table, else key: value */
	FC_OUT_CSV		/* RFC 4180 rows with a header */
};

#define FC_CELL_MAX	60	/* code points of a table cell before "..." */

/* "json", "table" or "csv" into *o; -1 for anything else. */
int	 fc_output_parse(const char *s, enum fc_output *o);

/*
 * Print a result to f in format o. A list (an array of objects, or an
 * object with `rows`, or with one array of objects, beside e.g.
 * `next_cursor`) is a table: id columns (`*_id`, `id`, `code`) first,
 * numbers and money right-aligned, each currency column after its amount;
 * the object's other members follow as `key: value` lines (in CSV on
 * notes, so that f holds CSV only). Any other object is `key: value`
 * lines (a one-row CSV). Nested values print as compact JSON; control
 * characters of strings become '?' (CSV keeps line breaks and tabs).
 * Returns 0, or -1 when writing to f failed.
 */
int	 fc_print_result(FILE *f, FILE *notes, enum fc_output o,
	    const cJSON *res);

/* Code points of the UTF-8 string s (its width in a terminal, for the
 * scripts fundd's names are written in). */
size_t	 fc_utf8_width(const char *s);

#endif /* FUNDCTL_OUT_H */
