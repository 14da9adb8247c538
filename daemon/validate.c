/*
 * validate.c: value checks shared by every RPC method (docs/protocol.md).
 *
 * Everything here is pure: constant tables, no allocation, no global
 * mutable state, so every function is safe to call from any thread.
 * Money and rates are handled as decimal strings and integers only.
 */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

#define V_MONEY_SCALE_MAX	18	/* 10^18 still fits an int64_t */
#define V_RATE_INT_MAX		12	/* significant integer digits */
#define V_RATE_DEC_MAX		12
#define V_TIME_FRAC_MAX		6

/*
 * ISO 4217 list one, active alphabetic codes and their minor units, as in
 * force in 2026.  Sorted by code (bsearch).  Left out on purpose:
 *   - codes whose minor unit is "N.A." (XAG XAU XBA XBB XBC XBD XDR XPD
 *     XPT XSU XTS XUA XXX): metals, units of account, test and "no
 *     currency" codes, which no fund can hold;
 *   - withdrawn codes: ANG (replaced by XCG, 2025), BGN (euro, 2026),
 *     HRK (euro, 2023), SLL (replaced by SLE), ZWL (replaced by ZWG, 2024).
 * Fund codes (BOV CHE CHW CLF COU MXV USN UYI UYW) are active and kept.
 */
struct currency {
	char		code[4];
	unsigned char	minor;
};

static const struct currency currencies[] = {
	{ "AED", 2 }, { "AFN", 2 }, { "ALL", 2 }, { "AMD", 2 }, { "AOA", 2 },
	{ "ARS", 2 }, { "AUD", 2 }, { "AWG", 2 }, { "AZN", 2 }, { "BAM", 2 },
	{ "BBD", 2 }, { "BDT", 2 }, { "BHD", 3 }, { "BIF", 0 }, { "BMD", 2 },
	{ "BND", 2 }, { "BOB", 2 }, { "BOV", 2 }, { "BRL", 2 }, { "BSD", 2 },
	{ "BTN", 2 }, { "BWP", 2 }, { "BYN", 2 }, { "BZD", 2 }, { "CAD", 2 },
	{ "CDF", 2 }, { "CHE", 2 }, { "CHF", 2 }, { "CHW", 2 }, { "CLF", 4 },
	{ "CLP", 0 }, { "CNY", 2 }, { "COP", 2 }, { "COU", 2 }, { "CRC", 2 },
	{ "CUC", 2 }, { "CUP", 2 }, { "CVE", 2 }, { "CZK", 2 }, { "DJF", 0 },
	{ "DKK", 2 }, { "DOP", 2 }, { "DZD", 2 }, { "EGP", 2 }, { "ERN", 2 },
	{ "ETB", 2 }, { "EUR", 2 }, { "FJD", 2 }, { "FKP", 2 }, { "GBP", 2 },
	{ "GEL", 2 }, { "GHS", 2 }, { "GIP", 2 }, { "GMD", 2 }, { "GNF", 0 },
	{ "GTQ", 2 }, { "GYD", 2 }, { "HKD", 2 }, { "HNL", 2 }, { "HTG", 2 },
	{ "HUF", 2 }, { "IDR", 2 }, { "ILS", 2 }, { "INR", 2 }, { "IQD", 3 },
	{ "IRR", 2 }, { "ISK", 0 }, { "JMD", 2 }, { "JOD", 3 }, { "JPY", 0 },
	{ "KES", 2 }, { "KGS", 2 }, { "KHR", 2 }, { "KMF", 0 }, { "KPW", 2 },
	{ "KRW", 0 }, { "KWD", 3 }, { "KYD", 2 }, { "KZT", 2 }, { "LAK", 2 },
	{ "LBP", 2 }, { "LKR", 2 }, { "LRD", 2 }, { "LSL", 2 }, { "LYD", 3 },
	{ "MAD", 2 }, { "MDL", 2 }, { "MGA", 2 }, { "MKD", 2 }, { "MMK", 2 },
	{ "MNT", 2 }, { "MOP", 2 }, { "MRU", 2 }, { "MUR", 2 }, { "MVR", 2 },
	{ "MWK", 2 }, { "MXN", 2 }, { "MXV", 2 }, { "MYR", 2 }, { "MZN", 2 },
	{ "NAD", 2 }, { "NGN", 2 }, { "NIO", 2 }, { "NOK", 2 }, { "NPR", 2 },
	{ "NZD", 2 }, { "OMR", 3 }, { "PAB", 2 }, { "PEN", 2 }, { "PGK", 2 },
	{ "PHP", 2 }, { "PKR", 2 }, { "PLN", 2 }, { "PYG", 0 }, { "QAR", 2 },
	{ "RON", 2 }, { "RSD", 2 }, { "RUB", 2 }, { "RWF", 0 }, { "SAR", 2 },
	{ "SBD", 2 }, { "SCR", 2 }, { "SDG", 2 }, { "SEK", 2 }, { "SGD", 2 },
	{ "SHP", 2 }, { "SLE", 2 }, { "SOS", 2 }, { "SRD", 2 }, { "SSP", 2 },
	{ "STN", 2 }, { "SVC", 2 }, { "SYP", 2 }, { "SZL", 2 }, { "THB", 2 },
	{ "TJS", 2 }, { "TMT", 2 }, { "TND", 3 }, { "TOP", 2 }, { "TRY", 2 },
	{ "TTD", 2 }, { "TWD", 2 }, { "TZS", 2 }, { "UAH", 2 }, { "UGX", 0 },
	{ "USD", 2 }, { "USN", 2 }, { "UYI", 0 }, { "UYU", 2 }, { "UYW", 4 },
	{ "UZS", 2 }, { "VED", 2 }, { "VES", 2 }, { "VND", 0 }, { "VUV", 0 },
	{ "WST", 2 }, { "XAF", 0 }, { "XCD", 2 }, { "XCG", 2 }, { "XOF", 0 },
	{ "XPF", 0 }, { "YER", 2 }, { "ZAR", 2 }, { "ZMW", 2 }, { "ZWG", 2 },
};

/*
 * ISO 3166-1 alpha-2, the 249 officially assigned codes.  Sorted
 * (bsearch).  Exceptionally or transitionally reserved codes (EU, UK, UN,
 * XK, AN, ...) and user-assigned ones (AA, QM-QZ, XA-XZ, ZZ) are not here.
 */
static const char countries[][3] = {
	"AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT",
	"AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI",
	"BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY",
	"BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
	"CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
	"DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK",
	"FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL",
	"GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
	"HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR",
	"IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
	"KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS",
	"LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
	"ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW",
	"MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP",
	"NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
	"PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
	"SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM",
	"SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF",
	"TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
	"TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
	"VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* Powers of ten up to 10^18, the largest that fits an int64_t. */
static const uint64_t pow10_u64[] = {
	UINT64_C(1),
	UINT64_C(10),
	UINT64_C(100),
	UINT64_C(1000),
	UINT64_C(10000),
	UINT64_C(100000),
	UINT64_C(1000000),
	UINT64_C(10000000),
	UINT64_C(100000000),
	UINT64_C(1000000000),
	UINT64_C(10000000000),
	UINT64_C(100000000000),
	UINT64_C(1000000000000),
	UINT64_C(10000000000000),
	UINT64_C(100000000000000),
	UINT64_C(1000000000000000),
	UINT64_C(10000000000000000),
	UINT64_C(100000000000000000),
	UINT64_C(1000000000000000000),
};

/* Set *reason (if asked for) and fail. */
static int
refuse(const char **reason, const char *why)
{
	if (reason != NULL)
		*reason = why;
	return (-1);
}

/* Locale-independent character classes (isdigit() & co. follow LC_CTYPE). */
static int
is_digit(unsigned char c)
{
	return (c >= '0' && c <= '9');
}

static int
is_upper(unsigned char c)
{
	return (c >= 'A' && c <= 'Z');
}

static int
is_alnum(unsigned char c)
{
	return (is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z'));
}

/* strlen() that stops looking after max + 1 bytes: enough to say "too long"
 * without walking a huge string. */
static size_t
bounded_len(const char *s, size_t max)
{
	size_t	n;

	for (n = 0; n <= max && s[n] != '\0'; n++)
		;
	return (n);
}

/* Exactly n upper-case ASCII letters and nothing more. */
static int
is_upper_code(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!is_upper((unsigned char)s[i]))
			return (0);
	return (s[n] == '\0');
}

/* Two digits at s as a number 0..99, or -1. */
static int
two_digits(const char *s)
{
	if (!is_digit((unsigned char)s[0]) || !is_digit((unsigned char)s[1]))
		return (-1);
	return ((s[0] - '0') * 10 + (s[1] - '0'));
}

static int
cmp_currency(const void *key, const void *elem)
{
	const struct currency	*c = elem;

	return (memcmp(key, c->code, 3));
}

int
v_currency_minor(const char *code, const char **reason)
{
	const struct currency	*c;

	if (code == NULL || !is_upper_code(code, 3))
		return (refuse(reason, "bad_format"));
	c = bsearch(code, currencies, NITEMS(currencies), sizeof(currencies[0]),
	    cmp_currency);
	if (c == NULL)
		return (refuse(reason, "unknown_currency"));
	return (c->minor);
}

/*
 * A scanned decimal "[0-9]+ ( '.' [0-9]+ )?": the integer part's value
 * (saturating: ovf is set past UINT64_MAX), the count of its significant
 * digits, and where the fraction's digits start and how many there are.
 */
struct decimal {
	uint64_t	 ival;
	int		 ovf;
	size_t		 isig;
	const char	*frac;
	size_t		 nfrac;
};

/* Scan s as a whole; 0 if it is a decimal, -1 if not. */
static int
scan_decimal(const char *s, struct decimal *d)
{
	const char	*p = s;
	unsigned	 dig;

	memset(d, 0, sizeof(*d));
	if (!is_digit((unsigned char)*p))
		return (-1);
	for (; is_digit((unsigned char)*p); p++) {
		dig = (unsigned)(*p - '0');
		if (d->isig > 0 || dig != 0)
			d->isig++;
		if (d->ovf || d->ival > (UINT64_MAX - dig) / 10)
			d->ovf = 1;
		else
			d->ival = d->ival * 10 + dig;
	}
	if (*p == '.') {
		p++;
		d->frac = p;
		for (; is_digit((unsigned char)*p); p++)
			d->nfrac++;
		if (d->nfrac == 0)
			return (-1);
	}
	return (*p == '\0' ? 0 : -1);
}

/* The fraction digits in units of 10^-scale (caller ensured nfrac <= scale). */
static uint64_t
frac_value(const struct decimal *d, int scale)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < d->nfrac; i++)
		v = v * 10 + (uint64_t)(d->frac[i] - '0');
	return (v * pow10_u64[scale - (int)d->nfrac]);
}

int
v_money_parse(const char *s, int scale, int allow_zero, int64_t *minor,
    const char **reason)
{
	struct decimal	d;
	uint64_t	unit, fv, max = (uint64_t)V_MONEY_MAX_MINOR;
	uint64_t	total;
	int		neg = 0;

	if (scale < 0 || scale > V_MONEY_SCALE_MAX)
		return (refuse(reason, "bad_scale"));
	if (s == NULL)
		return (refuse(reason, "bad_format"));
	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (scan_decimal(s, &d) == -1)
		return (refuse(reason, "bad_format"));
	if (neg)
		return (refuse(reason, "not_positive"));
	if (d.nfrac > (size_t)scale)
		return (refuse(reason, "too_many_decimals"));

	unit = pow10_u64[scale];
	fv = frac_value(&d, scale);
	/* total = ival * unit + fv <= max, without overflowing. */
	if (d.ovf || fv > max || d.ival > (max - fv) / unit)
		return (refuse(reason, "too_large"));
	total = d.ival * unit + fv;
	if (total == 0 && !allow_zero)
		return (refuse(reason, "not_positive"));
	if (minor != NULL)
		*minor = (int64_t)total;
	return (0);
}

int
v_money_format(int64_t minor, int scale, char *buf, size_t len)
{
	char		tmp[32];	/* filled from the end */
	char		*p = tmp + sizeof(tmp);
	uint64_t	mag;
	int		ndig = 0, n;

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	if (buf == NULL || scale < 0 || scale > V_MONEY_SCALE_MAX)
		return (-1);

	/* Magnitude without overflowing on INT64_MIN. */
	mag = minor < 0 ? (uint64_t)(-(minor + 1)) + 1 : (uint64_t)minor;
	do {
		if (scale > 0 && ndig == scale)
			*--p = '.';
		*--p = (char)('0' + mag % 10);
		mag /= 10;
		ndig++;
	} while (mag != 0 || ndig <= scale);
	if (minor < 0)
		*--p = '-';

	n = (int)(tmp + sizeof(tmp) - p);
	if ((size_t)n >= len)
		return (-1);
	memcpy(buf, p, (size_t)n);
	buf[n] = '\0';
	return (n);
}

int
v_rate(const char *s, const char **reason)
{
	struct decimal	d;
	size_t		i;
	int		neg = 0, nonzero;

	if (s == NULL)
		return (refuse(reason, "bad_format"));
	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (scan_decimal(s, &d) == -1)
		return (refuse(reason, "bad_format"));
	if (neg)
		return (refuse(reason, "not_positive"));
	if (d.nfrac > V_RATE_DEC_MAX)
		return (refuse(reason, "too_many_decimals"));
	if (d.isig > V_RATE_INT_MAX)
		return (refuse(reason, "too_large"));
	nonzero = d.isig > 0;
	for (i = 0; i < d.nfrac && !nonzero; i++)
		nonzero = d.frac[i] != '0';
	if (!nonzero)
		return (refuse(reason, "not_positive"));
	return (0);
}

static int
cmp_country(const void *key, const void *elem)
{
	return (memcmp(key, elem, 2));
}

int
v_country(const char *code, const char **reason)
{
	if (code == NULL || !is_upper_code(code, 2))
		return (refuse(reason, "bad_format"));
	if (bsearch(code, countries, NITEMS(countries), sizeof(countries[0]),
	    cmp_country) == NULL)
		return (refuse(reason, "unknown_country"));
	return (0);
}

static int
is_leap(int y)
{
	return ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0);
}

static int
days_in_month(int y, int m)
{
	static const int	dim[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return (m == 2 && is_leap(y) ? 29 : dim[m - 1]);
}

/*
 * "YYYY-MM-DD" at s (the caller checks what follows).  Returns 0, or -1
 * with *why "bad_format" (shape) or "bad_date" (no such day, or a year
 * outside 1900..2999).
 */
static int
parse_date(const char *s, const char **why)
{
	int	cc, yy, y, m, d;

	cc = two_digits(s);
	yy = cc < 0 ? -1 : two_digits(s + 2);
	m = yy < 0 || s[4] != '-' ? -1 : two_digits(s + 5);
	d = m < 0 || s[7] != '-' ? -1 : two_digits(s + 8);
	if (d < 0) {
		*why = "bad_format";
		return (-1);
	}
	y = cc * 100 + yy;
	if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 ||
	    d > days_in_month(y, m)) {
		*why = "bad_date";
		return (-1);
	}
	return (0);
}

int
v_date(const char *s, const char **reason)
{
	const char	*why;

	if (s == NULL || bounded_len(s, 10) != 10)
		return (refuse(reason, "bad_format"));
	if (parse_date(s, &why) == -1)
		return (refuse(reason, why));
	return (0);
}

int
v_time(const char *s, const char **reason)
{
	const char	*p, *why = NULL;
	int		 hh, mi, ss, oh = 0, om = 0, nfrac, utc;

	if (s == NULL || bounded_len(s, 10) < 10)
		return (refuse(reason, "bad_format"));
	/* Shape first, so a malformed string is always "bad_format". */
	if (parse_date(s, &why) == -1 && strcmp(why, "bad_format") == 0)
		return (refuse(reason, why));
	p = s + 10;
	if (*p != 'T' && *p != 't')
		return (refuse(reason, "bad_format"));
	p++;
	/* Each check stops at the first NUL, so nothing reads past it. */
	if ((hh = two_digits(p)) < 0 || p[2] != ':' ||
	    (mi = two_digits(p + 3)) < 0 || p[5] != ':' ||
	    (ss = two_digits(p + 6)) < 0)
		return (refuse(reason, "bad_format"));
	p += 8;
	if (*p == '.') {
		p++;
		for (nfrac = 0; is_digit((unsigned char)p[nfrac]); nfrac++)
			;
		if (nfrac < 1 || nfrac > V_TIME_FRAC_MAX)
			return (refuse(reason, "bad_format"));
		p += nfrac;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		utc = 1;
	else if ((*p == '+' || *p == '-') && (oh = two_digits(p + 1)) >= 0 &&
	    p[3] == ':' && (om = two_digits(p + 4)) >= 0 && p[6] == '\0') {
		if (oh > 23 || om > 59)
			return (refuse(reason, "bad_format"));
		utc = oh == 0 && om == 0;
	} else
		return (refuse(reason, "bad_format"));

	if (why != NULL)
		return (refuse(reason, why));
	if (hh > 23 || mi > 59 || ss > 60)
		return (refuse(reason, "bad_time"));
	if (!utc)
		return (refuse(reason, "not_utc"));
	return (0);
}

/* 1..max bytes, each accepted by ok(). */
static int
check_token(const char *s, size_t max, int (*ok)(unsigned char),
    const char **reason)
{
	size_t	n, i;

	if (s == NULL || *s == '\0')
		return (refuse(reason, "empty"));
	n = bounded_len(s, max);
	if (n > max)
		return (refuse(reason, "too_long"));
	for (i = 0; i < n; i++)
		if (!ok((unsigned char)s[i]))
			return (refuse(reason, "bad_format"));
	return (0);
}

static int
id_char(unsigned char c)
{
	return (is_alnum(c) || c == '_' || c == '-');
}

static int
key_char(unsigned char c)
{
	return (c >= 0x21 && c <= 0x7e);
}

static int
cursor_char(unsigned char c)
{
	return (id_char(c) || c == '=');
}

int
v_id(const char *s, const char **reason)
{
	return (check_token(s, V_ID_MAX, id_char, reason));
}

int
v_idempotency_key(const char *s, const char **reason)
{
	return (check_token(s, V_IDEMPOTENCY_MAX, key_char, reason));
}

int
v_cursor(const char *s, const char **reason)
{
	return (check_token(s, V_CURSOR_MAX, cursor_char, reason));
}

/*
 * Decode one UTF-8 sequence at p (at most `left` bytes, left >= 1) into
 * *cp.  Returns its length, or 0 if it is not well-formed UTF-8 (Unicode
 * table 3-7): overlong forms, surrogates, code points past U+10FFFF, stray
 * continuation bytes and truncated sequences are all refused.
 */
static size_t
utf8_decode(const unsigned char *p, size_t left, uint32_t *cp)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		n, i;
	uint32_t	c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return (1);
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		c = p[0] & 0x0f;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		c = p[0] & 0x07;
		if (p[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else
		return (0);	/* 80..c1 and f5..ff never start a sequence */
	if (left < n)
		return (0);
	for (i = 1; i < n; i++) {
		if (p[i] < lo || p[i] > hi)
			return (0);
		c = (c << 6) | (p[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = c;
	return (n);
}

int
v_text(const char *s, size_t maxchars, const char **reason)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n, chars = 0;
	uint32_t		 cp;

	if (s == NULL || *s == '\0')
		return (refuse(reason, "empty"));
	/* utf8_decode stops at the first byte out of place, and NUL is one: left = 4 never
	 * reads past the terminator */
	for (i = 0; p[i] != '\0'; i += n) {
		if (++chars > maxchars)
			return (refuse(reason, "too_long"));
		if ((n = utf8_decode(p + i, 4, &cp)) == 0)
			return (refuse(reason, "bad_utf8"));
		/* General category Cc: C0, DEL and C1. */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return (refuse(reason, "control_character"));
	}
	return (0);
}

/* Unicode White_Space (PropList.txt) */
static int
is_uspace(uint32_t c)
{
	return (c == 0x20 || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0xa0 ||
	    c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
	    c == 0x202f || c == 0x205f || c == 0x3000);
}

/* Unicode Cf, the format characters that render as nothing (the ones that occur in
 * text; DerivedGeneralCategory.txt) */
static int
is_format(uint32_t c)
{
	return (c == 0xad || (c >= 0x600 && c <= 0x605) || c == 0x61c || c == 0x6dd ||
	    c == 0x70f || c == 0x180e || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x2064) ||
	    (c >= 0x2066 && c <= 0x206f) || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) ||
	    (c >= 0x1bca0 && c <= 0x1bca3) || (c >= 0x1d173 && c <= 0x1d17a) ||
	    c == 0xe0001 || (c >= 0xe0020 && c <= 0xe007f));
}

int
v_name(const char *s, size_t maxchars, const char **reason)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n;
	uint32_t		 cp;
	int			 seen = 0;

	if (v_text(s, maxchars, reason) != 0)
		return (-1);
	for (i = 0; p[i] != '\0'; i += n) {
		n = utf8_decode(p + i, 4, &cp);
		if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
			return (refuse(reason, "bidi_control"));
		if (!is_uspace(cp) && !is_format(cp))
			seen = 1;
	}
	if (!seen)
		return (refuse(reason, "blank"));
	return (0);
}

int
v_uspace(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n;
	uint32_t		 cp;

	for (i = 0; p[i] != '\0'; i += n) {
		if ((n = utf8_decode(p + i, 4, &cp)) == 0)
			return (0);
		if (is_uspace(cp))
			return (1);
	}
	return (0);
}

int
v_utf8(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n;
	uint32_t		 cp;

	for (i = 0; i < len; i += n)
		if ((n = utf8_decode(p + i, len - i, &cp)) == 0)
			return (-1);
	return (0);
}

int
v_limit(double d, int *out, const char **reason)
{
	long long	i;

	if (isnan(d))
		return (refuse(reason, "not_an_integer"));
	/* Beyond 2^53 every double is an integer, and far out of range;
	 * inside, the cast is exact and defined. */
	if (d > -9007199254740992.0 && d < 9007199254740992.0) {
		i = (long long)d;
		if ((double)i != d)
			return (refuse(reason, "not_an_integer"));
	}
	if (!(d >= 1 && d <= V_LIMIT_MAX))
		return (refuse(reason, "out_of_range"));
	if (out != NULL)
		*out = (int)d;
	return (0);
}
