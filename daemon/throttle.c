/* throttle.c: slowing down repeated failed authentication, per client address. */
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>

#include "log.h"
#include "throttle.h"
#include "util.h"

struct slot {
	char		 addr[48];
	int		 failures;
	long long	 last_fail_us;
	long long	 until_us;	/* requests wait until then */
};

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot	 slots[THROTTLE_SLOTS];
static int		 limit;
static _Atomic long long slowed_until;	/* no request waits past this: nothing to look up */

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

/* The slot of addr, or with create the slot to reuse for it (empty, forgotten or the
 * oldest of a short probe). Called with the lock held. */
static struct slot *
find(const char *addr, int create, long long now)
{
	unsigned	 h = hash(addr), i;
	struct slot	*s, *victim = NULL;

	for (i = 0; i < 8; i++) {
		s = &slots[(h + i) % THROTTLE_SLOTS];
		if (s->addr[0] != '\0' && strcmp(s->addr, addr) == 0)
			return s;
		if (!create)
			continue;
		if (s->addr[0] == '\0' ||
		    now - s->last_fail_us > (long long)THROTTLE_FORGET_S * 1000000) {
			if (victim == NULL || victim->addr[0] != '\0')
				victim = s;
		} else if (victim == NULL || (victim->addr[0] != '\0' &&
		    s->last_fail_us < victim->last_fail_us))
			victim = s;
	}
	return victim;
}

void
throttle_failed(const char *addr)
{
	struct slot	*s;
	long long	 now = now_usec(), ms;
	int		 over;

	if (limit <= 0 || addr[0] == '\0')
		return;
	pthread_mutex_lock(&lock);
	s = find(addr, 1, now);
	if (strcmp(s->addr, addr) != 0 ||
	    now - s->last_fail_us > (long long)THROTTLE_FORGET_S * 1000000) {
		snprintf(s->addr, sizeof(s->addr), "%s", addr);
		s->failures = 0;
		s->until_us = 0;
	}
	s->failures++;
	s->last_fail_us = now;
	over = s->failures - limit;
	if (over > 0) {
		ms = over > 7 ? THROTTLE_MAX_MS : (long long)THROTTLE_FIRST_MS << (over - 1);
		if (ms > THROTTLE_MAX_MS)
			ms = THROTTLE_MAX_MS;
		s->until_us = now + ms * 1000;
		if (s->until_us > atomic_load(&slowed_until))
			atomic_store(&slowed_until, s->until_us);
		if (over <= 7 || over % 100 == 0)
			log_msg(LOG_WARN, addr, NULL, "%d failed authentications in a row: "
			    "requests from this address now wait %lld ms", s->failures, ms);
	}
	pthread_mutex_unlock(&lock);
}

long
throttle_wait_ms(const char *addr)
{
	struct slot	*s;
	long long	 now;
	long		 ms = 0;

	if (limit <= 0 || (now = now_usec()) >= atomic_load(&slowed_until))
		return 0;
	pthread_mutex_lock(&lock);
	if ((s = find(addr, 0, now)) != NULL && s->until_us > now)
		ms = (long)((s->until_us - now + 999) / 1000);
	pthread_mutex_unlock(&lock);
	return ms;
}
