/*
 * server.c: workers, listeners, signals, drain and reload. Nothing on a worker's loop is
 * touched by another thread except atomics (metrics, gauges, connection counts), the TLS
 * context swap (tls.c) and the queue of connections handed to it by another worker's
 * listener (accept_cb).
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "audit.h"
#include "auth_cache.h"
#include "config.h"
#include "db_pool.h"
#include "h_routes.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "queries.h"
#include "replica.h"
#include "server.h"
#include "tls.h"
#include "util.h"

#define SERVER_BACKLOG		1024
#define SERVER_DRAIN_EXTRA_S	5	/* drain deadline = io_timeout_s + this */
/* Fold fund balance deltas every second: a fold's work grows with the deltas since the
 * last one, and many small folds hold back the mutations less than a few large ones. */
#define SERVER_HOUSE_S		1
#define SERVER_PURGE_S		3600	/* idempotency keys: purge older than 30 days */
#define SERVER_ALLOC_S		5	/* kept allocations caught up (one fold skipped) */
#define SERVER_PURGE_BATCH	"5000"	/* keys per purge call; a full one calls again */
#define SERVER_ERASE_BATCH	"100"	/* returnees per erasure call; a full one calls again */
#define SERVER_OPS_S		5	/* fl.ops_state() sampled for /metrics */
/* Out of file descriptors, a listener stops accepting for this long: its socket stays
 * readable, and accepting again at once would only fail again, in a busy loop. */
#define SERVER_ACCEPT_PAUSE_MS	250

TAILQ_HEAD(handoffq, handoff);

struct worker {
	int			 id;
	struct server		*srv;
	pthread_t		 thread;
	struct event_base	*base;
	struct evconnlistener	*lev;
	struct db_pool		*pool;
	struct replica		*rep;		/* its pool on the standby, if any */
	struct http		*http;		/* its connections */
	struct event		*ev_drain;
	struct event		*ev_drain_deadline;
	struct event		*ev_house;	/* worker 0: housekeeping timer */
	struct db_query		*q_purge;
	struct db_query		*q_erase;	/* erasure of who is due (docs/privacy.md) */
	long long		 next_erase;
	struct db_query		*q_ops;		/* the sample of fl.ops_state() for /metrics */
	long long		 next_ops;
	struct db_query		*q_house;	/* the fold, or the allocation catch-up */
	const char		*house_what;	/* which, for its log line */
	struct audit_runner	*audit;		/* worker 0: audit chain and checkpoints */
	struct auth_listener	*listener;	/* worker 0: flushes the credentials cache */
	long long		 next_purge;	/* now_usec() of the next purge */
	long long		 next_alloc;	/* now_usec() of the next allocation catch-up */
	int			 draining;
	atomic_int		 handed;	/* handed to it and not yet taken (accept_cb) */
	pthread_mutex_t		 handoff_mtx;
	struct handoffq		 handoffs;	/* under handoff_mtx */
	struct event		*ev_handoff;
	int			 reserve_fd;	/* spent to refuse connections when no
						 * descriptor is left (accept_error_cb) */
	struct event		*ev_accept;	/* accepting again after a pause */
	atomic_uint		 beats;		/* watchdog pokes run by its loop */
	unsigned		 beats_seen;	/* main thread: beats at the last round */
};

struct server {
	const struct cfg	*cfg;
	int			 nworkers;
	struct worker		*workers;
	atomic_int		 conns;		/* open connections, all workers */
	atomic_int		 running;	/* workers whose loop has not ended */
	atomic_int		 stop_now;	/* a second SIGTERM/SIGINT: stop draining */
	struct event		*ev_done;	/* main loop: the last worker's loop ended */
	atomic_int		 started;	/* workers whose loop runs */
};

/* Open connections of w, and those handed to it not yet taken; any thread. */
static int
worker_load(struct worker *w)
{
	return http_conns(w->http) + atomic_load(&w->handed);
}

/* A worker's event loop. With the epoll changelist, event changes are applied once per
 * loop iteration, and an add undone in the same iteration costs nothing (bufferevent_openssl
 * adds and deletes the write event around each response). Its known trap is a descriptor
 * cloned with dup(); fundd has none. */
static struct event_base *
worker_base_new(void)
{
	struct event_config	*ec;
	struct event_base	*b;

	if ((ec = event_config_new()) == NULL)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	b = event_base_new_with_config(ec);
	event_config_free(ec);
	return b;
}

/* A connection accepted by one worker's listener for another worker. */
struct handoff {
	TAILQ_ENTRY(handoff)	 entry;
	evutil_socket_t		 fd;
	int			 len;
	struct sockaddr_storage	 ss;
};

/*
 * The kernel spreads connections over the workers' listeners by a hash of their
 * addresses, not by load, and a busier worker's clients wait longer for the database
 * (one batch of mutations at a time per worker, docs/batching.md). So a worker that
 * accepts a connection while another has fewer open hands it over, through that worker's
 * queue: the least loaded worker serves it. The TLS handshake and everything after it
 * happen on that worker only.
 */
static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int len,
    void *arg)
{
	struct worker	*w = arg, *best = w;
	struct handoff	*h;
	int		 i, least = worker_load(w);

	(void)lev;
	for (i = 0; i < w->srv->nworkers; i++) {
		struct worker	*o = &w->srv->workers[i];
		int		 l = worker_load(o);

		if (l < least) {
			least = l;
			best = o;
		}
	}
	if (best == w || w->draining || len < 0 || (size_t)len > sizeof(h->ss)) {
		http_accept(w->http, fd, sa, len);
		return;
	}
	h = xcalloc(1, sizeof(*h));
	h->fd = fd;
	h->len = len;
	memcpy(&h->ss, sa, (size_t)len);
	atomic_fetch_add(&best->handed, 1);
	pthread_mutex_lock(&best->handoff_mtx);
	TAILQ_INSERT_TAIL(&best->handoffs, h, entry);
	pthread_mutex_unlock(&best->handoff_mtx);
	event_active(best->ev_handoff, EV_TIMEOUT, 0);
}

/* Connections handed to this worker: served as if its own listener had accepted them. */
static void
handoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct handoffq	 q;
	struct handoff	*h;

	(void)fd;
	(void)what;
	TAILQ_INIT(&q);
	pthread_mutex_lock(&w->handoff_mtx);
	TAILQ_CONCAT(&q, &w->handoffs, entry);
	pthread_mutex_unlock(&w->handoff_mtx);
	while ((h = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, h, entry);
		atomic_fetch_sub(&w->handed, 1);	/* http_accept counts it as open */
		http_accept(w->http, h->fd, (struct sockaddr *)&h->ss, h->len);
		free(h);
	}
}

/* A descriptor kept open for accept_error_cb: /dev/null, or -1 when none is left. */
static int
reserve_open(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	(void)fd;
	(void)what;
	if (w->reserve_fd < 0)
		w->reserve_fd = reserve_open();
	if (w->lev != NULL && !w->draining)
		evconnlistener_enable(w->lev);
}

/*
 * accept() failed. Without a free file descriptor (EMFILE, ENFILE) the pending
 * connection stays in the backlog and the socket readable: accepting again at once
 * would fail again in a busy loop, and the clients would hang. So the reserve
 * descriptor is closed to accept and close at once those waiting (each learns it was
 * refused), and the listener pauses; the reserve is taken back when it resumes.
 */
static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct worker	*w = arg;
	struct timeval	 tv = { 0, SERVER_ACCEPT_PAUSE_MS * 1000 };
	int		 err = EVUTIL_SOCKET_ERROR(), fd, n = 0;

	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		errno = err;
		log_warn("worker %d: accept", w->id);
		return;
	}
	if (w->reserve_fd >= 0) {
		close(w->reserve_fd);
		w->reserve_fd = -1;
		while (n < SERVER_BACKLOG && (fd = accept4(evconnlistener_get_fd(lev), NULL,
		    NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			close(fd);
			n++;
		}
		w->reserve_fd = reserve_open();
	}
	evconnlistener_disable(lev);
	evtimer_add(w->ev_accept, &tv);
	metrics_accept_paused();
	log_warnx("worker %d: accept: %s; refused %d connection%s, not accepting for %d ms",
	    w->id, strerror(err), n, n == 1 ? "" : "s", SERVER_ACCEPT_PAUSE_MS);
}

static void
purge_done(void *arg, enum db_status st, const PGresult *res)
{
	struct worker	*w = arg;

	w->q_purge = NULL;
	if (st == DB_OK && PQresultStatus(res) == PGRES_TUPLES_OK) {
		if (strcmp(PQgetvalue(res, 0, 0), "0") != 0)
			log_info("purged %s idempotency keys older than 30 days",
			    PQgetvalue(res, 0, 0));
		/* a full batch: more may be due, at the next housekeeping tick */
		if (strcmp(PQgetvalue(res, 0, 0), SERVER_PURGE_BATCH) == 0)
			w->next_purge = now_usec();
	} else
		log_warnx("idempotency purge failed; retrying in an hour");
}

static void
erase_done(void *arg, enum db_status st, const PGresult *res)
{
	struct worker	*w = arg;

	w->q_erase = NULL;
	if (st == DB_OK && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		if (strcmp(PQgetvalue(res, 0, 0), "0") != 0)
			log_info("erased the personal data of %s returnees due for erasure "
			    "([privacy] retention_years, or their consent ended)",
			    PQgetvalue(res, 0, 0));
		/* a full batch: more are due, at once */
		if (strcmp(PQgetvalue(res, 0, 0), SERVER_ERASE_BATCH) == 0)
			w->next_erase = now_usec();
	} else
		log_warnx("erasing the returnees due for erasure failed: %s; retrying in %ld s",
		    st == DB_OK ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) :
		    "no database", w->srv->cfg->erase_interval_s);
}

static void
ops_done(void *arg, enum db_status st, const PGresult *res)
{
	struct worker	*w = arg;

	w->q_ops = NULL;
	if (st == DB_OK && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		metrics_ops_sample(strtoll(PQgetvalue(res, 0, 0), NULL, 10),
		    strtoll(PQgetvalue(res, 0, 1), NULL, 10),
		    strtoll(PQgetvalue(res, 0, 2), NULL, 10),
		    PQgetisnull(res, 0, 3) ? -1 : strtod(PQgetvalue(res, 0, 3), NULL));
}

static void
house_done(void *arg, enum db_status st, const PGresult *res)
{
	struct worker	*w = arg;

	w->q_house = NULL;
	if (st == DB_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		log_warnx("%s failed: %s", w->house_what,
		    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
}

/* Worker 0's housekeeping: fold fund balance deltas into the fund rows (so summing a
 * fund's pending deltas stays cheap), every few seconds bring the kept allocations of
 * contribution.status up to date instead (one query at a time in that slot: the
 * housekeeping never holds more than one connection for them), and purge old idempotency
 * keys hourly. Through the pool like any query: nothing here blocks the loop. */
static void
house_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct timeval	 tv = { SERVER_HOUSE_S, 0 };

	(void)fd;
	(void)what;
	if (w->draining)
		return;
	if (w->q_house == NULL && db_pool_healthy(w->pool) > 0) {
		enum query_id q = Q_FOLD;

		w->house_what = "folding fund balance deltas";
		if (now_usec() >= w->next_alloc) {
			q = Q_ALLOC;
			w->house_what = "bringing kept allocations up to date";
			w->next_alloc = now_usec() + (long long)SERVER_ALLOC_S * 1000000;
		}
		w->q_house = db_query(w->pool, q, NULL, DB_Q_WRITE, house_done, w);
	}
	if (w->q_purge == NULL && now_usec() >= w->next_purge &&
	    db_pool_healthy(w->pool) > 0) {
		const char *vals[1] = { SERVER_PURGE_BATCH };

		w->q_purge = db_query(w->pool, Q_PURGE, vals, DB_Q_WRITE, purge_done, w);
		w->next_purge = now_usec() + (long long)SERVER_PURGE_S * 1000000;
	}
	if (w->q_ops == NULL && now_usec() >= w->next_ops && db_pool_healthy(w->pool) > 0) {
		w->q_ops = db_query(w->pool, Q_OPS, NULL, 0, ops_done, w);
		w->next_ops = now_usec() + (long long)SERVER_OPS_S * 1000000;
	}
	if (w->q_erase == NULL && strcmp(w->srv->cfg->erase_due, "auto") == 0 &&
	    now_usec() >= w->next_erase && db_pool_healthy(w->pool) > 0) {
		char		 years[16];
		const char	*vals[2] = { years, SERVER_ERASE_BATCH };

		snprintf(years, sizeof(years), "%ld", w->srv->cfg->retention_years);
		w->q_erase = db_query(w->pool, Q_ERASE_DUE, vals, DB_Q_WRITE, erase_done, w);
		w->next_erase = now_usec() + w->srv->cfg->erase_interval_s * 1000000LL;
	}
	evtimer_add(w->ev_house, &tv);
}

/* Draining ends when the last connection has closed and the last query is answered, on
 * the primary and on the standby. */
static void
worker_check_drained(void *arg)
{
	struct worker	*w = arg;
	struct db_pool	*rp = replica_pool(w->rep);

	if (w->draining && http_conns(w->http) == 0 && db_pool_outstanding(w->pool) == 0 &&
	    (rp == NULL || db_pool_outstanding(rp) == 0))
		event_base_loopexit(w->base, NULL);
}

/* The drain is cut short: the connections still open are closed. */
static void
worker_stop_now(struct worker *w, const char *why)
{
	int	n = http_conns(w->http);

	log_warnx("worker %d: %s, closing %d connection%s", w->id, why, n, n == 1 ? "" : "s");
	http_close_all(w->http, why);
	event_base_loopexit(w->base, NULL);
}

static void
drain_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	worker_stop_now(arg, "drain deadline passed");
}

static void
drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct timeval	 tv = { w->srv->cfg->io_timeout_s + SERVER_DRAIN_EXTRA_S, 0 };

	(void)fd;
	(void)what;
	if (w->draining) {
		if (atomic_load(&w->srv->stop_now))
			worker_stop_now(w, "stopping at once");
		return;
	}
	w->draining = 1;
	if (w->ev_house != NULL)
		evtimer_del(w->ev_house);
	audit_runner_stop(w->audit);
	replica_stop(w->rep);
	if (w->lev != NULL) {
		evconnlistener_free(w->lev);
		w->lev = NULL;
	}
	evtimer_add(w->ev_drain_deadline, &tv);
	http_drain(w->http);
	if (atomic_load(&w->srv->stop_now))
		worker_stop_now(w, "stopping at once");
	else
		worker_check_drained(w);
}

/* The service manager's status line while serving. */
static void
notify_serving(const struct server *s)
{
	notify_ready("serving on https://%s (%d workers)", s->cfg->listen, s->nworkers);
}

/* A worker's first loop iteration (its listener is open): once every worker's loop runs,
 * the daemon serves, and says so to the service manager. */
static void
worker_started_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	(void)fd;
	(void)what;
	if (atomic_fetch_add(&w->srv->started, 1) + 1 == w->srv->nworkers)
		notify_serving(w->srv);
}

/* A watchdog poke, run by the worker's loop. */
static void
beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	(void)fd;
	(void)what;
	atomic_fetch_add(&w->beats, 1);
}

static void
watchdog_poke(struct worker *w)
{
	if (event_base_once(w->base, -1, EV_TIMEOUT, beat_cb, w, NULL) != 0)
		log_warnx("worker %d: cannot add the watchdog poke", w->id);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	sigset_t	 set;

	/* signals go to the main thread only */
	sigfillset(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	event_base_dispatch(w->base);
	if (atomic_fetch_sub(&w->srv->running, 1) == 1)
		event_active(w->srv->ev_done, EV_TIMEOUT, 0);
	return NULL;
}

/* The gauges of every worker's pool, for /metrics (metrics_set_pool_source). */
static void
server_pool_stats(void *arg, struct pool_stats *ps)
{
	struct server	*s = arg;
	unsigned long	 b, q, f, ts, tl;
	int		 i;

	memset(ps, 0, sizeof(*ps));
	for (i = 0; i < s->nworkers; i++) {
		ps->read_only += db_pool_read_only(s->workers[i].pool);
		db_pool_timeouts(s->workers[i].pool, &ts, &tl);
		ps->timeouts_statement += ts;
		ps->timeouts_lock += tl;
		ps->in_use += db_pool_in_use(s->workers[i].pool);
		ps->waiting += db_pool_waiting(s->workers[i].pool);
		ps->healthy += db_pool_healthy(s->workers[i].pool);
		db_pool_batch_stats(s->workers[i].pool, &b, &q, &f);
		ps->batches += b;
		ps->batched += q;
		ps->batch_failed += f;
		if (i < POOL_STATS_WORKERS)
			ps->worker_conns[i] = worker_load(&s->workers[i]);
	}
	ps->nworkers = s->nworkers < POOL_STATS_WORKERS ? s->nworkers : POOL_STATS_WORKERS;
	ps->size = (int)s->cfg->pool_size / s->nworkers * s->nworkers;
}

static int
parse_listen(const char *listen, struct sockaddr_storage *ss, int *len, char **cause)
{
	int	l = sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	if (evutil_parse_sockaddr_port(listen, (struct sockaddr *)ss, &l) != 0) {
		*cause = xasprintf("bad value for [server] listen: '%s' is not an address:port "
		    "(a numeric address, e.g. 127.0.0.1:8443 or [::1]:8443)", listen);
		return -1;
	}
	*len = l;
	return 0;
}

/*
 * Signals, handled on the main thread's loop (the workers block them all):
 *   SIGTERM, SIGINT  drain and exit 0; a second one closes the connections still open
 *   SIGHUP           reload the certificate, key and log level (signal_reload)
 *   SIGUSR1          reopen the log file ([log] file), after logrotate renamed it
 *   SIGUSR2          nothing, said in the log
 * SIGPIPE is ignored (cmd_serve), and so are SIGHUP, SIGUSR1 and SIGUSR2 before this loop
 * runs and after it has ended.
 */
struct main_state {
	struct server	*srv;
	const char	*cfgpath;
	struct event	*ev_term, *ev_int, *ev_hup, *ev_usr1, *ev_usr2;
	struct event	*ev_watchdog;	/* NULL without WATCHDOG_USEC */
	int		 stopping;
};

/*
 * Every half watchdog interval (WatchdogSec=): WATCHDOG=1 when every worker's loop ran the
 * poke of the previous round, then a new poke for each. A worker whose loop stays stuck
 * stops the pings, and the service manager kills and restarts the daemon.
 */
static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct main_state	*ms = arg;
	struct server		*s = ms->srv;
	int			 i, stuck = -1;

	(void)fd;
	(void)what;
	for (i = 0; i < s->nworkers; i++) {
		struct worker	*w = &s->workers[i];
		unsigned	 b = atomic_load(&w->beats);

		if (b == w->beats_seen && stuck < 0)
			stuck = i;
		w->beats_seen = b;
		watchdog_poke(w);
	}
	if (stuck < 0)
		notify_watchdog();
	else
		log_warnx("worker %d did not turn its event loop since the last watchdog round; "
		    "no watchdog ping", stuck);
}

static void
signal_stop(evutil_socket_t sig, short what, void *arg)
{
	struct main_state	*ms = arg;
	const char		*name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
	int			 i;

	(void)what;
	if (ms->stopping) {
		int	n = atomic_load(&ms->srv->conns);

		log_info("%s again: closing the %d open connection%s without waiting", name,
		    n, n == 1 ? "" : "s");
		atomic_store(&ms->srv->stop_now, 1);
	} else {
		log_info("%s: draining in-flight requests (%s again stops at once)", name,
		    name);
		ms->stopping = 1;
		notify_stopping();
	}
	for (i = 0; i < ms->srv->nworkers; i++)
		event_active(ms->srv->workers[i].ev_drain, EV_TIMEOUT, 0);
}

static void
restart_key(void *arg, const char *section, const char *key)
{
	(void)arg;
	log_warnx("SIGHUP: [%s] %s changed; it takes effect at the next restart", section,
	    key);
}

/* SIGHUP: re-read the file; a new certificate/key/client CA and log level take effect,
 * a change to any other key is logged as waiting for a restart. Anything bad keeps what
 * runs now. */
static void
signal_reload(evutil_socket_t sig, short what, void *arg)
{
	struct main_state	*ms = arg;
	struct cfg		 nc;
	SSL_CTX			*ctx;
	enum log_level		 lvl;
	char			*cause = NULL, *warning;

	(void)sig;
	(void)what;
	if (cfg_load(ms->cfgpath, &nc, &cause) != 0) {
		log_error("SIGHUP: keeping the running configuration: %s", cause);
		free(cause);
		return;
	}
	if (tls_ctx_new(&nc, &ctx, &cause) != 0) {
		log_error("SIGHUP: keeping the old certificate and key: %s", cause);
		free(cause);
	} else {
		warning = tls_expiry_warning(ctx, nc.tls_cert);
		tls_ctx_install(ctx);
		log_info("SIGHUP: certificate and key reloaded from %s", nc.tls_cert);
		if (warning != NULL)
			log_warnx("SIGHUP: %s", warning);
		free(warning);
	}
	if (log_level_parse(nc.log_level, &lvl) == 0 && lvl != log_get_level()) {
		/* said at the more verbose of the two levels */
		if (lvl < log_get_level())
			log_set_level(lvl);
		log_info("SIGHUP: [log] level is now %s", nc.log_level);
		log_set_level(lvl);
	}
	cfg_restart_changes(ms->srv->cfg, &nc, restart_key, NULL);
	cfg_free(&nc);
}

/* SIGUSR1: logrotate's postrotate. The log file is opened again by its name. */
static void
signal_reopen(evutil_socket_t sig, short what, void *arg)
{
	char	*cause = NULL;

	(void)sig;
	(void)what;
	(void)arg;
	switch (log_reopen(&cause)) {
	case 1:
		log_info("SIGUSR1: log file %s reopened", log_file());
		break;
	case 0:
		log_info("SIGUSR1: logging to stderr, no log file to reopen");
		break;
	default:
		log_error("SIGUSR1: %s; still logging to the file opened before", cause);
		free(cause);
		break;
	}
}

static void
signal_ignored(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	log_info("SIGUSR2: ignored (fundd gives it no meaning)");
}

/* The last worker's loop has ended: so does the main loop. */
static void
workers_done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopexit(arg, NULL);
}

/* SIGHUP as the service manager sees it: reloading, then serving again (with what
 * signal_reload took or kept). */
static void
signal_hup(evutil_socket_t sig, short what, void *arg)
{
	struct main_state	*ms = arg;

	notify_reloading();
	signal_reload(sig, what, arg);
	notify_serving(ms->srv);
}

int
server_run(const char *cfgpath, struct cfg *cfg, const struct audit_key *key)
{
	struct server		 srv;
	struct main_state	 ms;
	struct sockaddr_storage	 ss;
	struct event_base	*mbase;
	struct db_pool_opts	 po;
	struct http_opts	 ho;
	char			*cause = NULL;
	int			 salen, i, nw, per_pool, per_replica;
	long			 ncpu;
	long long		 wd_usec;

	memset(&srv, 0, sizeof(srv));
	memset(&ms, 0, sizeof(ms));
	if (parse_listen(cfg->listen, &ss, &salen, &cause) != 0) {
		fprintf(stderr, "fundd: %s\n", cause);
		free(cause);
		return 2;
	}
	evthread_use_pthreads();
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	nw = cfg->workers > 0 ? (int)cfg->workers : (int)(ncpu > 0 ? ncpu : 1);
	if (nw > cfg->pool_size) {
		/* pool_size caps the database connections of the whole daemon and every
		 * worker needs at least one */
		log_info("%d workers requested, %ld with pool_size = %ld", nw, cfg->pool_size,
		    cfg->pool_size);
		nw = (int)cfg->pool_size;
	}
	per_pool = (int)(cfg->pool_size / nw);
	per_replica = (int)((cfg->replica_pool_size > 0 ? cfg->replica_pool_size :
	    cfg->pool_size) / nw);
	if (per_replica < 1)
		per_replica = 1;
	srv.cfg = cfg;
	srv.nworkers = nw;
	srv.workers = xcalloc((size_t)nw, sizeof(*srv.workers));
	atomic_init(&srv.conns, 0);
	atomic_init(&srv.running, nw);
	atomic_init(&srv.stop_now, 0);
	atomic_init(&srv.started, 0);
	memset(&po, 0, sizeof(po));
	po.dsn = cfg->dsn;
	po.size = per_pool;
	po.wait_max = (int)cfg->wait_queue;
	po.batch_max = (int)cfg->batch_max;
	po.writers = (int)cfg->writers;
	po.stall_ms = (int)cfg->write_stall_ms;
	po.one_statement = (int)cfg->batch_one_statement;
	po.statement_timeout_ms = (int)cfg->statement_timeout_ms;
	po.lock_timeout_ms = (int)cfg->lock_timeout_ms;
	po.report_min_cell = (int)cfg->report_min_cell;
	po.stmts = queries;
	po.nstmts = Q_COUNT;
	memset(&ho, 0, sizeof(ho));
	ho.cfg = cfg;
	ho.admitted = &srv.conns;
	ho.routes = h_routes;
	ho.nroutes = h_nroutes;
	ho.on_idle = worker_check_drained;

	for (i = 0; i < nw; i++) {
		struct worker	*w = &srv.workers[i];
		char		 name[16];

		w->id = i;
		w->srv = &srv;
		TAILQ_INIT(&w->handoffs);
		atomic_init(&w->handed, 0);
		if ((errno = pthread_mutex_init(&w->handoff_mtx, NULL)) != 0)
			fatal("pthread_mutex_init");
		if ((w->base = worker_base_new()) == NULL)
			fatalx("event_base_new");
		w->lev = evconnlistener_new_bind(w->base, accept_cb, w,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE |
		    LEV_OPT_REUSEABLE_PORT, SERVER_BACKLOG, (struct sockaddr *)&ss, salen);
		if (w->lev == NULL)
			fatal("cannot listen on %s", cfg->listen);
		evconnlistener_set_error_cb(w->lev, accept_error_cb);
		if ((w->reserve_fd = reserve_open()) < 0)
			fatal("open /dev/null");
		w->ev_accept = evtimer_new(w->base, accept_resume_cb, w);
		snprintf(name, sizeof(name), "w%d", i);
		po.base = w->base;
		po.name = name;
		w->pool = db_pool_new(&po);
		db_pool_on_idle(w->pool, worker_check_drained, w);
		w->rep = replica_new(&po, w->pool, cfg->replica_dsn, per_replica,
		    cfg->replica_max_lag_ms, i == 0);
		if (replica_pool(w->rep) != NULL)
			db_pool_on_idle(replica_pool(w->rep), worker_check_drained, w);
		ho.base = w->base;
		ho.pool = w->pool;
		ho.replica = w->rep;
		ho.id = i;
		ho.arg = w;
		w->http = http_new(&ho);
		w->ev_drain = event_new(w->base, -1, 0, drain_cb, w);
		w->ev_handoff = event_new(w->base, -1, 0, handoff_cb, w);
		w->ev_drain_deadline = evtimer_new(w->base, drain_deadline_cb, w);
		atomic_init(&w->beats, 0);
		if (event_base_once(w->base, -1, EV_TIMEOUT, worker_started_cb, w, NULL) != 0)
			fatalx("event_base_once");
		if (i == 0) {
			struct timeval tv = { SERVER_HOUSE_S, 0 };

			w->next_purge = now_usec() + 60 * 1000000LL;	/* a minute in */
			w->ev_house = evtimer_new(w->base, house_cb, w);
			evtimer_add(w->ev_house, &tv);
			w->audit = audit_runner_start(w->pool, key, cfg->chain_interval_ms,
			    cfg->checkpoint_interval_s);
			w->listener = auth_listener_start(w->base, cfg->dsn,
			    cfg->replica_dsn[0] != '\0');
		}
	}

	metrics_set_pool_source(server_pool_stats, &srv);
	mbase = event_base_new();
	ms.srv = &srv;
	ms.cfgpath = cfgpath;
	srv.ev_done = event_new(mbase, -1, 0, workers_done_cb, mbase);
	ms.ev_term = evsignal_new(mbase, SIGTERM, signal_stop, &ms);
	ms.ev_int = evsignal_new(mbase, SIGINT, signal_stop, &ms);
	ms.ev_hup = evsignal_new(mbase, SIGHUP, signal_hup, &ms);
	ms.ev_usr1 = evsignal_new(mbase, SIGUSR1, signal_reopen, &ms);
	ms.ev_usr2 = evsignal_new(mbase, SIGUSR2, signal_ignored, &ms);
	event_add(ms.ev_term, NULL);
	event_add(ms.ev_int, NULL);
	event_add(ms.ev_hup, NULL);
	event_add(ms.ev_usr1, NULL);
	event_add(ms.ev_usr2, NULL);
	if ((wd_usec = notify_watchdog_period()) > 0) {
		struct timeval tv = { wd_usec / 1000000, wd_usec % 1000000 };

		for (i = 0; i < nw; i++)
			watchdog_poke(&srv.workers[i]);
		ms.ev_watchdog = event_new(mbase, -1, EV_PERSIST, watchdog_cb, &ms);
		event_add(ms.ev_watchdog, &tv);
	}

	for (i = 0; i < nw; i++)
		if ((errno = pthread_create(&srv.workers[i].thread, NULL, worker_main,
		    &srv.workers[i])) != 0)
			fatal("pthread_create");
	log_info("fundd %s listening on https://%s (%d workers, %d database connections "
	    "each)", FUND_VERSION, cfg->listen, nw, per_pool);
	if (cfg->replica_dsn[0] != '\0')
		log_info("reads go to the standby of replica_dsn while it is up and at most "
		    "%ld ms behind (%d connections each)", cfg->replica_max_lag_ms,
		    per_replica);

	/* The main loop only handles signals, also while the workers drain; it ends when
	 * every worker's loop has. */
	event_base_dispatch(mbase);
	for (i = 0; i < nw; i++)
		pthread_join(srv.workers[i].thread, NULL);

	for (i = 0; i < nw; i++) {
		struct worker	*w = &srv.workers[i];
		struct handoff	*h;

		http_free(w->http);
		/* connections handed over after this worker's loop ended: never served */
		while ((h = TAILQ_FIRST(&w->handoffs)) != NULL) {
			TAILQ_REMOVE(&w->handoffs, h, entry);
			evutil_closesocket(h->fd);
			free(h);
		}
		if (w->lev != NULL)
			evconnlistener_free(w->lev);
		if (w->q_purge != NULL)
			db_cancel(w->q_purge);
		if (w->q_erase != NULL)
			db_cancel(w->q_erase);
		if (w->q_ops != NULL)
			db_cancel(w->q_ops);
		if (w->q_house != NULL)
			db_cancel(w->q_house);
		if (w->ev_house != NULL)
			event_free(w->ev_house);
		audit_runner_free(w->audit);
		auth_listener_free(w->listener);
		replica_free(w->rep);
		db_pool_free(w->pool);
		event_free(w->ev_drain);
		event_free(w->ev_handoff);
		event_free(w->ev_accept);
		if (w->reserve_fd >= 0)
			close(w->reserve_fd);
		pthread_mutex_destroy(&w->handoff_mtx);
		event_free(w->ev_drain_deadline);
		event_base_free(w->base);
	}
	event_free(ms.ev_term);
	event_free(ms.ev_int);
	event_free(ms.ev_hup);
	event_free(ms.ev_usr1);
	event_free(ms.ev_usr2);
	event_free(srv.ev_done);
	if (ms.ev_watchdog != NULL)
		event_free(ms.ev_watchdog);
	event_base_free(mbase);
	metrics_set_pool_source(NULL, NULL);
	free(srv.workers);
	auth_cache_free();
	log_info("drained; exiting");
	return 0;
}
