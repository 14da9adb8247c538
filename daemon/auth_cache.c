/* auth_cache.c: the credentials cache for system.whoami, and the listener that flushes it
 * (auth_cache.h, docs/auth-cache.md). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "auth_cache.h"
#include "log.h"
#include "pq_connect.h"
#include "util.h"

#define AL_BACKOFF_MIN_MS	100
#define AL_BACKOFF_MAX_MS	5000
#define AL_CHANNEL		"fl_principal"

struct slot {
	char		 key[AUTH_CACHE_KEY];	/* "" when empty */
	unsigned long	 gen;
	long long	 expires;		/* now_usec() */
	char		*json;
};

static pthread_mutex_t	 mtx = PTHREAD_MUTEX_INITIALIZER;
static struct slot	*slots;			/* AUTH_CACHE_SLOTS, under mtx */
static unsigned long	 cur_gen = 1;		/* under mtx */
static int		 live;			/* under mtx: the listener is listening */
static long long	 ttl_usec;		/* 0: off; set once before the workers */
static atomic_ulong	 n_hits, n_misses, n_flushes;
static atomic_llong	 changed_us;		/* auth_principals_changed() */
static atomic_int	 listening;		/* = live, read without the mutex */

void
auth_cache_init(long ttl_ms)
{
	ttl_usec = (long long)ttl_ms * 1000;
	if (ttl_usec > 0 && slots == NULL)
		slots = xcalloc(AUTH_CACHE_SLOTS, sizeof(*slots));
}

int
auth_cache_enabled(void)
{
	return ttl_usec > 0;
}

void
auth_cache_free(void)
{
	size_t	i;

	pthread_mutex_lock(&mtx);
	for (i = 0; slots != NULL && i < AUTH_CACHE_SLOTS; i++)
		free(slots[i].json);
	free(slots);
	slots = NULL;
	live = 0;
	atomic_store(&listening, 0);
	pthread_mutex_unlock(&mtx);
}

int
auth_cache_key(const char *token_sha256, const char *cert_sha256, char key[AUTH_CACHE_KEY])
{
	const char	*h;
	char		 kind;

	if (token_sha256 != NULL && token_sha256[0] != '\0')
		h = token_sha256, kind = 't';
	else if (cert_sha256 != NULL && cert_sha256[0] != '\0')
		h = cert_sha256, kind = 'c';
	else
		return 0;
	if (strlen(h) != AUTH_CACHE_KEY - 2)
		return 0;
	key[0] = kind;
	memcpy(key + 1, h, AUTH_CACHE_KEY - 1);
	return 1;
}

/* The slot of a key: its hash's first hex digits, which are uniformly spread. */
static struct slot *
slot_of(const char *key)
{
	unsigned	v = 0;
	int		i;

	for (i = 3; i < 3 + 4; i++) {
		char	ch = key[i];

		v = v << 4 | (unsigned)(ch >= 'a' ? ch - 'a' + 10 : ch >= 'A' ? ch - 'A' + 10 :
		    ch - '0');
	}
	return &slots[v % AUTH_CACHE_SLOTS];
}

unsigned long
auth_cache_gen(void)
{
	unsigned long	g;

	pthread_mutex_lock(&mtx);
	g = cur_gen;
	pthread_mutex_unlock(&mtx);
	return g;
}

char *
auth_cache_get(const char *key)
{
	struct slot	*s;
	char		*json = NULL;

	if (ttl_usec == 0)
		return NULL;
	pthread_mutex_lock(&mtx);
	if (live && slots != NULL) {
		s = slot_of(key);
		if (s->json != NULL && s->gen == cur_gen && s->expires > now_usec() &&
		    strcmp(s->key, key) == 0)
			json = xstrdup(s->json);
	}
	pthread_mutex_unlock(&mtx);
	atomic_fetch_add(json != NULL ? &n_hits : &n_misses, 1);
	return json;
}

void
auth_cache_put(const char *key, unsigned long gen, const char *json)
{
	struct slot	*s;

	if (ttl_usec == 0)
		return;
	pthread_mutex_lock(&mtx);
	if (live && slots != NULL && gen == cur_gen) {
		s = slot_of(key);
		free(s->json);
		memcpy(s->key, key, AUTH_CACHE_KEY);
		s->gen = gen;
		s->expires = now_usec() + ttl_usec;
		s->json = xstrdup(json);
	}
	pthread_mutex_unlock(&mtx);
}

/* Entries are not freed here: a stale generation is a miss, and the next put of the slot
 * frees what it replaces. */
static void
flush_locked(void)
{
	cur_gen++;
	atomic_fetch_add(&n_flushes, 1);
}

void
auth_cache_flush(const char *reason)
{
	atomic_store(&changed_us, now_usec());
	if (ttl_usec == 0)
		return;
	pthread_mutex_lock(&mtx);
	flush_locked();
	pthread_mutex_unlock(&mtx);
	log_debug("auth cache flushed: %s", reason);
}

/* Off while already off changes nothing (nothing is kept then), so a listener retrying
 * its connection does not count a flush per attempt. */
void
auth_cache_live(int on, const char *reason)
{
	pthread_mutex_lock(&mtx);
	if (!on && !live) {
		pthread_mutex_unlock(&mtx);
		return;
	}
	flush_locked();
	live = on;
	atomic_store(&changed_us, now_usec());	/* changes unseen while it was off */
	atomic_store(&listening, on);
	pthread_mutex_unlock(&mtx);
	log_debug("auth cache %s: %s", on ? "on" : "off", reason);
}

long long
auth_principals_changed(void)
{
	return atomic_load(&listening) ? atomic_load(&changed_us) : now_usec();
}

void
auth_cache_stats(unsigned long *hits, unsigned long *misses, unsigned long *flushes,
    int *on)
{
	*hits = atomic_load(&n_hits);
	*misses = atomic_load(&n_misses);
	*flushes = atomic_load(&n_flushes);
	pthread_mutex_lock(&mtx);
	*on = live;
	pthread_mutex_unlock(&mtx);
}

/* The listener ------------------------------------------------------------------------- */

enum al_state {
	AL_DOWN,		/* waiting for the reconnect timer */
	AL_CONNECTING,
	AL_LISTENING,		/* LISTEN sent, its result not in yet */
	AL_LIVE,		/* listening: the cache is on */
};

struct auth_listener {
	struct event_base	*base;
	char			*dsn;
	enum al_state		 state;
	PGconn			*pg;
	struct pq_connect	*connecting;	/* AL_CONNECTING */
	struct event		*ev;		/* the socket */
	struct event		*timer;		/* reconnect backoff */
	int			 backoff_ms;
	int			 ok;		/* LISTENING: the LISTEN succeeded */
	int			 was_live;	/* log the loss once, not every retry */
	const char		*meaning;	/* what waits for it, for the log */
	char			 why[160];	/* the failure last logged since it was live */
};

static void	al_connect(struct auth_listener *);
static void	al_event(evutil_socket_t, short, void *);

/* Every failure of the listener comes here: the cache goes off at once, and the
 * connection is retried after the backoff. */
static void
al_broken(struct auth_listener *l, const char *why)
{
	struct timeval	tv;

	auth_cache_live(0, why);
	/* said once per cause, not at every retry: a read-only server, say, refuses it
	 * (target_session_attrs=read-write; LISTEN is refused on a standby) */
	if (l->was_live)
		log_warnx("auth cache: listener lost (%s); %s until it is back", why,
		    l->meaning);
	else if (strcmp(l->why, why) != 0)
		log_warnx("auth cache: listener cannot start (%s); %s until it can", why,
		    l->meaning);
	snprintf(l->why, sizeof(l->why), "%s", why);
	l->was_live = 0;
	pq_connect_cancel(l->connecting);
	l->connecting = NULL;
	if (l->ev != NULL) {
		event_free(l->ev);
		l->ev = NULL;
	}
	if (l->pg != NULL) {
		PQfinish(l->pg);
		l->pg = NULL;
	}
	l->state = AL_DOWN;
	tv.tv_sec = l->backoff_ms / 1000;
	tv.tv_usec = (l->backoff_ms % 1000) * 1000;
	l->backoff_ms *= 2;
	if (l->backoff_ms > AL_BACKOFF_MAX_MS)
		l->backoff_ms = AL_BACKOFF_MAX_MS;
	evtimer_add(l->timer, &tv);
}

static void
al_broken_pq(struct auth_listener *l, const char *what)
{
	char	*msg = xasprintf("%s: %s", what, PQerrorMessage(l->pg));

	msg[strcspn(msg, "\n")] = '\0';
	al_broken(l, msg);
	free(msg);
}

/* (Re-)arm the socket's event for what. */
static void
al_arm(struct auth_listener *l, short what)
{
	if (l->ev != NULL)
		event_free(l->ev);
	l->ev = event_new(l->base, PQsocket(l->pg), what, al_event, l);
	event_add(l->ev, NULL);
}

static void
al_notice(void *arg, const char *msg)
{
	char	*m = xstrdup(msg);

	(void)arg;
	m[strcspn(m, "\n")] = '\0';
	log_info("auth cache listener: server says: %s", m);
	free(m);
}

static void
al_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	al_connect(arg);
}

static void
al_connected(void *arg, PGconn *pg, const char *cause)
{
	struct auth_listener	*l = arg;
	char			*msg;

	l->connecting = NULL;
	if (pg == NULL) {
		msg = xasprintf("connect: %s", cause);
		al_broken(l, msg);
		free(msg);
		return;
	}
	l->pg = pg;
	if (!PQsendQuery(l->pg, "LISTEN " AL_CHANNEL)) {
		al_broken_pq(l, "LISTEN");
		return;
	}
	l->state = AL_LISTENING;
	l->ok = 0;
	/* a dozen bytes: they leave with the first flush, or with one after a write event */
	if (PQflush(l->pg) == 1)
		al_arm(l, EV_READ | EV_WRITE | EV_PERSIST);
	else
		al_arm(l, EV_READ | EV_PERSIST);
}

static void
al_connect(struct auth_listener *l)
{
	char	*cause = NULL;

	l->connecting = pq_connect_start(l->base, l->dsn, "fundd-listen", "read-write",
	    al_notice, l, al_connected, l, &cause);
	if (l->connecting == NULL) {
		al_connected(l, NULL, cause);
		free(cause);
		return;
	}
	l->state = AL_CONNECTING;
}

/* Input on a connected listener: the LISTEN's result, notifications, or the end. */
static void
al_input(struct auth_listener *l, short what)
{
	PGnotify	*n;
	PGresult	*r;
	int		 f;

	if (what & EV_WRITE) {
		if ((f = PQflush(l->pg)) < 0) {
			al_broken_pq(l, "flush");
			return;
		}
		if (f == 0)
			al_arm(l, EV_READ | EV_PERSIST);
	}
	if (!(what & EV_READ))
		return;
	if (!PQconsumeInput(l->pg) || PQstatus(l->pg) == CONNECTION_BAD) {
		al_broken_pq(l, "read");
		return;
	}
	while (l->state == AL_LISTENING && !PQisBusy(l->pg)) {
		if ((r = PQgetResult(l->pg)) != NULL) {
			if (PQresultStatus(r) == PGRES_COMMAND_OK)
				l->ok = 1;
			PQclear(r);
			continue;
		}
		if (!l->ok) {
			al_broken_pq(l, "LISTEN");
			return;
		}
		l->state = AL_LIVE;
		l->backoff_ms = AL_BACKOFF_MIN_MS;
		if (!l->was_live)
			log_info("auth cache: listening for principal changes");
		l->was_live = 1;
		l->why[0] = '\0';
		auth_cache_live(1, "listening");
	}
	/* every notification, whatever it says, drops the whole table */
	while ((n = PQnotifies(l->pg)) != NULL) {
		PQfreemem(n);
		auth_cache_flush("principals changed");
	}
}

static void
al_event(evutil_socket_t fd, short what, void *arg)
{
	struct auth_listener	*l = arg;

	(void)fd;
	switch (l->state) {
	case AL_CONNECTING:	/* pq_connect's events until connected */
		return;
	case AL_LISTENING:
	case AL_LIVE:
		al_input(l, what);
		return;
	case AL_DOWN:
		return;
	}
}

struct auth_listener *
auth_listener_start(struct event_base *base, const char *dsn, int for_replica)
{
	struct auth_listener	*l;

	if (ttl_usec == 0 && !for_replica)
		return NULL;
	l = xcalloc(1, sizeof(*l));
	l->meaning = ttl_usec == 0 ? "reads go to the primary, not the replica," :
	    for_replica ? "whoami goes to the database, and reads to the primary," :
	    "whoami goes to the database";
	l->base = base;
	l->dsn = xstrdup(dsn);
	l->backoff_ms = AL_BACKOFF_MIN_MS;
	l->timer = evtimer_new(base, al_timer, l);
	al_connect(l);
	return l;
}

void
auth_listener_free(struct auth_listener *l)
{
	if (l == NULL)
		return;
	auth_cache_live(0, "stopping");
	pq_connect_cancel(l->connecting);
	if (l->ev != NULL)
		event_free(l->ev);
	event_free(l->timer);
	if (l->pg != NULL)
		PQfinish(l->pg);
	free(l->dsn);
	free(l);
}
