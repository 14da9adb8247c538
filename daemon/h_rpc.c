/* h_rpc.c: POST /rpc: parse the body, run its calls, render the answer (h_rpc.h). */
#include <stdlib.h>
#include <string.h>

#include "h_auth.h"
#include "h_rpc.h"
#include "http.h"
#include "http_reply.h"
#include "rpc.h"
#include "rpc_exec.h"
#include "util.h"

/* A request's calls; the request holds it. */
struct h_rpc {
	struct http_req		*r;
	struct rpc_batch	*b;
	struct rpc_exec		*x;
};

static void
h_rpc_free(void *arg)
{
	struct h_rpc	*s = arg;

	rpc_exec_free(s->x);
	rpc_batch_free(s->b);
	free(s);
}

static void
rpc_done(void *arg)
{
	struct h_rpc	*s = arg;
	char		*body;
	int		 status;

	if (s->b->authenticated)
		http_req_authenticated(s->r);
	body = rpc_render(s->b, &status);
	http_reply(s->r, status, "application/json", body != NULL ? body : "",
	    body != NULL ? strlen(body) : 0,
	    status == 401 ? "WWW-Authenticate: Bearer realm=\"fundd\"\r\n" :
	    status == 503 ? "Retry-After: 1\r\n" : NULL);
	free(body);
}

/* The credentials are checked with each call, in the same round trip. */
static void
rpc_start(struct http_req *r)
{
	const struct auth_creds	*cr;
	struct h_rpc		*s = xcalloc(1, sizeof(*s));
	const char		*body;
	size_t			 len;

	s->r = r;
	body = http_req_body(r, &len);
	s->b = rpc_parse(body, len);
	http_req_hold(r, s, h_rpc_free);
	(void)http_req_creds(r, &cr);
	s->x = rpc_exec_start(http_req_pool(r), http_req_replica(r), s->b, cr,
	    http_req_id(r), http_req_peer(r), rpc_done, s);
}

void
h_rpc(struct http_req *r)
{
	h_auth_require(r, "http.rpc", 0, rpc_start);
}
