/*
 * http_conn.h: a client connection, the request it serves and the context they belong
 * to, as http.c (the connection's state machine) and http_reply.c (its responses) see
 * them. Private to those two files.
 */
#ifndef FUND_HTTP_CONN_H
#define FUND_HTTP_CONN_H

#include <sys/queue.h>
#include <stdatomic.h>
#include <stddef.h>

#include "auth.h"
#include "http_parse.h"

struct bufferevent;
struct cfg;
struct db_pool;
struct event;
struct replica;
struct event_base;
struct evbuffer;
struct http_route;

#define HTTP_REQ_HOLD_MAX	4	/* states one request holds at most */

enum conn_state {
	CS_HANDSHAKE,	/* TLS handshake under way */
	CS_READING,	/* reading a request head and body */
	CS_BUSY,	/* a request is being answered (its handler is at work) */
	CS_WRITING,	/* the response is being flushed */
	CS_STREAMING,	/* a chunked response is being produced (http_stream_*) */
	CS_CLOSING,	/* a stream was aborted: the connection closes from the loop */
	CS_LINGERING,	/* response sent, write side shut: waiting for the peer's close */
};

/* The request a connection serves; everything in it is reset between requests. */
struct http_req {
	struct conn		*c;
	int			 head_done;
	struct http_head	 head;
	const struct http_route	*route;
	int			 creds_state;	/* enum http_creds */
	struct auth_creds	 creds;
	int			 authenticated;	/* creds found good */
	char			*body;
	size_t			 body_len;
	struct {
		void		*state;
		void		(*free_fn)(void *);
	}			 held[HTTP_REQ_HOLD_MAX];
	int			 nheld;
	void			(*drained)(void *);	/* CS_STREAMING: output drained */
	void			*drained_arg;
	int			 stream_head_sent;	/* CS_STREAMING: 200 and headers out */
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct http		*h;
	struct bufferevent	*bev;
	enum conn_state		 state;
	char			 peer[64];
	char			 addr[48];	/* the peer's address, without the port */
	struct event		*ev_throttle;	/* a slowed-down request waits on it */
	char			 reqid[32];
	struct event		*deadline;	/* also fires CS_CLOSING's close */
	int			 reject;	/* over max_connections: answer 503 */
	int			 keepalive;
	int			 has_cert;
	unsigned char		 cert[32];
	long long		 t0;
	struct http_req		 req;
};

/* struct http_opts, then the context's own */
struct http {
	struct event_base	*base;
	struct db_pool		*pool;
	struct replica		*replica;
	const struct cfg	*cfg;
	int			 id;
	atomic_int		*admitted;
	const struct http_route	*routes;
	size_t			 nroutes;
	void			(*on_idle)(void *);
	void			*arg;
	TAILQ_HEAD(, conn)	 conns;
	atomic_int		 nconns;
	int			 draining;
	unsigned long		 reqseq;
	struct evbuffer		*scratch;	/* a response being built */
};

/* What the throttle counts failures of (throttle.h): the credential's hash, "bad" for a
 * malformed Authorization header, "" for none. */
const char	*http_req_cred_key(const struct http_req *);

#endif
