/* h_metrics.c: GET /metrics (h_metrics.h). */
#include <event2/buffer.h>

#include "h_auth.h"
#include "h_metrics.h"
#include "http.h"
#include "http_reply.h"
#include "metrics.h"

static void
metrics_reply(struct http_req *r)
{
	struct evbuffer		*b = evbuffer_new();
	struct pool_stats	 ps;

	metrics_pool_stats(&ps);
	metrics_render(b, &ps);
	http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8",
	    (const char *)evbuffer_pullup(b, -1), evbuffer_get_length(b), NULL);
	evbuffer_free(b);
}

void
h_metrics(struct http_req *r)
{
	h_auth_require(r, "http.metrics", 1, metrics_reply);
}
