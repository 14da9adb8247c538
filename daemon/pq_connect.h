/*
 * pq_connect.h: connecting to PostgreSQL without blocking the event loop, for the pool's
 * connections, the exports' and the credentials cache's listener: PQconnectStartParams,
 * then PQconnectPoll each time the socket it names is ready (re-reading PQsocket() after
 * each poll: it may change while libpq tries addresses), then non-blocking mode.
 */
#ifndef FUND_PQ_CONNECT_H
#define FUND_PQ_CONNECT_H

#include <libpq-fe.h>

struct event_base;
struct pq_connect;

/* pg: the connected connection, non-blocking, now the callee's, and cause NULL; or pg
 * NULL and cause a one-line reason (valid during the call only). */
typedef void	(*pq_connect_cb)(void *arg, PGconn *pg, const char *cause);

/*
 * Connect to dsn (a conninfo string) with application_name app; session_attrs, when not
 * NULL, is libpq's target_session_attrs unless the dsn sets one ("read-write": only a
 * server that accepts writes will do, trying each host of the dsn); notice, when not NULL,
 * is the connection's notice processor from the start. When connecting fails at once
 * (nothing listens on the socket, a bad dsn) returns NULL and an allocated one-line
 * *cause. Otherwise done runs exactly once, later, from base's loop, unless
 * pq_connect_cancel() comes first; the attempt is freed before done runs.
 */
struct pq_connect	*pq_connect_start(struct event_base *base, const char *dsn,
			    const char *app, const char *session_attrs,
			    PQnoticeProcessor notice, void *notice_arg, pq_connect_cb done,
			    void *arg, char **cause);
/* Give up an attempt whose done has not run: done will not run. */
void			 pq_connect_cancel(struct pq_connect *);

#endif
