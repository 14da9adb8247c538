/*
 * server.h: worker threads. Each worker owns an event loop, a listener on the shared
 * address (SO_REUSEPORT, so the kernel spreads connections), its connections and its
 * own database pool; nothing on a worker's loop is touched by another thread except
 * atomics (metrics, gauges), the TLS context swap (tls.c) and the queue of connections
 * handed to it by another worker's listener (server.c, accept_cb).
 */
#ifndef FUND_SERVER_H
#define FUND_SERVER_H

#include <sys/queue.h>
#include <pthread.h>
#include <stdatomic.h>

#include <event2/event.h>
#include <event2/listener.h>

struct audit_key;
struct audit_runner;
struct auth_listener;
struct cfg;
struct conn;
struct db_pool;
struct pool_stats;

TAILQ_HEAD(connq, conn);
TAILQ_HEAD(handoffq, handoff);

struct worker {
	int			 id;
	struct server		*srv;
	pthread_t		 thread;
	struct event_base	*base;
	struct evconnlistener	*lev;
	struct db_pool		*pool;
	struct event		*ev_drain;
	struct event		*ev_drain_deadline;
	struct event		*ev_house;	/* worker 0: housekeeping timer */
	struct db_query		*q_purge;
	struct db_query		*q_fold;
	struct audit_runner	*audit;		/* worker 0: audit chain and checkpoints */
	struct auth_listener	*listener;	/* worker 0: flushes the credentials cache */
	long long		 next_purge;	/* now_usec() of the next purge */
	struct connq		 conns;
	struct evbuffer		*scratch;	/* a response being built (http.c) */
	int			 nconns;
	int			 draining;
	unsigned long		 reqseq;
	/* open connections plus those handed to it and not yet taken (accept_cb) */
	atomic_int		 load;
	pthread_mutex_t		 handoff_mtx;
	struct handoffq		 handoffs;	/* under handoff_mtx */
	struct event		*ev_handoff;
};

struct server {
	const struct cfg	*cfg;
	int			 nworkers;
	struct worker		*workers;
	atomic_int		 conns;		/* open connections, all workers */
};

/* Serve until SIGTERM/SIGINT; returns the exit code. */
int	server_run(const char *cfgpath, struct cfg *, const struct audit_key *);
void	server_pool_stats(struct server *, struct pool_stats *);
/* a connection of w went away: finish draining when it was the last */
void	worker_check_drained(struct worker *);

#endif
