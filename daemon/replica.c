/* replica.c: reads on a streaming standby, and worker 0's measure of its lag (replica.h). */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "auth_cache.h"
#include "db_pool.h"
#include "log.h"
#include "queries.h"
#include "replica.h"
#include "util.h"

#define REPLICA_RING	64	/* primary positions kept until the standby replays them */
#define REPLICA_SETTLE_US	2000000	/* the lag is not known at first: said after this */
#define REPLICA_WRITERS	4096	/* slots of credentials' last mutation (two credentials
				 * sharing one only send each other's reads to the primary) */

/* What worker 0 last found, as the log tells it. */
enum rep_state {
	RS_START,
	RS_IN_USE,
	RS_LAGGING,		/* further behind than replica_max_lag_ms, or not known */
	RS_DOWN,		/* no connection up, or it did not answer */
	RS_NOT_STANDBY,		/* the server is not in recovery (promoted?) */
};

struct mark {
	long long	 t;	/* now_usec() before P was taken */
	uint64_t	 lsn;	/* P */
};

struct replica {
	struct db_pool		*primary;
	struct db_pool		*pool;		/* NULL: none */
	char			*dsn;
	long long		 max_lag_us;
	unsigned int		 promoted;	/* the last `promoted` this pool acted on */
	struct event		*ev_probe;	/* every REPLICA_PROBE_MS */
	int			 stopped;
	/* worker 0 */
	int			 measure;
	struct db_query		*q;		/* the round's query under way */
	long long		 t;		/* the round's time */
	struct mark		 ring[REPLICA_RING];
	int			 head, n;	/* oldest mark, marks */
	enum rep_state		 state;
	int			 primary_ok;	/* the round's primary position was taken */
	long long		 started;
};

static atomic_int		configured;
static atomic_uint		promoted;	/* times worker 0 found the server no
						 * standby: each worker's pool seeks one again */
static atomic_llong		covered;	/* the latest t the standby covers; 0: none */
static atomic_int		standby_up;	/* worker 0's pool up, on a standby */
static atomic_llong		wrote[REPLICA_WRITERS];
static atomic_ulong		n_reads, n_lag, n_down, n_consistent, n_write, n_principals;

/* "16/B374D848" */
static int
lsn_parse(const char *s, uint64_t *out)
{
	unsigned int	hi, lo;
	int		n = 0;

	if (sscanf(s, "%X/%X%n", &hi, &lo, &n) != 2 || s[n] != '\0')
		return -1;
	*out = (uint64_t)hi << 32 | lo;
	return 0;
}

/* The slot of credentials (FNV-1a of their hash's text), or -1 without any. */
static int
writer_slot(const struct auth_creds *cr)
{
	const char	*s = cr->token_sha256[0] != '\0' ? cr->token_sha256 : cr->cert_sha256;
	uint32_t	 h = 2166136261u;

	if (s[0] == '\0')
		return -1;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (int)(h % REPLICA_WRITERS);
}

/* The measure ----------------------------------------------------------------------- */

static void
set_state(struct replica *r, enum rep_state st, long long lag_us)
{
	if (st == r->state)
		return;
	switch (st) {
	case RS_IN_USE:
		log_info("replica: reads go to the standby (%lld ms behind the primary)",
		    lag_us / 1000);
		break;
	case RS_LAGGING:
		if (lag_us < 0)
			log_warnx("replica: how far the standby is behind the primary is not "
			    "known (is the primary up?): reads go to the primary");
		else
			log_warnx("replica: the standby is %lld ms behind the primary, more than "
			    "replica_max_lag_ms (%lld): reads go to the primary",
			    (lag_us + 999) / 1000, r->max_lag_us / 1000);
		break;
	case RS_DOWN:
		log_warnx("replica: the standby does not answer: reads go to the primary");
		break;
	case RS_NOT_STANDBY:
		log_warnx("replica: the server of replica_dsn is not a standby (promoted?): "
		    "reads go to the primary");
		break;
	case RS_START:
		break;
	}
	r->state = st;
}

/* The end of a round: the standby's answer, or none (res NULL). */
static void
round_end(struct replica *r, int answered, int in_recovery, const char *replay)
{
	uint64_t	 rlsn;
	long long	 best = 0, c, now = now_usec();
	int		 i, k;

	if (answered && in_recovery && replay != NULL && lsn_parse(replay, &rlsn) == 0) {
		/* the marks it has replayed: the newest is the time it covers */
		for (i = 0; i < r->n; i++) {
			k = (r->head + i) % REPLICA_RING;
			if (r->ring[k].lsn <= rlsn)
				best = r->ring[k].t;
		}
		while (r->n > 0 && r->ring[r->head].t <= best) {
			r->head = (r->head + 1) % REPLICA_RING;
			r->n--;
		}
		if (best > atomic_load(&covered))
			atomic_store(&covered, best);
	}
	atomic_store(&standby_up, answered && in_recovery && db_pool_healthy(r->pool) > 0);
	c = atomic_load(&covered);
	if (!answered || db_pool_healthy(r->pool) == 0)
		set_state(r, RS_DOWN, 0);
	else if (!in_recovery) {
		/* promoted: every worker's pool leaves it, seeking a standby (replica_pick) */
		set_state(r, RS_NOT_STANDBY, 0);
		r->promoted = atomic_fetch_add(&promoted, 1) + 1;
		db_pool_retire(r->pool);
	}
	else if (c == 0 || now - c > r->max_lag_us) {
		/* (the first rounds may not know yet: nothing to say then) */
		if (c != 0 || r->state != RS_START || now - r->started > REPLICA_SETTLE_US)
			set_state(r, RS_LAGGING, c == 0 || !r->primary_ok ? -1 : now - c);
	}
	else
		set_state(r, RS_IN_USE, now - c);
}

static void
replay_done(void *arg, enum db_status st, const PGresult *res)
{
	struct replica	*r = arg;
	int		 ok;

	r->q = NULL;
	ok = st == DB_OK && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	round_end(r, ok, ok && strcmp(PQgetvalue(res, 0, 0), "t") == 0,
	    ok && !PQgetisnull(res, 0, 1) ? PQgetvalue(res, 0, 1) : NULL);
}

/* The primary's position: a mark, then the standby's. Without it (the primary is down or
 * takes no writes: in recovery itself) the standby covers nothing new, and lags. */
static void
flush_done(void *arg, enum db_status st, const PGresult *res)
{
	struct replica	*r = arg;
	uint64_t	 lsn;

	r->q = NULL;
	r->primary_ok = st == DB_OK && PQresultStatus(res) == PGRES_TUPLES_OK &&
	    PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
	    lsn_parse(PQgetvalue(res, 0, 0), &lsn) == 0;
	if (r->primary_ok) {
		if (r->n == REPLICA_RING) {
			/* far behind: the oldest goes (the standby covers less meanwhile) */
			r->head = (r->head + 1) % REPLICA_RING;
			r->n--;
		}
		r->ring[(r->head + r->n) % REPLICA_RING] = (struct mark){ r->t, lsn };
		r->n++;
	}
	if (r->stopped)
		return;
	r->q = db_query(r->pool, Q_WAL_REPLAY, NULL, DB_Q_FIRST, replay_done, r);
}

/* Every worker's: its pool leaves a server found promoted; worker 0's: a round. */
static void
probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct replica	*r = arg;
	unsigned int	 p = atomic_load(&promoted);

	(void)fd;
	(void)what;
	if (r->promoted != p) {
		/* its connections close and seek a standby (target_session_attrs) */
		r->promoted = p;
		db_pool_retire(r->pool);
	}
	if (!r->measure || r->q != NULL || r->stopped)
		return;		/* (the last round is still under way) */
	r->t = now_usec();
	r->q = db_query(r->primary, Q_WAL_FLUSH, NULL, DB_Q_FIRST, flush_done, r);
}

/* The API -------------------------------------------------------------------------- */

struct replica *
replica_new(const struct db_pool_opts *po, struct db_pool *primary, const char *dsn,
    int size, long max_lag_ms, int measure)
{
	struct replica		*r = xcalloc(1, sizeof(*r));
	struct db_pool_opts	 o = *po;
	char			 name[32];
	struct timeval		 tv = { 0, REPLICA_PROBE_MS * 1000 };

	r->primary = primary;
	if (dsn == NULL || dsn[0] == '\0')
		return r;
	atomic_store(&configured, 1);
	r->dsn = xstrdup(dsn);
	r->max_lag_us = (long long)max_lag_ms * 1000;
	snprintf(name, sizeof(name), "%s replica", po->name);
	o.dsn = dsn;
	o.name = name;
	o.size = size < 1 ? 1 : size;
	o.standby = 1;
	r->pool = db_pool_new(&o);
	r->measure = measure;
	r->started = now_usec();
	r->promoted = atomic_load(&promoted);
	r->ev_probe = event_new(po->base, -1, EV_PERSIST, probe_cb, r);
	event_add(r->ev_probe, &tv);
	return r;
}

void
replica_stop(struct replica *r)
{
	if (r == NULL)
		return;
	r->stopped = 1;
	if (r->ev_probe != NULL)
		event_del(r->ev_probe);
}

void
replica_free(struct replica *r)
{
	if (r == NULL)
		return;
	if (r->q != NULL)
		db_cancel(r->q);
	if (r->ev_probe != NULL)
		event_free(r->ev_probe);
	db_pool_free(r->pool);
	free(r->dsn);
	free(r);
}

struct db_pool *
replica_pool(struct replica *r)
{
	return r != NULL ? r->pool : NULL;
}

const char *
replica_dsn(struct replica *r)
{
	return r != NULL ? r->dsn : NULL;
}

int
replica_pick(struct replica *r, const struct auth_creds *cr, int consistent)
{
	long long	c, now;
	int		k;

	if (r == NULL || r->pool == NULL)
		return 0;
	if (consistent) {
		atomic_fetch_add(&n_consistent, 1);
		return 0;
	}
	if (!atomic_load(&standby_up) || db_pool_healthy(r->pool) == 0) {
		atomic_fetch_add(&n_down, 1);
		return 0;
	}
	c = atomic_load(&covered);
	now = now_usec();
	if (c == 0 || now - c > r->max_lag_us) {
		atomic_fetch_add(&n_lag, 1);
		return 0;
	}
	if ((k = writer_slot(cr)) >= 0 && atomic_load(&wrote[k]) >= c) {
		atomic_fetch_add(&n_write, 1);
		return 0;
	}
	if (auth_principals_changed() >= c) {
		atomic_fetch_add(&n_principals, 1);
		return 0;
	}
	return 1;
}

void
replica_answered(int served, int down)
{
	if (served)
		atomic_fetch_add(&n_reads, 1);
	else if (down)
		atomic_fetch_add(&n_down, 1);
}

void
replica_wrote(const struct auth_creds *cr)
{
	long long	now = now_usec(), t;
	int		k;

	if (!atomic_load(&configured) || (k = writer_slot(cr)) < 0)
		return;
	t = atomic_load(&wrote[k]);
	while (t < now && !atomic_compare_exchange_weak(&wrote[k], &t, now))
		continue;
}

void
replica_stats(struct replica_stats *s)
{
	long long	c = atomic_load(&covered);

	memset(s, 0, sizeof(*s));
	s->configured = atomic_load(&configured);
	s->up = atomic_load(&standby_up);
	s->lag_s = c == 0 ? -1 : (double)(now_usec() - c) / 1e6;
	s->reads = atomic_load(&n_reads);
	s->fallback_lag = atomic_load(&n_lag);
	s->fallback_down = atomic_load(&n_down);
	s->pinned_consistent = atomic_load(&n_consistent);
	s->pinned_write = atomic_load(&n_write);
	s->pinned_principals = atomic_load(&n_principals);
}
