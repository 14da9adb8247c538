/*
 * audit_json.c: strict parser of the flat JSON objects of an audit export.
 *
 * Reads a line in place. The common case, a string without escapes, costs
 * one scan of 8 bytes at a time and no copy; strings with escapes are
 * decoded into the caller's buffer. Values of keys the caller does not
 * name are parsed and thrown away, nested at most AJ_NEST_MAX deep.
 */
#include <stdint.h>
#include <string.h>

#include "audit_json.h"

struct aj {
	const char		*s;
	size_t			 n, i;		/* length, position */
	char			*dec;		/* decoded strings */
	size_t			 declen;
	struct aj_error		*err;
};

static int
json_fail(struct aj *j, const char *what)
{
	j->err->what = what;
	j->err->pos = j->i;
	return -1;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
skip_ws(struct aj *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' ||
	    j->s[j->i] == '\r'))
		j->i++;
}

/* Is s[0..n) valid UTF-8 (no overlong forms, surrogates or > U+10FFFF)? */
static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t		i = 0, k, len;
	uint32_t	cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			len = 2;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			len = 3;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			len = 4;
			cp = s[i] & 0x07;
		} else
			return 0;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		i += len;
	}
	return 1;
}

static int
hex4(const char *s, uint32_t *out)
{
	int	i, d;

	*out = 0;
	for (i = 0; i < 4; i++) {
		if ((d = hexval((unsigned char)s[i])) == -1)
			return -1;
		*out = *out << 4 | (uint32_t)d;
	}
	return 0;
}

/* Decode the raw string s[0..n) to the end of j->dec. Every backslash in s
 * is followed by another byte of s (parse_string made sure). */
static int
decode_string(struct aj *j, const char *s, size_t n, struct aj_val *out)
{
	char		*d = j->dec + j->declen;
	size_t		 i = 0, start = j->declen;
	uint32_t	 cp, lo;

	while (i < n) {
		if (s[i] != '\\') {
			*d++ = s[i++];
			continue;
		}
		switch (s[i + 1]) {
		case '"':
		case '\\':
		case '/':
			*d++ = s[i + 1];
			break;
		case 'b':
			*d++ = '\b';
			break;
		case 'f':
			*d++ = '\f';
			break;
		case 'n':
			*d++ = '\n';
			out->lf = 1;
			break;
		case 'r':
			*d++ = '\r';
			break;
		case 't':
			*d++ = '\t';
			break;
		case 'u':
			if (n - i < 6 || hex4(s + i + 2, &cp) == -1)
				return json_fail(j, "bad \\u escape");
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return json_fail(j, "lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (n - i < 12 || s[i + 6] != '\\' ||
				    s[i + 7] != 'u' ||
				    hex4(s + i + 8, &lo) == -1 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return json_fail(j, "lone high "
					    "surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				i += 6;
			}
			if (cp == 0)
				out->nul = 1;
			if (cp == '\n')
				out->lf = 1;
			if (cp < 0x80)
				*d++ = (char)cp;
			else if (cp < 0x800) {
				*d++ = (char)(0xc0 | cp >> 6);
				*d++ = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				*d++ = (char)(0xe0 | cp >> 12);
				*d++ = (char)(0x80 | (cp >> 6 & 0x3f));
				*d++ = (char)(0x80 | (cp & 0x3f));
			} else {
				*d++ = (char)(0xf0 | cp >> 18);
				*d++ = (char)(0x80 | (cp >> 12 & 0x3f));
				*d++ = (char)(0x80 | (cp >> 6 & 0x3f));
				*d++ = (char)(0x80 | (cp & 0x3f));
			}
			if (cp >= 0x80)
				out->nonascii = 1;
			i += 4;
			break;
		default:
			return json_fail(j, "bad escape");
		}
		i += 2;
	}
	out->p = j->dec + start;
	out->len = (size_t)(d - out->p);
	j->declen += out->len;
	return 0;
}

/* Bytes that end the fast scan of a string: '"', '\\', controls, non-ASCII. */
static const unsigned char str_stop[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x00 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x10 */
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0x20 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0x30 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0x40 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,	/* 0x50 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0x60 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0x70 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x80 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x90 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0xa0 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0xb0 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0xc0 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0xd0 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0xe0 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0xf0 */
};

#define ONES	UINT64_C(0x0101010101010101)
#define HIGHS	UINT64_C(0x8080808080808080)

/* Does the word w hold a byte that str_stop[] names? Exact: no false
 * positives or negatives for the word as a whole. */
static inline uint64_t
word_stops(uint64_t w)
{
	uint64_t	q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');

	return ((q - ONES) & ~q) | ((b - ONES) & ~b) | (w - ONES * 0x20) | w;
}

/* Skip the bytes of s[i..n) that need no attention, 8 at a time. */
static inline size_t
scan_plain(const unsigned char *s, size_t i, size_t n)
{
	uint64_t	w;

	while (n - i >= 8) {
		memcpy(&w, s + i, 8);
		if ((word_stops(w) & HIGHS) != 0)
			break;
		i += 8;
	}
	while (i < n && !str_stop[s[i]])
		i++;
	return i;
}

/* A string at j->s[j->i] == '"'. */
static int
parse_string(struct aj *j, struct aj_val *out)
{
	const unsigned char	*s = (const unsigned char *)j->s;
	size_t			 start = ++j->i, i = start, n = j->n;
	unsigned char		 c;
	int			 esc = 0;

	memset(out, 0, sizeof *out);
	out->kind = AJ_STRING;
	for (;;) {
		i = scan_plain(s, i, n);
		if (i >= n) {
			j->i = i;
			return json_fail(j, "unterminated string");
		}
		c = s[i];
		if (c == '"')
			break;
		if (c < 0x20) {
			j->i = i;
			return json_fail(j, "control character in a string");
		}
		if (c >= 0x80)
			out->nonascii = 1;
		if (c == '\\') {
			esc = 1;
			if (++i >= n)
				continue;	/* unterminated */
		}
		i++;
	}
	j->i = start;	/* for messages */
	if (out->nonascii && !utf8_valid(s + start, i - start))
		return json_fail(j, "invalid UTF-8 in a string");
	if (!esc) {
		out->p = j->s + start;
		out->len = i - start;
	} else if (decode_string(j, j->s + start, i - start, out) == -1)
		return -1;
	j->i = i + 1;
	return 0;
}

static int
parse_number(struct aj *j, struct aj_val *out)
{
	const char	*s = j->s;
	size_t		 start = j->i, i = j->i, n = j->n;
	int		 integer = 1;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	else {
		j->i = i;
		return json_fail(j, "bad number");
	}
	if (i < n && s[i] == '.') {
		integer = 0;
		if (++i >= n || s[i] < '0' || s[i] > '9') {
			j->i = i;
			return json_fail(j, "bad number");
		}
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		integer = 0;
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9') {
			j->i = i;
			return json_fail(j, "bad number");
		}
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	memset(out, 0, sizeof *out);
	out->kind = integer ? AJ_INTEGER : AJ_OTHER;
	out->p = s + start;
	out->len = i - start;
	j->i = i;
	return 0;
}

static int
parse_value(struct aj *j, struct aj_val *out, int depth)
{
	struct aj_val	 tmp;
	const char	*lit;
	size_t		 len;
	char		 end;

	if (j->i >= j->n)
		return json_fail(j, "missing value");
	switch (j->s[j->i]) {
	case '"':
		return parse_string(j, out);
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return parse_number(j, out);
	case 'n':
	case 't':
	case 'f':
		lit = j->s[j->i] == 'n' ? "null" :
		    j->s[j->i] == 't' ? "true" : "false";
		len = strlen(lit);
		if (j->n - j->i < len || memcmp(j->s + j->i, lit, len) != 0)
			return json_fail(j, "unexpected character");
		memset(out, 0, sizeof *out);
		out->kind = *lit == 'n' ? AJ_NULL : AJ_OTHER;
		j->i += len;
		return 0;
	case '[':
	case '{':
		if (depth >= AJ_NEST_MAX)
			return json_fail(j, "nested too deeply");
		end = j->s[j->i] == '[' ? ']' : '}';
		j->i++;
		skip_ws(j);
		if (j->i < j->n && j->s[j->i] == end) {
			j->i++;
			break;
		}
		for (;;) {
			if (end == '}') {
				if (j->i >= j->n || j->s[j->i] != '"')
					return json_fail(j, "expected a key");
				if (parse_string(j, &tmp) == -1)
					return -1;
				skip_ws(j);
				if (j->i >= j->n || j->s[j->i] != ':')
					return json_fail(j, "expected ':'");
				j->i++;
				skip_ws(j);
			}
			if (parse_value(j, &tmp, depth + 1) == -1)
				return -1;
			skip_ws(j);
			if (j->i < j->n && j->s[j->i] == ',') {
				j->i++;
				skip_ws(j);
				continue;
			}
			if (j->i < j->n && j->s[j->i] == end) {
				j->i++;
				break;
			}
			return json_fail(j, end == ']' ?
			    "expected ',' or ']'" : "expected ',' or '}'");
		}
		break;
	default:
		return json_fail(j, "unexpected character");
	}
	memset(out, 0, sizeof *out);
	out->kind = AJ_OTHER;
	return 0;
}

/* The index of key k in keys[], or -1; the search starts at hint. */
static int
lookup_key(const struct aj_key *keys, int nkeys, const struct aj_val *k,
    int hint)
{
	int	i, t;

	for (t = 0, i = hint; t < nkeys; t++, i++) {
		if (i >= nkeys)
			i = 0;
		if (keys[i].len == k->len &&
		    memcmp(keys[i].name, k->p, k->len) == 0)
			return i;
	}
	return -1;
}

int
aj_parse_object(const char *s, size_t n, const struct aj_key *keys,
    int nkeys, struct aj_val *vals, char *dec, struct aj_error *err)
{
	struct aj	 j0, *j = &j0;
	struct aj_val	 key, tmp;
	int		 k, hint = 0;

	memset(vals, 0, sizeof *vals * (size_t)nkeys);
	memset(err, 0, sizeof *err);
	err->dup = -1;
	j->s = s;
	j->n = n;
	j->i = 0;
	j->dec = dec;
	j->declen = 0;
	j->err = err;

	skip_ws(j);
	if (j->i >= j->n || j->s[j->i] != '{') {
		err->not_object = 1;
		return json_fail(j, "not a JSON object");
	}
	j->i++;
	skip_ws(j);
	if (j->i < j->n && j->s[j->i] == '}')
		j->i++;
	else {
		for (;;) {
			if (j->i >= j->n || j->s[j->i] != '"')
				return json_fail(j, "expected a key");
			if (parse_string(j, &key) == -1)
				return -1;
			skip_ws(j);
			if (j->i >= j->n || j->s[j->i] != ':')
				return json_fail(j, "expected ':'");
			j->i++;
			skip_ws(j);
			if ((k = lookup_key(keys, nkeys, &key, hint)) == -1) {
				if (parse_value(j, &tmp, 0) == -1)
					return -1;
			} else {
				if (vals[k].kind != AJ_ABSENT) {
					err->dup = k;
					return json_fail(j, "key appears "
					    "twice");
				}
				if (parse_value(j, &vals[k], 0) == -1)
					return -1;
				hint = k + 1;
			}
			skip_ws(j);
			if (j->i < j->n && j->s[j->i] == ',') {
				j->i++;
				skip_ws(j);
				continue;
			}
			if (j->i < j->n && j->s[j->i] == '}') {
				j->i++;
				break;
			}
			return json_fail(j, "expected ',' or '}'");
		}
	}
	skip_ws(j);
	if (j->i != j->n)
		return json_fail(j, "data after the object");
	return 0;
}
