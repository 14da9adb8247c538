/*
 * test_auth_cache.c: unit tests for the credentials cache of daemon/auth_cache.c: keys,
 * the generation stamp that drops answers older than a flush, the listener's on/off, and
 * expiry. The listener itself (LISTEN, notifications) is tested through the real daemon
 * in tests/integration/test_auth_cache.py.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "auth_cache.h"

#define H1	"\\x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define H2	"\\x0011ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define H3	"\\xabcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
#define WHO	"{\"principal_id\":\"pr_1\",\"name\":\"a\",\"roles\":[\"admin\"]}"

static int
setup(void **state)
{
	(void)state;
	auth_cache_init(60000);
	auth_cache_live(1, "test");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	auth_cache_free();
	return 0;
}

static void
assert_cached(const char *key, const char *want)
{
	char	*got = auth_cache_get(key);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_key(void **state)
{
	char	k[AUTH_CACHE_KEY];

	(void)state;
	/* the token when there is one, as api.call() does */
	assert_int_equal(auth_cache_key(H1, H3, k), 1);
	assert_int_equal(k[0], 't');
	assert_string_equal(k + 1, H1);
	assert_int_equal(auth_cache_key("", H3, k), 1);
	assert_int_equal(k[0], 'c');
	assert_string_equal(k + 1, H3);
	assert_int_equal(auth_cache_key(NULL, H3, k), 1);
	assert_int_equal(k[0], 'c');
	/* no credentials, or not a SHA-256 in bytea text: no key, the database decides */
	assert_int_equal(auth_cache_key("", "", k), 0);
	assert_int_equal(auth_cache_key(NULL, NULL, k), 0);
	assert_int_equal(auth_cache_key("\\x0011", NULL, k), 0);
}

static void
test_put_get(void **state)
{
	char		 k1[AUTH_CACHE_KEY], kc[AUTH_CACHE_KEY];
	unsigned long	 g;

	(void)state;
	auth_cache_key(H1, NULL, k1);
	auth_cache_key(NULL, H1, kc);
	assert_cached(k1, NULL);
	g = auth_cache_gen();
	auth_cache_put(k1, g, WHO);
	assert_cached(k1, WHO);
	/* the same hash as a certificate is another credential */
	assert_cached(kc, NULL);
}

static void
test_flush(void **state)
{
	char		 k1[AUTH_CACHE_KEY];
	unsigned long	 g, h1, m1, f1, h2, m2, f2;
	int		 on;

	(void)state;
	auth_cache_key(H1, NULL, k1);
	auth_cache_put(k1, auth_cache_gen(), WHO);
	auth_cache_stats(&h1, &m1, &f1, &on);
	assert_int_equal(on, 1);
	assert_cached(k1, WHO);
	auth_cache_flush("test");
	assert_cached(k1, NULL);
	auth_cache_stats(&h2, &m2, &f2, &on);
	assert_int_equal(h2, h1 + 1);
	assert_int_equal(m2, m1 + 1);
	assert_int_equal(f2, f1 + 1);
	/* an answer sent before the flush and arriving after it is dropped: it may have
	 * been read before the change that caused the flush */
	g = auth_cache_gen();
	auth_cache_flush("a revocation committed meanwhile");
	auth_cache_put(k1, g, WHO);
	assert_cached(k1, NULL);
	/* one sent after it is kept */
	auth_cache_put(k1, auth_cache_gen(), WHO);
	assert_cached(k1, WHO);
}

static void
test_listener_off(void **state)
{
	char		 k1[AUTH_CACHE_KEY];
	unsigned long	 g, h, m, f, f2;
	int		 on;

	(void)state;
	auth_cache_key(H1, NULL, k1);
	auth_cache_put(k1, auth_cache_gen(), WHO);
	auth_cache_live(0, "listener lost");
	auth_cache_stats(&h, &m, &f, &on);
	assert_int_equal(on, 0);
	/* off again (a failed reconnection): no further flush */
	auth_cache_live(0, "reconnection failed");
	auth_cache_stats(&h, &m, &f2, &on);
	assert_int_equal(f2, f);
	/* off: nothing is answered, nothing is kept */
	assert_cached(k1, NULL);
	auth_cache_put(k1, auth_cache_gen(), WHO);
	assert_cached(k1, NULL);
	/* an answer taken while off and arriving once it is back is dropped too:
	 * notifications may have been missed in between */
	g = auth_cache_gen();
	auth_cache_live(1, "listening again");
	auth_cache_put(k1, g, WHO);
	assert_cached(k1, NULL);
	auth_cache_put(k1, auth_cache_gen(), WHO);
	assert_cached(k1, WHO);
}

static void
test_slot_collision(void **state)
{
	char	k1[AUTH_CACHE_KEY], k2[AUTH_CACHE_KEY];

	(void)state;
	/* H1 and H2 share their first hex digits, so their slot */
	auth_cache_key(H1, NULL, k1);
	auth_cache_key(H2, NULL, k2);
	auth_cache_put(k1, auth_cache_gen(), WHO);
	auth_cache_put(k2, auth_cache_gen(), "{\"principal_id\":\"pr_2\"}");
	assert_cached(k1, NULL);
	assert_cached(k2, "{\"principal_id\":\"pr_2\"}");
}

static void
test_expiry(void **state)
{
	char		 k1[AUTH_CACHE_KEY];
	struct timespec	 ts = { 0, 80 * 1000 * 1000 };

	(void)state;
	auth_cache_free();
	auth_cache_init(50);
	auth_cache_live(1, "test");
	auth_cache_key(H1, NULL, k1);
	auth_cache_put(k1, auth_cache_gen(), WHO);
	assert_cached(k1, WHO);
	nanosleep(&ts, NULL);
	assert_cached(k1, NULL);
}

static void
test_off(void **state)
{
	char	k1[AUTH_CACHE_KEY];

	(void)state;
	auth_cache_free();
	auth_cache_init(0);
	assert_int_equal(auth_cache_enabled(), 0);
	auth_cache_live(1, "test");
	auth_cache_key(H1, NULL, k1);
	auth_cache_put(k1, auth_cache_gen(), WHO);
	assert_cached(k1, NULL);
	assert_null(auth_listener_start(NULL, "dbname=x", 0));
}

/* When principals last changed (for the replica): a flush, also with the cache off; and
 * "now", moving, while the listener is not listening. */
static void
test_principals_changed(void **state)
{
	struct timespec	 ts = { 0, 2 * 1000 * 1000 };
	long long	 t0, t1;

	(void)state;
	auth_cache_free();
	auth_cache_init(0);
	t0 = auth_principals_changed();
	nanosleep(&ts, NULL);
	assert_true(auth_principals_changed() > t0);	/* not listening: now */
	auth_cache_live(1, "test");
	t0 = auth_principals_changed();
	nanosleep(&ts, NULL);
	assert_int_equal(auth_principals_changed(), t0);
	auth_cache_flush("principals changed");
	t1 = auth_principals_changed();
	assert_true(t1 > t0);
	nanosleep(&ts, NULL);
	assert_int_equal(auth_principals_changed(), t1);
	auth_cache_live(0, "listener lost");
	assert_true(auth_principals_changed() > t1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listener_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_collision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_principals_changed, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
