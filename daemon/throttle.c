/* throttle.c: slowing down repeated failed authentication, per address and credential. */
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>

#include "log.h"
#include "throttle.h"
#include "util.h"

#define KEY_CRED	24	/* characters of a credential's hash kept: enough to tell */
#define ADDR_CRED	"*"	/* the address's own slot: distinct credentials that failed */

struct slot {
	char		 key[48 + 1 + KEY_CRED + 1];	/* "addr|cred" */
	int		 failures;
	int		 good;		/* authenticated from this address since */
	long long	 last_us;	/* last failure or success */
	long long	 until_us;	/* requests wait until then */
};

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot	 slots[THROTTLE_SLOTS];
static int		 limit;
static _Atomic long long slowed_until;	/* no request waits past this: nothing to look up */
static _Atomic long long remembered_until; /* no slot is alive past this */

void
throttle_init(int l)
{
	limit = l;
}

static unsigned
hash(const char *s)
{
	unsigned	h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void
make_key(char *key, size_t len, const char *addr, const char *cred)
{
	const char	*c = cred;

	/* the hashes are "\\x" and hex: the tail tells them apart */
	if (strncmp(c, "\\x", 2) == 0)
		c += 2;
	snprintf(key, len, "%s|%.*s", addr, KEY_CRED, c[0] != '\0' ? c : "-");
}

static int
alive(const struct slot *s, long long now)
{
	return s->key[0] != '\0' && now - s->last_us <= (long long)THROTTLE_FORGET_S * 1000000;
}

/* The live slot of key, or with create the slot to reuse for it (empty, forgotten or the
 * oldest of a short probe), reset; *fresh: it was not there. Called with the lock held. */
static struct slot *
find(const char *key, int create, long long now, int *fresh)
{
	unsigned	 h = hash(key), i;
	struct slot	*s, *victim = NULL;

	for (i = 0; i < 8; i++) {
		s = &slots[(h + i) % THROTTLE_SLOTS];
		if (s->key[0] != '\0' && strcmp(s->key, key) == 0 && alive(s, now)) {
			if (fresh != NULL)
				*fresh = 0;
			return s;
		}
		if (!create)
			continue;
		if (!alive(s, now)) {
			if (victim == NULL || alive(victim, now))
				victim = s;
		} else if (victim == NULL || (alive(victim, now) &&
		    s->last_us < victim->last_us))
			victim = s;
	}
	if (victim != NULL) {
		memset(victim, 0, sizeof(*victim));
		snprintf(victim->key, sizeof(victim->key), "%s", key);
		if (fresh != NULL)
			*fresh = 1;
	}
	return victim;
}

/* One more failure on s: its wait, past the limit. Returns the wait in ms (0: none). */
static long long
count_failure(struct slot *s, long long now)
{
	long long	ms;
	int		over;

	s->failures++;
	s->last_us = now;
	if ((over = s->failures - limit) <= 0)
		return 0;
	ms = over > 7 ? THROTTLE_MAX_MS : (long long)THROTTLE_FIRST_MS << (over - 1);
	if (ms > THROTTLE_MAX_MS)
		ms = THROTTLE_MAX_MS;
	s->until_us = now + ms * 1000;
	if (s->until_us > atomic_load(&slowed_until))
		atomic_store(&slowed_until, s->until_us);
	return ms;
}

void
throttle_failed(const char *addr, const char *cred)
{
	struct slot	*cs, *as;
	char		 key[sizeof(cs->key)];
	long long	 now = now_usec(), ms, ams = 0;
	int		 fresh = 0;

	if (limit <= 0 || addr[0] == '\0')
		return;
	pthread_mutex_lock(&lock);
	atomic_store(&remembered_until, now + (long long)THROTTLE_FORGET_S * 1000000);
	make_key(key, sizeof(key), addr, cred);
	cs = find(key, 1, now, &fresh);
	cs->good = 0;
	ms = count_failure(cs, now);
	if (fresh) {
		/* a credential that had not failed here: one more guess from this address */
		make_key(key, sizeof(key), addr, ADDR_CRED);
		as = find(key, 1, now, NULL);
		ams = count_failure(as, now);
		if (ams > 0 && (as->failures - limit <= 7 || as->failures % 100 == 0))
			log_msg(LOG_WARN, addr, NULL, "%d different credentials failed to "
			    "authenticate: requests from this address with others now wait "
			    "%lld ms", as->failures, ams);
	}
	if (ms > 0 && (cs->failures - limit <= 7 || cs->failures % 100 == 0))
		log_msg(LOG_WARN, addr, NULL, "%d failed authentications in a row with one "
		    "credential: its requests from this address now wait %lld ms",
		    cs->failures, ms);
	pthread_mutex_unlock(&lock);
}

void
throttle_ok(const char *addr, const char *cred)
{
	struct slot	*cs;
	char		 key[sizeof(cs->key)], akey[sizeof(cs->key)];
	long long	 now = now_usec();

	if (limit <= 0 || addr[0] == '\0' || now >= atomic_load(&remembered_until))
		return;
	pthread_mutex_lock(&lock);
	make_key(key, sizeof(key), addr, cred);
	make_key(akey, sizeof(akey), addr, ADDR_CRED);
	/* a credential that failed here, or any while the address has failures counted */
	if ((cs = find(key, 0, now, NULL)) == NULL && find(akey, 0, now, NULL) != NULL)
		cs = find(key, 1, now, NULL);
	if (cs != NULL) {
		cs->failures = 0;
		cs->until_us = 0;
		cs->good = 1;
		cs->last_us = now;
	}
	pthread_mutex_unlock(&lock);
}

long
throttle_wait_ms(const char *addr, const char *cred)
{
	struct slot	*cs, *as;
	char		 key[sizeof(cs->key)];
	long long	 now, until = 0;

	if (limit <= 0 || (now = now_usec()) >= atomic_load(&slowed_until))
		return 0;
	pthread_mutex_lock(&lock);
	make_key(key, sizeof(key), addr, cred);
	if ((cs = find(key, 0, now, NULL)) != NULL)
		until = cs->until_us;
	if (cs == NULL || !cs->good) {
		make_key(key, sizeof(key), addr, ADDR_CRED);
		if ((as = find(key, 0, now, NULL)) != NULL && as->until_us > until)
			until = as->until_us;
	}
	pthread_mutex_unlock(&lock);
	return until > now ? (long)((until - now + 999) / 1000) : 0;
}

int
throttle_slowed(void)
{
	long long	now = now_usec();
	int		i, n = 0;

	if (limit <= 0 || now >= atomic_load(&slowed_until))
		return 0;
	pthread_mutex_lock(&lock);
	for (i = 0; i < THROTTLE_SLOTS; i++)
		if (slots[i].key[0] != '\0' && slots[i].until_us > now)
			n++;
	pthread_mutex_unlock(&lock);
	return n;
}
