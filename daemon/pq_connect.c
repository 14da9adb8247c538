/* pq_connect.c: a non-blocking libpq connect on the event loop (pq_connect.h). */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "pq_connect.h"
#include "util.h"

struct pq_connect {
	struct event_base	*base;
	PGconn			*pg;
	struct event		*ev;
	pq_connect_cb		 done;
	void			*arg;
};

static void	pq_connect_event(evutil_socket_t, short, void *);

/* The first line of libpq's last error, allocated. */
static char *
pq_error_line(PGconn *pg, const char *prefix)
{
	char	*msg = xasprintf("%s%s", prefix, pg != NULL ? PQerrorMessage(pg) :
	    "out of memory");

	msg[strcspn(msg, "\n")] = '\0';
	return msg;
}

/* Wait for what on the connection's socket, as it is now. */
static void
pq_connect_arm(struct pq_connect *pc, short what)
{
	if (pc->ev != NULL)
		event_free(pc->ev);
	pc->ev = event_new(pc->base, PQsocket(pc->pg), what, pq_connect_event, pc);
	event_add(pc->ev, NULL);
}

/* The attempt is over: free it, then tell the owner. */
static void
pq_connect_finish(struct pq_connect *pc, const char *why)
{
	pq_connect_cb	 done = pc->done;
	void		*arg = pc->arg;
	PGconn		*pg = pc->pg;
	char		*cause = NULL;

	if (why != NULL) {
		cause = pq_error_line(pg, why);
		PQfinish(pg);
		pg = NULL;
	}
	event_free(pc->ev);
	free(pc);
	done(arg, pg, cause);
	free(cause);
}

static void
pq_connect_event(evutil_socket_t fd, short what, void *arg)
{
	struct pq_connect	*pc = arg;

	(void)fd;
	(void)what;
	switch (PQconnectPoll(pc->pg)) {
	case PGRES_POLLING_READING:
		pq_connect_arm(pc, EV_READ);
		return;
	case PGRES_POLLING_WRITING:
		pq_connect_arm(pc, EV_WRITE);
		return;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(pc->pg, 1) != 0) {
			pq_connect_finish(pc, "cannot set non-blocking mode: ");
			return;
		}
		pq_connect_finish(pc, NULL);
		return;
	case PGRES_POLLING_FAILED:
	case PGRES_POLLING_ACTIVE:
		break;
	}
	pq_connect_finish(pc, "");
}

struct pq_connect *
pq_connect_start(struct event_base *base, const char *dsn, const char *app,
    const char *session_attrs, PQnoticeProcessor notice, void *notice_arg,
    pq_connect_cb done, void *arg, char **cause)
{
	/* target_session_attrs comes before dbname, so that the dsn may set its own */
	static const char *const keys[] = { "target_session_attrs", "dbname",
	    "application_name", NULL };
	const char		*vals[] = { session_attrs, dsn, app, NULL };
	struct pq_connect	*pc;
	PGconn			*pg;

	pg = PQconnectStartParams(keys, vals, 1);
	if (pg == NULL || PQstatus(pg) == CONNECTION_BAD) {
		*cause = pq_error_line(pg, "");
		PQfinish(pg);
		return NULL;
	}
	if (notice != NULL)
		PQsetNoticeProcessor(pg, notice, notice_arg);
	pc = xcalloc(1, sizeof(*pc));
	pc->base = base;
	pc->pg = pg;
	pc->done = done;
	pc->arg = arg;
	pq_connect_arm(pc, EV_WRITE);	/* PQconnectPoll starts as if WRITING */
	return pc;
}

void
pq_connect_cancel(struct pq_connect *pc)
{
	if (pc == NULL)
		return;
	event_free(pc->ev);
	PQfinish(pc->pg);
	free(pc);
}
