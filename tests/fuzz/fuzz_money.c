/*
 * fuzz_money.c: libFuzzer target for the value checks of daemon/validate.c: money, rates,
 * dates, times, ids, keys, cursors, currency and country codes. Besides "no crash, no
 * undefined behaviour", it checks properties: an accepted amount formats back to a string
 * that parses to the same minor units, at every scale, and is never above the maximum; a
 * positive amount is refused when zero is not allowed only as "not_positive".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 s[256], out[32];
	const char	*reason;
	int64_t		 minor, again;
	int		 scale, n;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	for (scale = 0; scale <= 4; scale++) {
		if (v_money_parse(s, scale, 1, &minor, &reason) == 0) {
			if (minor < 0 || minor > V_MONEY_MAX_MINOR)
				abort();
			n = v_money_format(minor, scale, out, sizeof(out));
			if (n < 0 || (size_t)n != strlen(out))
				abort();
			if (v_money_parse(out, scale, 1, &again, &reason) != 0 || again != minor)
				abort();
			/* without zero allowed: the same answer, or not_positive for zero */
			if (v_money_parse(s, scale, 0, &again, &reason) == 0) {
				if (minor == 0 || again != minor)
					abort();
			} else if (minor != 0 || strcmp(reason, "not_positive") != 0)
				abort();
		} else if (reason == NULL)
			abort();
	}
	(void)v_rate(s, &reason);
	(void)v_date(s, &reason);
	(void)v_time(s, &reason);
	(void)v_id(s, &reason);
	(void)v_idempotency_key(s, &reason);
	(void)v_cursor(s, &reason);
	(void)v_currency_minor(s, &reason);
	(void)v_country(s, &reason);
	(void)v_text(s, 64, &reason);
	(void)v_name(s, 64, &reason);
	(void)v_uspace(s);
	return 0;
}
