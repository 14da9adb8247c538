/* h_metrics.c: GET /metrics (h_metrics.h). */
#include <string.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "auth.h"
#include "config.h"
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

/* The bearer token of [server] metrics_token_sha256: monitoring's own credential, checked
 * here without the database, so that /metrics answers while the database is down. */
static int
metrics_token(struct http_req *r)
{
	const char		*want = http_req_cfg(r)->metrics_token_sha256;
	const struct auth_creds	*cr;

	if (want[0] == '\0' || http_req_creds(r, &cr) != HTTP_CREDS_OK ||
	    strlen(cr->token_sha256) != 66)
		return 0;
	return CRYPTO_memcmp(cr->token_sha256 + 2, want, 64) == 0;
}

void
h_metrics(struct http_req *r)
{
	if (metrics_token(r))
		metrics_reply(r);
	else
		h_auth_require(r, "http.metrics", 1, metrics_reply);
}
