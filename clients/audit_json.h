/*
 * audit_json.h: strict parser of the flat JSON objects of an audit export.
 *
 * One line holds one object. The values of the keys the caller names are
 * kept (strings decoded, integers as their digits); the values of other
 * keys are checked and skipped. Strict: RFC 8259 only, valid UTF-8, no
 * trailing data, a named key at most once.
 */
#ifndef AUDIT_JSON_H
#define AUDIT_JSON_H

#include <stddef.h>

#define AJ_NEST_MAX	32	/* arrays and objects inside skipped values */

enum aj_kind {
	AJ_ABSENT = 0,
	AJ_NULL,
	AJ_STRING,
	AJ_INTEGER,	/* -?(0|[1-9][0-9]*): p and len are its digits */
	AJ_OTHER	/* true, false, other numbers, arrays, objects */
};

struct aj_val {
	enum aj_kind	 kind;
	const char	*p;		/* AJ_STRING: decoded bytes; AJ_INTEGER */
	size_t		 len;
	int		 nonascii;	/* AJ_STRING: a byte 0x80 or above */
	int		 nul;		/* AJ_STRING: a NUL (from \u0000) */
	int		 lf;		/* AJ_STRING: a line feed (from \n) */
};

struct aj_key {
	const char	*name;
	size_t		 len;
};

struct aj_error {
	int		 not_object;	/* the line does not start with '{' */
	int		 dup;		/* a key of keys[] seen twice, or -1 */
	const char	*what;		/* else: "expected ':'", ... */
	size_t		 pos;		/* at this 0-based byte offset */
};

/*
 * Parse the object s[0..n), a line without its line feed. The value of
 * keys[k] goes to vals[k] (all cleared first). A value pointer points into
 * s, or into dec (at least n bytes) for a string with escapes. Returns 0,
 * or -1 with *err filled. The key search is fastest when the keys of the
 * line come in the order of keys[].
 */
int	aj_parse_object(const char *s, size_t n, const struct aj_key *keys,
	    int nkeys, struct aj_val *vals, char *dec, struct aj_error *err);

#endif /* AUDIT_JSON_H */
