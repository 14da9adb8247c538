/*
 * test_validate.c: unit tests for daemon/validate.c (docs/protocol.md).
 *
 * Self-contained: links only validate.c and cmocka.
 */

#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "validate.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* The call must fail with exactly this reason. */
#define REFUSED(why, call) do {						\
	const char *reason = NULL;					\
	int rv_ = (call);						\
	if (rv_ != -1 || reason == NULL || strcmp(reason, (why)) != 0)	\
		fail_msg("%s: got %d/%s, want -1/%s", #call, rv_,	\
		    reason != NULL ? reason : "(null)", (why));		\
} while (0)

/* The call must succeed (return 0) and leave reason alone. */
#define ACCEPTED(call) do {						\
	const char *reason = NULL;					\
	int rv_ = (call);						\
	if (rv_ != 0 || reason != NULL)					\
		fail_msg("%s: got %d/%s, want 0", #call, rv_,		\
		    reason != NULL ? reason : "(null)");		\
} while (0)

/* A string of n copies of c, in a caller's buffer of at least n + 1. */
static char *
repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return (buf);
}

/* ------------------------------------------------------------------ */
/* Currencies */

/* Every active ISO 4217 code with a minor unit, as "CODEn". Independent
 * copy of the table in validate.c: a typo or a sorting slip there shows
 * up as a mismatch in test_currency_table_exact. */
static const char *const expected_currencies =
    "AED2 AFN2 ALL2 AMD2 AOA2 ARS2 AUD2 AWG2 AZN2 BAM2 BBD2 BDT2 BHD3 BIF0 "
    "BMD2 BND2 BOB2 BOV2 BRL2 BSD2 BTN2 BWP2 BYN2 BZD2 CAD2 CDF2 CHE2 CHF2 "
    "CHW2 CLF4 CLP0 CNY2 COP2 COU2 CRC2 CUC2 CUP2 CVE2 CZK2 DJF0 DKK2 DOP2 "
    "DZD2 EGP2 ERN2 ETB2 EUR2 FJD2 FKP2 GBP2 GEL2 GHS2 GIP2 GMD2 GNF0 GTQ2 "
    "GYD2 HKD2 HNL2 HTG2 HUF2 IDR2 ILS2 INR2 IQD3 IRR2 ISK0 JMD2 JOD3 JPY0 "
    "KES2 KGS2 KHR2 KMF0 KPW2 KRW0 KWD3 KYD2 KZT2 LAK2 LBP2 LKR2 LRD2 LSL2 "
    "LYD3 MAD2 MDL2 MGA2 MKD2 MMK2 MNT2 MOP2 MRU2 MUR2 MVR2 MWK2 MXN2 MXV2 "
    "MYR2 MZN2 NAD2 NGN2 NIO2 NOK2 NPR2 NZD2 OMR3 PAB2 PEN2 PGK2 PHP2 PKR2 "
    "PLN2 PYG0 QAR2 RON2 RSD2 RUB2 RWF0 SAR2 SBD2 SCR2 SDG2 SEK2 SGD2 SHP2 "
    "SLE2 SOS2 SRD2 SSP2 STN2 SVC2 SYP2 SZL2 THB2 TJS2 TMT2 TND3 TOP2 TRY2 "
    "TTD2 TWD2 TZS2 UAH2 UGX0 USD2 USN2 UYI0 UYU2 UYW4 UZS2 VED2 VES2 VND0 "
    "VUV0 WST2 XAF0 XCD2 XCG2 XOF0 XPF0 YER2 ZAR2 ZMW2 ZWG2";

/* Expected minor units of code in expected_currencies, or -1. */
static int
expected_minor(const char *code)
{
	const char	*p;

	for (p = expected_currencies; *p != '\0'; p += p[4] == ' ' ? 5 : 4)
		if (memcmp(p, code, 3) == 0)
			return (p[3] - '0');
	return (-1);
}

static void
test_currency_known(void **state)
{
	static const struct {
		const char	*code;
		int		 minor;
	} cases[] = {
		{ "AMD", 2 }, { "EUR", 2 }, { "USD", 2 }, { "GBP", 2 },
		{ "RUB", 2 }, { "JPY", 0 }, { "KRW", 0 }, { "ISK", 0 },
		{ "KWD", 3 }, { "BHD", 3 }, { "TND", 3 }, { "CLF", 4 },
		{ "UYW", 4 }, { "AED", 2 }, { "ZWG", 2 }, { "XCG", 2 },
		{ "XOF", 0 }, { "CHE", 2 }, { "UYI", 0 },
	};
	const char	*reason = "untouched";
	size_t		 i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		reason = "untouched";
		assert_int_equal(v_currency_minor(cases[i].code, &reason),
		    cases[i].minor);
		assert_string_equal(reason, "untouched");
	}
	/* reason may be NULL. */
	assert_int_equal(v_currency_minor("AMD", NULL), 2);
}

static void
test_currency_refused(void **state)
{
	char	long_code[64];

	(void)state;
	REFUSED("bad_format", v_currency_minor(NULL, &reason));
	REFUSED("bad_format", v_currency_minor("", &reason));
	REFUSED("bad_format", v_currency_minor("US", &reason));
	REFUSED("bad_format", v_currency_minor("USDX", &reason));
	REFUSED("bad_format", v_currency_minor("usd", &reason));
	REFUSED("bad_format", v_currency_minor("Usd", &reason));
	REFUSED("bad_format", v_currency_minor("U$D", &reason));
	REFUSED("bad_format", v_currency_minor("840", &reason));
	REFUSED("bad_format", v_currency_minor(" USD", &reason));
	REFUSED("bad_format", v_currency_minor("USD ", &reason));
	REFUSED("bad_format", v_currency_minor("\xc3\x9cSD", &reason));
	REFUSED("bad_format", v_currency_minor(repeat(long_code, 'A', 63),
	    &reason));
	/* Well formed but not an active currency with minor units. */
	REFUSED("unknown_currency", v_currency_minor("AAA", &reason));
	REFUSED("unknown_currency", v_currency_minor("ZZZ", &reason));
	REFUSED("unknown_currency", v_currency_minor("XAU", &reason));
	REFUSED("unknown_currency", v_currency_minor("XDR", &reason));
	REFUSED("unknown_currency", v_currency_minor("XTS", &reason));
	REFUSED("unknown_currency", v_currency_minor("XXX", &reason));
	REFUSED("unknown_currency", v_currency_minor("HRK", &reason));
	REFUSED("unknown_currency", v_currency_minor("ZWL", &reason));
	REFUSED("unknown_currency", v_currency_minor("DEM", &reason));
	assert_int_equal(v_currency_minor("AAA", NULL), -1);
}

/* All 26^3 codes: exactly the expected ones are known, with their units. */
static void
test_currency_table_exact(void **state)
{
	char	code[4];
	int	a, b, c, got, want, known = 0;

	(void)state;
	code[3] = '\0';
	for (a = 'A'; a <= 'Z'; a++)
		for (b = 'A'; b <= 'Z'; b++)
			for (c = 'A'; c <= 'Z'; c++) {
				code[0] = (char)a;
				code[1] = (char)b;
				code[2] = (char)c;
				got = v_currency_minor(code, NULL);
				want = expected_minor(code);
				if (got != want)
					fail_msg("%s: got %d, want %d", code,
					    got, want);
				if (got >= 0)
					known++;
			}
	assert_int_equal(known, (int)((strlen(expected_currencies) + 1) / 5));
	assert_int_equal(known, 165);
}

/* ------------------------------------------------------------------ */
/* Countries */

static const char *const expected_countries =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH "
    "BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL "
    "CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET "
    "FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU "
    "GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE "
    "KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC "
    "MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC "
    "NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT "
    "PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR "
    "SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA "
    "UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

static int
expected_country(const char *code)
{
	const char	*p;

	for (p = expected_countries; *p != '\0'; p += p[2] == ' ' ? 3 : 2)
		if (memcmp(p, code, 2) == 0)
			return (1);
	return (0);
}

static void
test_country_valid(void **state)
{
	static const char *const ok[] = {
		"AM", "US", "DE", "FR", "GB", "RU", "GE", "IR", "AD", "ZW",
		"SS", "BQ", "CW", "SX", "AX", "PS", "TW", "VA",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < NITEMS(ok); i++)
		ACCEPTED(v_country(ok[i], &reason));
	assert_int_equal(v_country("AM", NULL), 0);
}

static void
test_country_refused(void **state)
{
	(void)state;
	REFUSED("bad_format", v_country(NULL, &reason));
	REFUSED("bad_format", v_country("", &reason));
	REFUSED("bad_format", v_country("A", &reason));
	REFUSED("bad_format", v_country("ARM", &reason));
	REFUSED("bad_format", v_country("am", &reason));
	REFUSED("bad_format", v_country("Am", &reason));
	REFUSED("bad_format", v_country("A1", &reason));
	REFUSED("bad_format", v_country("051", &reason));
	REFUSED("bad_format", v_country("AM ", &reason));
	REFUSED("bad_format", v_country("AM-ER", &reason));
	/* Reserved or user-assigned, not officially assigned. */
	REFUSED("unknown_country", v_country("AA", &reason));
	REFUSED("unknown_country", v_country("XK", &reason));
	REFUSED("unknown_country", v_country("EU", &reason));
	REFUSED("unknown_country", v_country("UK", &reason));
	REFUSED("unknown_country", v_country("UN", &reason));
	REFUSED("unknown_country", v_country("AN", &reason));
	REFUSED("unknown_country", v_country("SU", &reason));
	REFUSED("unknown_country", v_country("YU", &reason));
	REFUSED("unknown_country", v_country("ZZ", &reason));
	REFUSED("unknown_country", v_country("QZ", &reason));
	assert_int_equal(v_country("ZZ", NULL), -1);
}

static void
test_country_table_exact(void **state)
{
	char	code[3];
	int	a, b, got, known = 0;

	(void)state;
	code[2] = '\0';
	for (a = 'A'; a <= 'Z'; a++)
		for (b = 'A'; b <= 'Z'; b++) {
			code[0] = (char)a;
			code[1] = (char)b;
			got = v_country(code, NULL) == 0;
			if (got != expected_country(code))
				fail_msg("%s: accepted=%d", code, got);
			known += got;
		}
	assert_int_equal(known, 249);
}

/* ------------------------------------------------------------------ */
/* Money */

static void
test_money_parse_valid(void **state)
{
	static const struct {
		const char	*s;
		int		 scale;
		int64_t		 want;
	} cases[] = {
		{ "1250.00", 2, 125000 },
		{ "1250", 2, 125000 },
		{ "1250.5", 2, 125050 },
		{ "7", 2, 700 },
		{ "0.5", 2, 50 },
		{ "0.01", 2, 1 },
		{ "007.50", 2, 750 },
		{ "00000000000000000000000000000000000001.00", 2, 100 },
		{ "1500", 0, 1500 },
		{ "1", 0, 1 },
		{ "1.234", 3, 1234 },
		{ "0.001", 3, 1 },
		{ "1.2345", 4, 12345 },
		{ "0.0001", 4, 1 },
		{ "12.3", 4, 123000 },
		{ "0.000000000000000001", 18, 1 },
		{ "0.1", 18, INT64_C(100000000000000000) },
	};
	int64_t	minor;
	size_t	i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		minor = -42;
		ACCEPTED(v_money_parse(cases[i].s, cases[i].scale, 0, &minor,
		    &reason));
		if (minor != cases[i].want)
			fail_msg("%s@%d: got %lld, want %lld", cases[i].s,
			    cases[i].scale, (long long)minor,
			    (long long)cases[i].want);
	}
	/* minor and reason may both be NULL. */
	assert_int_equal(v_money_parse("1.00", 2, 0, NULL, NULL), 0);
}

static void
test_money_parse_bad_format(void **state)
{
	static const char *const bad[] = {
		"", "1.", ".5", ".", "+1", "1e3", "1E3", " 1", "1 ", "1,00",
		"1.2.3", "--1", "-", "-.5", "-1.", "0x10", "1_000",
		"\xef\xbc\x91",	/* fullwidth one */
		"1.-2", "1.+2", "NaN", "inf", "1\n", "1.0 ", "$1", "1..0",
		"-abc",
	};
	int64_t	minor = 42;
	size_t	i;

	(void)state;
	REFUSED("bad_format", v_money_parse(NULL, 2, 0, &minor, &reason));
	for (i = 0; i < NITEMS(bad); i++) {
		const char	*reason = NULL;

		if (v_money_parse(bad[i], 2, 1, &minor, &reason) != -1 ||
		    reason == NULL || strcmp(reason, "bad_format") != 0)
			fail_msg("\"%s\": got %s", bad[i],
			    reason != NULL ? reason : "(accepted)");
	}
	assert_int_equal(minor, 42);	/* never written on failure */
}

static void
test_money_parse_decimals(void **state)
{
	int64_t	minor = 42;

	(void)state;
	/* At most `scale` decimals, per currency. */
	REFUSED("too_many_decimals", v_money_parse("1.001", 2, 0, &minor,
	    &reason));
	REFUSED("too_many_decimals", v_money_parse("1.5", 0, 0, &minor,
	    &reason));
	REFUSED("too_many_decimals", v_money_parse("1.0", 0, 0, &minor,
	    &reason));
	REFUSED("too_many_decimals", v_money_parse("1.2345", 3, 0, &minor,
	    &reason));
	REFUSED("too_many_decimals", v_money_parse("1.23456", 4, 0, &minor,
	    &reason));
	/* Trailing zeros past the scale still count. */
	REFUSED("too_many_decimals", v_money_parse("1.000", 2, 0, &minor,
	    &reason));
	REFUSED("too_many_decimals", v_money_parse("0.000", 2, 1, &minor,
	    &reason));
	assert_int_equal(minor, 42);
	/* Exactly the currency's decimals is fine. */
	ACCEPTED(v_money_parse("1.00", v_currency_minor("USD", NULL), 0,
	    &minor, &reason));
	assert_int_equal(minor, 100);
	ACCEPTED(v_money_parse("1.000", v_currency_minor("KWD", NULL), 0,
	    &minor, &reason));
	assert_int_equal(minor, 1000);
	ACCEPTED(v_money_parse("1.0000", v_currency_minor("CLF", NULL), 0,
	    &minor, &reason));
	assert_int_equal(minor, 10000);
	ACCEPTED(v_money_parse("1000", v_currency_minor("JPY", NULL), 0,
	    &minor, &reason));
	assert_int_equal(minor, 1000);
	REFUSED("too_many_decimals", v_money_parse("1000.0",
	    v_currency_minor("JPY", NULL), 0, &minor, &reason));
}

static void
test_money_parse_not_positive(void **state)
{
	int64_t	minor = 42;

	(void)state;
	REFUSED("not_positive", v_money_parse("0", 2, 0, &minor, &reason));
	REFUSED("not_positive", v_money_parse("0.00", 2, 0, &minor, &reason));
	REFUSED("not_positive", v_money_parse("000.0", 2, 0, &minor,
	    &reason));
	REFUSED("not_positive", v_money_parse("-1", 2, 0, &minor, &reason));
	REFUSED("not_positive", v_money_parse("-1.50", 2, 1, &minor,
	    &reason));
	REFUSED("not_positive", v_money_parse("-0", 2, 1, &minor, &reason));
	REFUSED("not_positive", v_money_parse("-0.00", 2, 1, &minor,
	    &reason));
	assert_int_equal(minor, 42);
	/* allow_zero accepts zero, and only zero changes. */
	ACCEPTED(v_money_parse("0", 2, 1, &minor, &reason));
	assert_int_equal(minor, 0);
	minor = 42;
	ACCEPTED(v_money_parse("0.00", 2, 1, &minor, &reason));
	assert_int_equal(minor, 0);
	ACCEPTED(v_money_parse("0.01", 2, 1, &minor, &reason));
	assert_int_equal(minor, 1);
}

static void
test_money_parse_too_large(void **state)
{
	int64_t	minor = 0;

	(void)state;
	/* Exactly V_MONEY_MAX_MINOR is accepted at every scale. */
	ACCEPTED(v_money_parse("1000000000000000.00", 2, 0, &minor, &reason));
	assert_true(minor == V_MONEY_MAX_MINOR);
	ACCEPTED(v_money_parse("100000000000000000", 0, 0, &minor, &reason));
	assert_true(minor == V_MONEY_MAX_MINOR);
	ACCEPTED(v_money_parse("100000000000000", 3, 0, &minor, &reason));
	assert_true(minor == V_MONEY_MAX_MINOR);
	ACCEPTED(v_money_parse("10000000000000.0000", 4, 0, &minor, &reason));
	assert_true(minor == V_MONEY_MAX_MINOR);
	ACCEPTED(v_money_parse("999999999999999.99", 2, 0, &minor, &reason));
	assert_true(minor == V_MONEY_MAX_MINOR - 1);
	ACCEPTED(v_money_parse("0001000000000000000.00", 2, 0, &minor,
	    &reason));
	assert_true(minor == V_MONEY_MAX_MINOR);

	/* One minor unit more is not. */
	REFUSED("too_large", v_money_parse("1000000000000000.01", 2, 0, &minor,
	    &reason));
	REFUSED("too_large", v_money_parse("1000000000000001", 2, 0, &minor,
	    &reason));
	REFUSED("too_large", v_money_parse("100000000000000001", 0, 0, &minor,
	    &reason));
	REFUSED("too_large", v_money_parse("100000000000000.001", 3, 0,
	    &minor, &reason));
	REFUSED("too_large", v_money_parse("10000000000000.0001", 4, 0,
	    &minor, &reason));
	/* Past int64 and uint64, and absurdly long. */
	REFUSED("too_large", v_money_parse("9223372036854775808", 0, 0,
	    &minor, &reason));
	REFUSED("too_large", v_money_parse("18446744073709551616", 0, 0,
	    &minor, &reason));
	REFUSED("too_large", v_money_parse("18446744073709551615.99", 2, 0,
	    &minor, &reason));
	REFUSED("too_large", v_money_parse(
	    "99999999999999999999999999999999999999999999999999", 2, 0,
	    &minor, &reason));
	/* Scale 18: a whole unit is already 10^18 minor units. */
	REFUSED("too_large", v_money_parse("1", 18, 0, &minor, &reason));
	REFUSED("too_large", v_money_parse("0.100000000000000001", 18, 0,
	    &minor, &reason));
	REFUSED("too_large", v_money_parse("0.999999999999999999", 18, 0,
	    &minor, &reason));
	assert_true(minor == V_MONEY_MAX_MINOR);	/* untouched */
}

static void
test_money_parse_precedence(void **state)
{
	(void)state;
	/* Shape first, then sign, then decimals, then size, then zero. */
	REFUSED("bad_format", v_money_parse("-1.", 2, 0, NULL, &reason));
	REFUSED("not_positive", v_money_parse("-1.001", 2, 0, NULL, &reason));
	REFUSED("too_many_decimals", v_money_parse("99999999999999999999.001",
	    2, 0, NULL, &reason));
	REFUSED("too_many_decimals", v_money_parse("0.000", 2, 0, NULL,
	    &reason));
	REFUSED("too_large", v_money_parse("99999999999999999999.00", 2, 0,
	    NULL, &reason));
}

static void
test_money_parse_bad_scale(void **state)
{
	int64_t	minor = 42;

	(void)state;
	REFUSED("bad_scale", v_money_parse("1", -1, 0, &minor, &reason));
	REFUSED("bad_scale", v_money_parse("1", 19, 0, &minor, &reason));
	REFUSED("bad_scale", v_money_parse("1", INT_MAX, 0, &minor, &reason));
	REFUSED("bad_scale", v_money_parse("1", INT_MIN, 0, &minor, &reason));
	assert_int_equal(minor, 42);
	/* The currency lookup's -1 must not slip through as a scale. */
	REFUSED("bad_scale", v_money_parse("1", v_currency_minor("XXX", NULL),
	    0, &minor, &reason));
}

static void
test_money_format(void **state)
{
	static const struct {
		int64_t		 minor;
		int		 scale;
		const char	*want;
	} cases[] = {
		{ 125000, 2, "1250.00" },
		{ 125050, 2, "1250.50" },
		{ 1, 2, "0.01" },
		{ 10, 2, "0.10" },
		{ 0, 2, "0.00" },
		{ 0, 0, "0" },
		{ 0, 4, "0.0000" },
		{ 7, 0, "7" },
		{ 1500, 0, "1500" },
		{ 1234, 3, "1.234" },
		{ 1, 3, "0.001" },
		{ 12345, 4, "1.2345" },
		{ -1, 2, "-0.01" },
		{ -5, 2, "-0.05" },
		{ -125000, 2, "-1250.00" },
		{ -7, 0, "-7" },
		{ V_MONEY_MAX_MINOR, 2, "1000000000000000.00" },
		{ V_MONEY_MAX_MINOR, 0, "100000000000000000" },
		{ -V_MONEY_MAX_MINOR, 4, "-10000000000000.0000" },
		{ INT64_MAX, 0, "9223372036854775807" },
		{ INT64_MAX, 2, "92233720368547758.07" },
		{ INT64_MAX, 18, "9.223372036854775807" },
		{ INT64_MIN, 0, "-9223372036854775808" },
		{ INT64_MIN, 2, "-92233720368547758.08" },
		{ INT64_MIN, 18, "-9.223372036854775808" },
		{ 1, 18, "0.000000000000000001" },
		{ -1, 18, "-0.000000000000000001" },
	};
	char	buf[24];
	size_t	i;
	int	n;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		memset(buf, 'x', sizeof(buf));
		n = v_money_format(cases[i].minor, cases[i].scale, buf,
		    sizeof(buf));
		assert_int_equal(n, (int)strlen(cases[i].want));
		assert_string_equal(buf, cases[i].want);
	}
}

static void
test_money_format_buffer(void **state)
{
	char	buf[64];
	int	n;

	(void)state;
	/* Exact fit: length + NUL. */
	memset(buf, 'x', sizeof(buf));
	n = v_money_format(125000, 2, buf, 8);
	assert_int_equal(n, 7);
	assert_string_equal(buf, "1250.00");
	/* One byte short: refused, buffer left as "". */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(v_money_format(125000, 2, buf, 7), -1);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[7], 'x');	/* no write past len */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(v_money_format(5, 0, buf, 1), -1);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'x');
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(v_money_format(5, 0, buf, 0), -1);
	assert_int_equal(buf[0], 'x');	/* len 0: nothing written */
	assert_int_equal(v_money_format(5, 0, NULL, 10), -1);
	/* The longest output fits in 24 bytes. */
	n = v_money_format(INT64_MIN, 18, buf, 24);
	assert_true(n > 0 && n < 24);
	n = v_money_format(-1, 18, buf, 24);
	assert_true(n > 0 && n < 24);
	/* Bad scale. */
	assert_int_equal(v_money_format(1, -1, buf, sizeof(buf)), -1);
	assert_int_equal(v_money_format(1, 19, buf, sizeof(buf)), -1);
	assert_string_equal(buf, "");
}

/* Formatting what was parsed gives the canonical form back, and parsing
 * what was formatted gives the same number. */
static void
test_money_round_trip(void **state)
{
	static const struct {
		const char	*in;
		int		 scale;
		const char	*canon;
	} cases[] = {
		{ "1250.00", 2, "1250.00" },
		{ "0.01", 2, "0.01" },
		{ "7", 2, "7.00" },
		{ "0.5", 2, "0.50" },
		{ "007.50", 2, "7.50" },
		{ "1500", 0, "1500" },
		{ "0001500", 0, "1500" },
		{ "1.234", 3, "1.234" },
		{ "1.2", 3, "1.200" },
		{ "1.2345", 4, "1.2345" },
		{ "1000000000000000.00", 2, "1000000000000000.00" },
		{ "100000000000000000", 0, "100000000000000000" },
		{ "10000000000000", 4, "10000000000000.0000" },
		{ "0", 2, "0.00" },
	};
	static const int64_t values[] = {
		0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 123456789,
		V_MONEY_MAX_MINOR - 1, V_MONEY_MAX_MINOR,
	};
	char	buf[24];
	int64_t	minor, back;
	size_t	i;
	int	scale;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		ACCEPTED(v_money_parse(cases[i].in, cases[i].scale, 1, &minor,
		    &reason));
		assert_true(v_money_format(minor, cases[i].scale, buf,
		    sizeof(buf)) > 0);
		assert_string_equal(buf, cases[i].canon);
		ACCEPTED(v_money_parse(buf, cases[i].scale, 1, &back,
		    &reason));
		assert_true(back == minor);
	}
	for (scale = 0; scale <= 4; scale++)
		for (i = 0; i < NITEMS(values); i++) {
			assert_true(v_money_format(values[i], scale, buf,
			    sizeof(buf)) > 0);
			back = -1;
			ACCEPTED(v_money_parse(buf, scale, 1, &back, &reason));
			if (back != values[i])
				fail_msg("%s@%d: got %lld, want %lld", buf,
				    scale, (long long)back,
				    (long long)values[i]);
		}
	/* A sweep over small amounts at scale 2. */
	for (minor = 0; minor <= 20000; minor += 7) {
		assert_true(v_money_format(minor, 2, buf, sizeof(buf)) > 0);
		back = -1;
		ACCEPTED(v_money_parse(buf, 2, 1, &back, &reason));
		assert_true(back == minor);
	}
}

/* ------------------------------------------------------------------ */
/* Rates */

static void
test_rate_valid(void **state)
{
	static const char *const ok[] = {
		"1", "0.5", "388.12", "388.123456789012", "0.000000000001",
		"999999999999", "999999999999.999999999999", "1.000000000000",
		"000000000000001", "0001.5", "10",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < NITEMS(ok); i++)
		ACCEPTED(v_rate(ok[i], &reason));
	assert_int_equal(v_rate("1", NULL), 0);
}

static void
test_rate_refused(void **state)
{
	static const char *const bad[] = {
		"", "1.", ".5", "1e2", "+1", " 1", "1 ", "1,5", "1.2.3", "-",
		"--1", "abc", "0x1", "1/2", "-.5",
	};
	size_t	i;

	(void)state;
	REFUSED("bad_format", v_rate(NULL, &reason));
	for (i = 0; i < NITEMS(bad); i++) {
		const char	*reason = NULL;

		if (v_rate(bad[i], &reason) != -1 || reason == NULL ||
		    strcmp(reason, "bad_format") != 0)
			fail_msg("\"%s\": got %s", bad[i],
			    reason != NULL ? reason : "(accepted)");
	}
	REFUSED("not_positive", v_rate("0", &reason));
	REFUSED("not_positive", v_rate("0.000000000000", &reason));
	REFUSED("not_positive", v_rate("000", &reason));
	REFUSED("not_positive", v_rate("-1", &reason));
	REFUSED("not_positive", v_rate("-0.5", &reason));
	REFUSED("too_many_decimals", v_rate("1.0000000000001", &reason));
	REFUSED("too_many_decimals", v_rate("1.0000000000000", &reason));
	REFUSED("too_many_decimals", v_rate("0.0000000000001", &reason));
	REFUSED("too_large", v_rate("1000000000000", &reason));
	REFUSED("too_large", v_rate("9999999999999.5", &reason));
	REFUSED("too_large", v_rate("99999999999999999999999999999", &reason));
	assert_int_equal(v_rate("0", NULL), -1);
}

/* ------------------------------------------------------------------ */
/* Dates and times */

static void
test_date_valid(void **state)
{
	static const char *const ok[] = {
		"2024-02-29", "2000-02-29", "2026-11-23", "1900-01-01",
		"2999-12-31", "2023-02-28", "2024-04-30", "2024-12-31",
		"2024-01-31", "1996-02-29",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < NITEMS(ok); i++)
		ACCEPTED(v_date(ok[i], &reason));
	assert_int_equal(v_date("2024-02-29", NULL), 0);
}

static void
test_date_refused(void **state)
{
	(void)state;
	/* Real-looking but no such day. */
	REFUSED("bad_date", v_date("2023-02-29", &reason));
	REFUSED("bad_date", v_date("1900-02-29", &reason));
	REFUSED("bad_date", v_date("2100-02-29", &reason));
	REFUSED("bad_date", v_date("2024-02-30", &reason));
	REFUSED("bad_date", v_date("2024-04-31", &reason));
	REFUSED("bad_date", v_date("2024-01-32", &reason));
	REFUSED("bad_date", v_date("2024-01-00", &reason));
	REFUSED("bad_date", v_date("2024-00-10", &reason));
	REFUSED("bad_date", v_date("2024-13-01", &reason));
	REFUSED("bad_date", v_date("1899-12-31", &reason));
	REFUSED("bad_date", v_date("3000-01-01", &reason));
	REFUSED("bad_date", v_date("0000-01-01", &reason));
	/* Wrong shape. */
	REFUSED("bad_format", v_date(NULL, &reason));
	REFUSED("bad_format", v_date("", &reason));
	REFUSED("bad_format", v_date("2024-2-29", &reason));
	REFUSED("bad_format", v_date("2024-02-9", &reason));
	REFUSED("bad_format", v_date("2024/02/29", &reason));
	REFUSED("bad_format", v_date("20240229", &reason));
	REFUSED("bad_format", v_date("2024-02-29T00:00:00Z", &reason));
	REFUSED("bad_format", v_date("2024-02-290", &reason));
	REFUSED("bad_format", v_date(" 2024-02-29", &reason));
	REFUSED("bad_format", v_date("2024-02-29 ", &reason));
	REFUSED("bad_format", v_date("2024-02-2a", &reason));
	REFUSED("bad_format", v_date("+024-02-29", &reason));
	REFUSED("bad_format", v_date("29-02-2024", &reason));
	REFUSED("bad_format", v_date("12024-02-29", &reason));
	assert_int_equal(v_date("2023-02-29", NULL), -1);
}

static void
test_time_valid(void **state)
{
	static const char *const ok[] = {
		"2026-11-23T10:00:00Z",
		"2026-11-23t10:00:00z",
		"2026-11-23T10:00:00.1Z",
		"2026-11-23T10:00:00.123456Z",
		"2026-11-23T10:00:00+00:00",
		"2026-11-23T10:00:00-00:00",
		"2026-11-23T10:00:00.5+00:00",
		"2024-02-29T00:00:00Z",
		"2016-12-31T23:59:60Z",		/* leap second */
		"2026-11-23T12:30:60Z",		/* 60 is in range anywhere */
		"1900-01-01T00:00:00Z",
		"2999-12-31T23:59:59.999999Z",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < NITEMS(ok); i++)
		ACCEPTED(v_time(ok[i], &reason));
	assert_int_equal(v_time("2026-11-23T10:00:00Z", NULL), 0);
}

static void
test_time_refused(void **state)
{
	static const char *const bad_format[] = {
		"",
		"2026-11-23",
		"2026-11-23T",
		"2026-11-23T10:00Z",
		"2026-11-23T10:00:00",
		"2026-11-23 10:00:00Z",
		"2026-11-23X10:00:00Z",
		"2026-11-23T10:00:00.Z",
		"2026-11-23T10:00:00.1234567Z",
		"2026-11-23T10:00:00ZZ",
		"2026-11-23T10:00:00Z ",
		"2026-11-23T10:00:00+0000",
		"2026-11-23T10:00:00+00",
		"2026-11-23T10:00:00+00:00Z",
		"2026-11-23T10:00:00+00:000",
		"2026-11-23T10:00:00+24:00",
		"2026-11-23T10:00:00+05:60",
		"2026-11-23T1:00:00Z",
		"2026-11-23T10:0:00Z",
		"2026-11-23T10:00:0Z",
		"2026-11-23T10-00-00Z",
		"2026-11-23T10:00:00UTC",
		"2026-11-23T10:00:00GMT",
		"2026-11-2310:00:00Z",
		"26-11-23T10:00:00Z",
		"2023-02-29T10:00Z",	/* shape outranks the bad day */
		"2026-11-23T10:00:00,5Z",
	};
	size_t	i;

	(void)state;
	REFUSED("bad_format", v_time(NULL, &reason));
	for (i = 0; i < NITEMS(bad_format); i++) {
		const char	*reason = NULL;

		if (v_time(bad_format[i], &reason) != -1 || reason == NULL ||
		    strcmp(reason, "bad_format") != 0)
			fail_msg("\"%s\": got %s", bad_format[i],
			    reason != NULL ? reason : "(accepted)");
	}
	REFUSED("bad_date", v_time("2023-02-29T10:00:00Z", &reason));
	REFUSED("bad_date", v_time("2024-13-01T10:00:00Z", &reason));
	REFUSED("bad_date", v_time("1899-12-31T23:59:59Z", &reason));
	REFUSED("bad_date", v_time("2023-02-29T10:00:00+04:00", &reason));
	REFUSED("bad_date", v_time("2023-02-29T25:00:00Z", &reason));
	REFUSED("bad_time", v_time("2026-11-23T24:00:00Z", &reason));
	REFUSED("bad_time", v_time("2026-11-23T23:60:00Z", &reason));
	REFUSED("bad_time", v_time("2026-11-23T23:59:61Z", &reason));
	REFUSED("bad_time", v_time("2026-11-23T99:99:99Z", &reason));
	REFUSED("bad_time", v_time("2026-11-23T24:00:00+04:00", &reason));
	REFUSED("not_utc", v_time("2026-11-23T10:00:00+04:00", &reason));
	REFUSED("not_utc", v_time("2026-11-23T10:00:00-05:30", &reason));
	REFUSED("not_utc", v_time("2026-11-23T10:00:00+00:01", &reason));
	REFUSED("not_utc", v_time("2026-11-23T10:00:00-23:59", &reason));
	REFUSED("not_utc", v_time("2026-11-23T10:00:00.123+01:00", &reason));
	assert_int_equal(v_time("2026-11-23T10:00:00+04:00", NULL), -1);
}

/* ------------------------------------------------------------------ */
/* Ids, idempotency keys, cursors */

static void
test_id(void **state)
{
	char	buf[V_ID_MAX + 2];

	(void)state;
	ACCEPTED(v_id("a", &reason));
	ACCEPTED(v_id("0", &reason));
	ACCEPTED(v_id("abc_DEF-123", &reason));
	ACCEPTED(v_id("-_-", &reason));
	ACCEPTED(v_id(repeat(buf, 'z', V_ID_MAX), &reason));
	REFUSED("too_long", v_id(repeat(buf, 'z', V_ID_MAX + 1), &reason));
	REFUSED("empty", v_id("", &reason));
	REFUSED("empty", v_id(NULL, &reason));
	REFUSED("bad_format", v_id("a b", &reason));
	REFUSED("bad_format", v_id("a.b", &reason));
	REFUSED("bad_format", v_id("a/b", &reason));
	REFUSED("bad_format", v_id("a=b", &reason));
	REFUSED("bad_format", v_id("a\nb", &reason));
	REFUSED("bad_format", v_id("\xc3\xa9", &reason));
	REFUSED("bad_format", v_id("ab ", &reason));
	buf[V_ID_MAX - 1] = '!';
	buf[V_ID_MAX] = '\0';
	REFUSED("bad_format", v_id(buf, &reason));	/* last byte counts */
	assert_int_equal(v_id("a", NULL), 0);
	assert_int_equal(v_id("", NULL), -1);
}

static void
test_idempotency_key(void **state)
{
	char	buf[V_IDEMPOTENCY_MAX + 2];
	char	all[0x7f - 0x21 + 1];
	int	c;

	(void)state;
	ACCEPTED(v_idempotency_key("k", &reason));
	ACCEPTED(v_idempotency_key("550e8400-e29b-41d4-a716-446655440000",
	    &reason));
	for (c = 0x21; c <= 0x7e; c++)
		all[c - 0x21] = (char)c;
	all[sizeof(all) - 1] = '\0';
	assert_int_equal(strlen(all), 94);
	ACCEPTED(v_idempotency_key(all, &reason));
	ACCEPTED(v_idempotency_key(repeat(buf, '~', V_IDEMPOTENCY_MAX),
	    &reason));
	REFUSED("too_long", v_idempotency_key(repeat(buf, '~',
	    V_IDEMPOTENCY_MAX + 1), &reason));
	REFUSED("empty", v_idempotency_key("", &reason));
	REFUSED("empty", v_idempotency_key(NULL, &reason));
	REFUSED("bad_format", v_idempotency_key("a b", &reason));
	REFUSED("bad_format", v_idempotency_key(" ", &reason));
	REFUSED("bad_format", v_idempotency_key("a\tb", &reason));
	REFUSED("bad_format", v_idempotency_key("a\x7f", &reason));
	REFUSED("bad_format", v_idempotency_key("a\x01", &reason));
	REFUSED("bad_format", v_idempotency_key("\xc3\xa9", &reason));
	REFUSED("bad_format", v_idempotency_key("\x80", &reason));
	assert_int_equal(v_idempotency_key("k", NULL), 0);
}

static void
test_cursor(void **state)
{
	char	buf[V_CURSOR_MAX + 2];

	(void)state;
	ACCEPTED(v_cursor("a", &reason));
	ACCEPTED(v_cursor("eyJpZCI6MTJ9", &reason));
	ACCEPTED(v_cursor("abc==", &reason));
	ACCEPTED(v_cursor("a-b_c=", &reason));
	ACCEPTED(v_cursor(repeat(buf, '=', V_CURSOR_MAX), &reason));
	REFUSED("too_long", v_cursor(repeat(buf, 'A', V_CURSOR_MAX + 1),
	    &reason));
	REFUSED("empty", v_cursor("", &reason));
	REFUSED("empty", v_cursor(NULL, &reason));
	REFUSED("bad_format", v_cursor("a+b", &reason));
	REFUSED("bad_format", v_cursor("a/b", &reason));
	REFUSED("bad_format", v_cursor("a b", &reason));
	REFUSED("bad_format", v_cursor("a.b", &reason));
	REFUSED("bad_format", v_cursor("%3D", &reason));
	assert_int_equal(v_cursor("a", NULL), 0);
}

/* ------------------------------------------------------------------ */
/* Free text */

static void
test_text_valid(void **state)
{
	static const char *const ok[] = {
		"a",
		"Hello, world!",
		" leading and trailing ",		/* we do not trim */
		"\xd5\x80\xd5\xa1\xd5\xb5\xd5\xa1\xd5\xbd\xd5\xbf\xd5\xa1\xd5\xb6",
		"Gr\xc3\xbc\xc3\x9f\x65",
		"\xf0\x9f\x98\x80",			/* U+1F600 */
		"\xc2\xa0",				/* U+00A0, first after C1 */
		"\xdf\xbf",				/* U+07FF */
		"\xe0\xa0\x80",				/* U+0800 */
		"\xed\x9f\xbf",				/* U+D7FF */
		"\xee\x80\x80",				/* U+E000 */
		"\xef\xbf\xbd",				/* U+FFFD */
		"\xef\xbf\xbf",				/* U+FFFF */
		"\xf0\x90\x80\x80",			/* U+10000 */
		"\xf4\x8f\xbf\xbf",			/* U+10FFFF */
		"\x7e",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < NITEMS(ok); i++)
		ACCEPTED(v_text(ok[i], 200, &reason));
	assert_int_equal(v_text("a", 1, NULL), 0);
}

static void
test_name(void **state)
{
	static const char *const blank[] = {
		" ", "   ", "\xc2\xa0", "\xe2\x80\x8b", " \xe2\x80\x83\xef\xbb\xbf ",
		"\xc2\xad", "\xe3\x80\x80",
	};
	static const char *const bidi[] = {
		"Alice\xe2\x80\xae" "ecilA", "\xe2\x80\xaa" "A", "A\xe2\x80\xac" "B", "\xe2\x81\xa6" "A",
		"A\xe2\x81\xa9",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < NITEMS(blank); i++)
		REFUSED("blank", v_name(blank[i], 200, &reason));
	for (i = 0; i < NITEMS(bidi); i++)
		REFUSED("bidi_control", v_name(bidi[i], 200, &reason));
	REFUSED("empty", v_name("", 200, &reason));
	REFUSED("too_long", v_name("abc", 2, &reason));
	REFUSED("control_character", v_name("a\tb", 20, &reason));
	ACCEPTED(v_name("\xd4\xb1\xd5\xac\xd5\xab\xd5\xbd", 4, &reason));	/* Armenian */
	ACCEPTED(v_name(" x ", 200, &reason));
	/* a right-to-left mark is not an override: Arabic and Hebrew names carry it */
	ACCEPTED(v_name("\xd7\x90\xe2\x80\x8f", 200, &reason));
	assert_int_equal(v_uspace("a\xe2\x80\x83" "b"), 1);
	assert_int_equal(v_uspace("a\xc2\xa0"), 1);
	assert_int_equal(v_uspace("a.b@c"), 0);
}

static void
test_text_length(void **state)
{
	char	buf[300];

	(void)state;
	REFUSED("empty", v_text("", 10, &reason));
	REFUSED("empty", v_text(NULL, 10, &reason));
	ACCEPTED(v_text(repeat(buf, 'x', 200), 200, &reason));
	REFUSED("too_long", v_text(repeat(buf, 'x', 201), 200, &reason));
	REFUSED("too_long", v_text("a", 0, &reason));
	REFUSED("empty", v_text("", 0, &reason));
	/* Characters (code points), not bytes, as PostgreSQL's length(): "é" is one. */
	ACCEPTED(v_text("\xc3\xa9", 1, &reason));
	REFUSED("too_long", v_text("\xc3\xa9\xc3\xa9", 1, &reason));
	ACCEPTED(v_text("ab\xc3\xa9", 3, &reason));
	REFUSED("too_long", v_text("ab\xc3\xa9", 2, &reason));
	ACCEPTED(v_text("\xf0\x90\x80\x80\xd4\xb1", 2, &reason));	/* U+10000 U+0531 */
	/* An over-long string is too long before anything past the limit is
	 * looked at. */
	REFUSED("too_long", v_text("abc\xff", 3, &reason));
	REFUSED("bad_utf8", v_text("abc\xff", 4, &reason));
	/* A huge limit is fine. */
	ACCEPTED(v_text("abc", SIZE_MAX, &reason));
}

static void
test_text_control(void **state)
{
	static const char *const bad[] = {
		"\n", "a\nb", "a\tb", "a\rb", "\x01", "a\x1f", "\x1b[31m",
		"a\x7f", "\xc2\x80", "\xc2\x85", "\xc2\x9f", "ok\x0b",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < NITEMS(bad); i++) {
		const char	*reason = NULL;

		if (v_text(bad[i], 100, &reason) != -1 || reason == NULL ||
		    strcmp(reason, "control_character") != 0)
			fail_msg("case %zu: got %s", i,
			    reason != NULL ? reason : "(accepted)");
	}
	ACCEPTED(v_text(" ~", 100, &reason));	/* 0x20 and 0x7e are fine */
}

static void
test_text_bad_utf8(void **state)
{
	static const char *const bad[] = {
		"\x80",				/* lone continuation */
		"a\xbf",
		"\xc0\xaf",			/* overlong '/' */
		"\xc1\xbf",			/* overlong U+007F */
		"\xc0\x80",			/* overlong NUL */
		"\xe0\x80\xaf",			/* overlong '/' */
		"\xe0\x9f\xbf",			/* overlong U+07FF */
		"\xf0\x80\x80\xaf",		/* overlong '/' */
		"\xf0\x8f\xbf\xbf",		/* overlong U+FFFF */
		"\xed\xa0\x80",			/* U+D800 */
		"\xed\xaf\xbf",			/* U+DBFF */
		"\xed\xb0\x80",			/* U+DC00 */
		"\xed\xbf\xbf",			/* U+DFFF */
		"\xed\xa0\xbd\xed\xb8\x80",	/* CESU-8 pair */
		"\xf4\x90\x80\x80",		/* U+110000 */
		"\xf5\x80\x80\x80",
		"\xf8\x88\x80\x80\x80",
		"\xfc\x84\x80\x80\x80\x80",
		"\xfe", "\xff",
		"\xc3",				/* truncated at the end */
		"ab\xe2\x82",
		"\xf0\x9f\x98",
		"\xe2\x82\x41",			/* truncated mid-string */
		"\xc3\x41",
		"\xf0\x9f\x98\x41",
		"\xc3\xa9\xa9",			/* one continuation too many */
	};
	size_t	i;

	(void)state;
	for (i = 0; i < NITEMS(bad); i++) {
		const char	*reason = NULL;

		if (v_text(bad[i], 100, &reason) != -1 || reason == NULL ||
		    strcmp(reason, "bad_utf8") != 0)
			fail_msg("case %zu: got %s", i,
			    reason != NULL ? reason : "(accepted)");
	}
	assert_int_equal(v_text("\xff", 100, NULL), -1);
}

/* ------------------------------------------------------------------ */
/* limit */

static void
test_limit_valid(void **state)
{
	int	out;

	(void)state;
	out = -1;
	ACCEPTED(v_limit(1, &out, &reason));
	assert_int_equal(out, 1);
	ACCEPTED(v_limit(V_LIMIT_DEFAULT, &out, &reason));
	assert_int_equal(out, 100);
	ACCEPTED(v_limit(999, &out, &reason));
	assert_int_equal(out, 999);
	ACCEPTED(v_limit(V_LIMIT_MAX, &out, &reason));
	assert_int_equal(out, 1000);
	ACCEPTED(v_limit(1e3, &out, &reason));
	assert_int_equal(out, 1000);
	assert_int_equal(v_limit(5, NULL, NULL), 0);
}

static void
test_limit_refused(void **state)
{
	int	out = 77;

	(void)state;
	REFUSED("out_of_range", v_limit(0, &out, &reason));
	REFUSED("out_of_range", v_limit(-0.0, &out, &reason));
	REFUSED("out_of_range", v_limit(-1, &out, &reason));
	REFUSED("out_of_range", v_limit(1001, &out, &reason));
	REFUSED("out_of_range", v_limit(1e9, &out, &reason));
	REFUSED("out_of_range", v_limit(1e300, &out, &reason));
	REFUSED("out_of_range", v_limit(-1e300, &out, &reason));
	REFUSED("out_of_range", v_limit(9007199254740993.0, &out, &reason));
	REFUSED("out_of_range", v_limit((double)INT64_MAX, &out, &reason));
	REFUSED("out_of_range", v_limit(INFINITY, &out, &reason));
	REFUSED("out_of_range", v_limit(-INFINITY, &out, &reason));
	REFUSED("not_an_integer", v_limit(1.5, &out, &reason));
	REFUSED("not_an_integer", v_limit(0.5, &out, &reason));
	REFUSED("not_an_integer", v_limit(-1.5, &out, &reason));
	REFUSED("not_an_integer", v_limit(999.999, &out, &reason));
	REFUSED("not_an_integer", v_limit(1000.5, &out, &reason));
	REFUSED("not_an_integer", v_limit(1e-300, &out, &reason));
	REFUSED("not_an_integer", v_limit(NAN, &out, &reason));
	assert_int_equal(out, 77);	/* never written on failure */
	assert_int_equal(v_limit(0, NULL, NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_currency_known),
		cmocka_unit_test(test_currency_refused),
		cmocka_unit_test(test_currency_table_exact),
		cmocka_unit_test(test_country_valid),
		cmocka_unit_test(test_country_refused),
		cmocka_unit_test(test_country_table_exact),
		cmocka_unit_test(test_money_parse_valid),
		cmocka_unit_test(test_money_parse_bad_format),
		cmocka_unit_test(test_money_parse_decimals),
		cmocka_unit_test(test_money_parse_not_positive),
		cmocka_unit_test(test_money_parse_too_large),
		cmocka_unit_test(test_money_parse_precedence),
		cmocka_unit_test(test_money_parse_bad_scale),
		cmocka_unit_test(test_money_format),
		cmocka_unit_test(test_money_format_buffer),
		cmocka_unit_test(test_money_round_trip),
		cmocka_unit_test(test_rate_valid),
		cmocka_unit_test(test_rate_refused),
		cmocka_unit_test(test_date_valid),
		cmocka_unit_test(test_date_refused),
		cmocka_unit_test(test_time_valid),
		cmocka_unit_test(test_time_refused),
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_idempotency_key),
		cmocka_unit_test(test_cursor),
		cmocka_unit_test(test_text_valid),
		cmocka_unit_test(test_text_length),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_text_control),
		cmocka_unit_test(test_text_bad_utf8),
		cmocka_unit_test(test_limit_valid),
		cmocka_unit_test(test_limit_refused),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
