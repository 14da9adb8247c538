/*
 * validate.h: value checks shared by every RPC method (docs/protocol.md).
 *
 * All functions are pure: no allocation, no global state, thread-safe.
 * Each check returns 0 when the value is acceptable and -1 when it is not;
 * on -1 it sets *reason (when reason is not NULL) to a static snake_case
 * string suitable for JSON-RPC error.data.reason, e.g. "too_many_decimals".
 * Money never passes through floating point.
 */
#ifndef FUND_VALIDATE_H
#define FUND_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

/* Largest amount we accept, in minor units: fits comfortably in a bigint and
 * leaves room for sums of many amounts. */
#define V_MONEY_MAX_MINOR	INT64_C(100000000000000000)	/* 1e17 */

#define V_ID_MAX		64	/* opaque ids: [A-Za-z0-9_-]{1,64} */
#define V_IDEMPOTENCY_MAX	128	/* idempotency_key: 1..128 printable ASCII */
#define V_LIMIT_DEFAULT		100
#define V_LIMIT_MAX		1000
#define V_CURSOR_MAX		256	/* cursors: [A-Za-z0-9_=-]{1,256} */

/* ISO 4217 alphabetic code (active currencies, upper case) -> number of minor
 * units (0..4). Unlike the other checks, success returns that number, not 0.
 * Returns -1 (reason "unknown_currency" or "bad_format"). Codes without minor
 * units (XAU, XDR, XXX, ...) and withdrawn codes are unknown. */
int	v_currency_minor(const char *code, const char **reason);

/* Parse a decimal money string ("1250.00", "7", "0.5") for a currency with
 * `scale` minor units into *minor (1250.00 at scale 2 -> 125000).
 * Grammar: [0-9]+ ( "." [0-9]+ )? ; no sign, no exponent, no spaces, no
 * leading "+", leading zeros allowed ("007.50" is 750), at most `scale`
 * decimals (trailing zeros beyond scale are still too many decimals).
 * Reasons: "bad_format", "too_many_decimals", "not_positive" (zero),
 * "too_large" (> V_MONEY_MAX_MINOR). A leading '-' before an otherwise
 * valid amount gives "not_positive" (even "-0"). allow_zero != 0 accepts 0.
 * `scale` outside 0..18 is a caller bug: -1 with reason "bad_scale".
 * *minor is written only on success (minor may be NULL). */
int	v_money_parse(const char *s, int scale, int allow_zero, int64_t *minor,
	    const char **reason);

/* Format minor units at `scale` as a decimal string ("125000",2 -> "1250.00";
 * negative values get a leading '-'). Returns the length written (without the
 * NUL), or -1 if buf is too small (len >= 24 always suffices) or scale is
 * outside 0..18; on -1 buf holds "" when len > 0. */
int	v_money_format(int64_t minor, int scale, char *buf, size_t len);

/* A positive decimal rate (fx_rate): [0-9]+("."[0-9]{1,12})?, > 0, at most 12
 * decimals and 12 integer digits (leading zeros not counted; '-' before a
 * valid rate is "not_positive"). Reasons: "bad_format", "not_positive",
 * "too_many_decimals", "too_large". */
int	v_rate(const char *s, const char **reason);

/* ISO 3166-1 alpha-2, officially assigned codes only, upper case ("AM").
 * Reasons: "bad_format", "unknown_country". */
int	v_country(const char *code, const char **reason);

/* Calendar date YYYY-MM-DD with a real day (leap years honoured), years
 * 1900..2999. Reasons: "bad_format", "bad_date". */
int	v_date(const char *s, const char **reason);

/* RFC 3339 date-time in UTC: YYYY-MM-DDTHH:MM:SS[.frac]Z (also lower-case t/z
 * and "+00:00"/"-00:00" as the offset); frac 1..6 digits; second 00..60.
 * Other offsets are refused with "not_utc". Reasons: "bad_format",
 * "bad_date", "bad_time", "not_utc". */
int	v_time(const char *s, const char **reason);

/* Opaque id: 1..V_ID_MAX of [A-Za-z0-9_-]. Reasons: "bad_format", "too_long",
 * "empty" (also for NULL, as in the other length-checked strings below). */
int	v_id(const char *s, const char **reason);

/* idempotency_key: 1..128 bytes of printable ASCII (0x21..0x7e, no spaces).
 * Reasons: "empty", "too_long", "bad_format". */
int	v_idempotency_key(const char *s, const char **reason);

/* A free-text field (names, purposes, reasons, comments): valid UTF-8 (no
 * overlongs, surrogates or code points past U+10FFFF), no control characters
 * at all (Unicode Cc: U+0000..U+001F, U+007F..U+009F; not even \n or \t;
 * format characters such as U+200B or U+202E are allowed), length 1..maxchars
 * characters (code points, as PostgreSQL's length() counts them) after the
 * caller's own trim policy (we do not trim). Reasons: "empty", "too_long",
 * "bad_utf8", "control_character". */
int	v_text(const char *s, size_t maxchars, const char **reason);

/* A name (of a person, partner, fund, principal): v_text, and neither blank (nothing
 * but Unicode White_Space and format characters, such as U+200B) nor carrying a
 * bidirectional override, embedding or isolate (U+202A..U+202E, U+2066..U+2069), which
 * make a name display as another. Reasons: v_text's, "blank", "bidi_control". */
int	v_name(const char *s, size_t maxchars, const char **reason);

/* 1 when s (UTF-8) holds a Unicode White_Space character. */
int	v_uspace(const char *s);

/* s[0..len) is well-formed UTF-8 (as v_text: no overlongs, surrogates or code points
 * past U+10FFFF; NUL and control characters are fine here): 0, else -1. */
int	v_utf8(const char *s, size_t len);

/* `limit` given as a JSON number: an integer 1..V_LIMIT_MAX. Pass the double
 * cJSON holds; non-integers, 0, negatives and > max are refused (NaN is
 * "not_an_integer", infinities "out_of_range"); *out is written only on
 * success. Reasons: "not_an_integer", "out_of_range". */
int	v_limit(double d, int *out, const char **reason);

/* cursor: 1..V_CURSOR_MAX of [A-Za-z0-9_=-]. Reasons: "empty", "too_long",
 * "bad_format". */
int	v_cursor(const char *s, const char **reason);

#endif /* FUND_VALIDATE_H */
