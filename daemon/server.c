/* server.c: workers, listeners, signals, drain and reload. */
#include <sys/socket.h>
#include <errno.h>
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
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "queries.h"
#include "server.h"
#include "tls.h"
#include "util.h"

#define SERVER_BACKLOG		1024
#define SERVER_DRAIN_EXTRA_S	5	/* drain deadline = io_timeout_s + this */
/* Fold fund balance deltas this often. Every second, not every ten: a fold's work grows
 * with the deltas since the last, and at 2,500 receipts/s, when each journal entry
 * appended one, ten seconds' worth took one core for 100-150 ms, in which the receipts
 * got half the CPU (alternating runs at 32 connections: p99 23-29 ms against 28-33 ms).
 * Since migration 0014 an INSERT of postings appends one per fund, so a batch of
 * receipts appends one. */
#define SERVER_HOUSE_S		1
#define SERVER_PURGE_S		3600	/* idempotency keys: purge older than 30 days */

/* A worker's event loop. With the epoll changelist, event changes are applied once per
 * loop iteration, and an add undone in the same iteration costs nothing: bufferevent_openssl
 * adds the write event for every response, writes it at once and deletes the event again,
 * which was two epoll_ctl calls per request. (The changelist's known trap is a descriptor
 * cloned with dup(); fundd has none.) */
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
 * addresses, not by load: 32 connections came out 22 against 10, and the clients of the
 * busier worker waited twice as long for the database (one batch of mutations at a time
 * per worker, docs/batching.md). So a worker that accepts a connection while another has
 * fewer open hands it over, through that worker's queue: the least loaded worker serves
 * it. The TLS handshake and everything after it happen on that worker only.
 */
static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int len,
    void *arg)
{
	struct worker	*w = arg, *best = w;
	struct handoff	*h;
	int		 i, least = atomic_load(&w->load);

	(void)lev;
	for (i = 0; i < w->srv->nworkers; i++) {
		struct worker	*o = &w->srv->workers[i];
		int		 l = atomic_load(&o->load);

		if (l < least) {
			least = l;
			best = o;
		}
	}
	if (best == w || w->draining || len < 0 || (size_t)len > sizeof(h->ss)) {
		http_accept(w, fd, sa, len);
		return;
	}
	h = xcalloc(1, sizeof(*h));
	h->fd = fd;
	h->len = len;
	memcpy(&h->ss, sa, (size_t)len);
	atomic_fetch_add(&best->load, 1);
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
		atomic_fetch_sub(&w->load, 1);	/* http_accept counts it as open */
		http_accept(w, h->fd, (struct sockaddr *)&h->ss, h->len);
		free(h);
	}
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct worker	*w = arg;

	(void)lev;
	log_warn("worker %d: accept", w->id);
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
	} else
		log_warnx("idempotency purge failed; retrying in an hour");
}

static void
fold_done(void *arg, enum db_status st, const PGresult *res)
{
	struct worker	*w = arg;

	w->q_fold = NULL;
	if (st == DB_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		log_warnx("folding fund balance deltas failed: %s",
		    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
}

/* Worker 0's housekeeping: fold fund balance deltas into the fund rows (so summing a
 * fund's pending deltas stays cheap), and purge old idempotency keys hourly. Through the
 * pool like any query: nothing here blocks the loop. */
static void
house_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct timeval	 tv = { SERVER_HOUSE_S, 0 };

	(void)fd;
	(void)what;
	if (w->draining)
		return;
	if (w->q_fold == NULL && db_pool_healthy(w->pool) > 0)
		w->q_fold = db_query(w->pool, Q_FOLD, NULL, DB_Q_WRITE, fold_done, w);
	if (w->q_purge == NULL && now_usec() >= w->next_purge &&
	    db_pool_healthy(w->pool) > 0) {
		w->q_purge = db_query(w->pool, Q_PURGE, NULL, DB_Q_WRITE, purge_done, w);
		w->next_purge = now_usec() + (long long)SERVER_PURGE_S * 1000000;
	}
	evtimer_add(w->ev_house, &tv);
}

void
worker_check_drained(struct worker *w)
{
	if (w->draining && w->nconns == 0 && db_pool_outstanding(w->pool) == 0)
		event_base_loopexit(w->base, NULL);
}

static void
pool_idle_cb(void *arg)
{
	worker_check_drained(arg);
}

static void
drain_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	(void)fd;
	(void)what;
	log_warnx("worker %d: drain deadline passed, closing %d connections", w->id,
	    w->nconns);
	http_close_all(w, "drain deadline");
	event_base_loopexit(w->base, NULL);
}

static void
drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct timeval	 tv = { w->srv->cfg->io_timeout_s + SERVER_DRAIN_EXTRA_S, 0 };

	(void)fd;
	(void)what;
	if (w->draining)
		return;
	w->draining = 1;
	if (w->ev_house != NULL)
		evtimer_del(w->ev_house);
	audit_runner_stop(w->audit);
	if (w->lev != NULL) {
		evconnlistener_free(w->lev);
		w->lev = NULL;
	}
	evtimer_add(w->ev_drain_deadline, &tv);
	http_drain(w);
	worker_check_drained(w);
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
	return NULL;
}

void
server_pool_stats(struct server *s, struct pool_stats *ps)
{
	unsigned long	b, q, f;
	int		i;

	memset(ps, 0, sizeof(*ps));
	for (i = 0; i < s->nworkers; i++) {
		ps->in_use += db_pool_in_use(s->workers[i].pool);
		ps->waiting += db_pool_waiting(s->workers[i].pool);
		ps->healthy += db_pool_healthy(s->workers[i].pool);
		db_pool_batch_stats(s->workers[i].pool, &b, &q, &f);
		ps->batches += b;
		ps->batched += q;
		ps->batch_failed += f;
		if (i < POOL_STATS_WORKERS)
			ps->worker_conns[i] = atomic_load(&s->workers[i].load);
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

struct main_state {
	struct server	*srv;
	const char	*cfgpath;
	struct event	*ev_term, *ev_int, *ev_hup;
	int		 stopping;
};

static void
signal_stop(evutil_socket_t sig, short what, void *arg)
{
	struct main_state	*ms = arg;
	int			 i;

	(void)what;
	if (ms->stopping)
		return;
	ms->stopping = 1;
	log_info("%s: draining in-flight requests", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	for (i = 0; i < ms->srv->nworkers; i++)
		event_active(ms->srv->workers[i].ev_drain, EV_TIMEOUT, 0);
	event_del(ms->ev_term);
	event_del(ms->ev_int);
	event_del(ms->ev_hup);
}

/* SIGHUP: re-read the file; a new certificate/key and log level take effect, other keys
 * need a restart. Anything bad keeps what runs now. */
static void
signal_reload(evutil_socket_t sig, short what, void *arg)
{
	struct main_state	*ms = arg;
	struct cfg		 nc;
	SSL_CTX			*ctx;
	enum log_level		 lvl;
	char			*cause = NULL;

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
		tls_ctx_install(ctx);
		log_info("SIGHUP: certificate and key reloaded from %s", nc.tls_cert);
	}
	if (log_level_parse(nc.log_level, &lvl) == 0)
		log_set_level(lvl);
	cfg_free(&nc);
}

int
server_run(const char *cfgpath, struct cfg *cfg, const struct audit_key *key)
{
	struct server		 srv;
	struct main_state	 ms;
	struct sockaddr_storage	 ss;
	struct event_base	*mbase;
	struct db_pool_opts	 po;
	char			*cause = NULL;
	int			 salen, i, nw, per_pool;
	long			 ncpu;

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
	srv.cfg = cfg;
	srv.nworkers = nw;
	srv.workers = xcalloc((size_t)nw, sizeof(*srv.workers));
	atomic_init(&srv.conns, 0);
	memset(&po, 0, sizeof(po));
	po.dsn = cfg->dsn;
	po.size = per_pool;
	po.wait_max = (int)cfg->wait_queue;
	po.batch_max = (int)cfg->batch_max;
	po.writers = (int)cfg->writers;
	po.stall_ms = (int)cfg->write_stall_ms;
	po.one_statement = (int)cfg->batch_one_statement;
	po.stmts = queries;
	po.nstmts = Q_COUNT;

	for (i = 0; i < nw; i++) {
		struct worker	*w = &srv.workers[i];
		char		 name[16];

		w->id = i;
		w->srv = &srv;
		TAILQ_INIT(&w->conns);
		TAILQ_INIT(&w->handoffs);
		atomic_init(&w->load, 0);
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
		snprintf(name, sizeof(name), "w%d", i);
		po.base = w->base;
		po.name = name;
		w->pool = db_pool_new(&po);
		db_pool_on_idle(w->pool, pool_idle_cb, w);
		w->ev_drain = event_new(w->base, -1, 0, drain_cb, w);
		w->ev_handoff = event_new(w->base, -1, 0, handoff_cb, w);
		w->scratch = evbuffer_new();
		w->ev_drain_deadline = evtimer_new(w->base, drain_deadline_cb, w);
		if (i == 0) {
			struct timeval tv = { SERVER_HOUSE_S, 0 };

			w->next_purge = now_usec() + 60 * 1000000LL;	/* a minute in */
			w->ev_house = evtimer_new(w->base, house_cb, w);
			evtimer_add(w->ev_house, &tv);
			w->audit = audit_runner_start(w->pool, key, cfg->chain_interval_ms,
			    cfg->checkpoint_interval_s);
			w->listener = auth_listener_start(w->base, cfg->dsn);
		}
	}

	mbase = event_base_new();
	ms.srv = &srv;
	ms.cfgpath = cfgpath;
	ms.ev_term = evsignal_new(mbase, SIGTERM, signal_stop, &ms);
	ms.ev_int = evsignal_new(mbase, SIGINT, signal_stop, &ms);
	ms.ev_hup = evsignal_new(mbase, SIGHUP, signal_reload, &ms);
	event_add(ms.ev_term, NULL);
	event_add(ms.ev_int, NULL);
	event_add(ms.ev_hup, NULL);

	for (i = 0; i < nw; i++)
		if ((errno = pthread_create(&srv.workers[i].thread, NULL, worker_main,
		    &srv.workers[i])) != 0)
			fatal("pthread_create");
	log_info("fundd %s listening on https://%s (%d workers, %d database connections "
	    "each)", FUND_VERSION, cfg->listen, nw, per_pool);

	/* The main loop only waits for signals; it ends when every worker has. */
	while (!ms.stopping)
		event_base_loop(mbase, EVLOOP_ONCE);
	for (i = 0; i < nw; i++)
		pthread_join(srv.workers[i].thread, NULL);

	for (i = 0; i < nw; i++) {
		struct worker	*w = &srv.workers[i];
		struct handoff	*h;

		http_close_all(w, "exit");
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
		if (w->q_fold != NULL)
			db_cancel(w->q_fold);
		if (w->ev_house != NULL)
			event_free(w->ev_house);
		audit_runner_free(w->audit);
		auth_listener_free(w->listener);
		db_pool_free(w->pool);
		event_free(w->ev_drain);
		event_free(w->ev_handoff);
		pthread_mutex_destroy(&w->handoff_mtx);
		evbuffer_free(w->scratch);
		event_free(w->ev_drain_deadline);
		event_base_free(w->base);
	}
	event_free(ms.ev_term);
	event_free(ms.ev_int);
	event_free(ms.ev_hup);
	event_base_free(mbase);
	free(srv.workers);
	auth_cache_free();
	log_info("drained; exiting");
	return 0;
}
