/*
 * rpc.h: JSON-RPC 2.0 framing. rpc_parse() turns a body into a batch of calls, each either
 * ready to run (method found, params valid) or already answered with an error;
 * rpc_render() turns the answered batch into the response body. Both are pure (no I/O, no
 * database) and fuzzed; running the calls is rpc_exec.h's.
 */
#ifndef FUND_RPC_H
#define FUND_RPC_H

#include <cjson/cJSON.h>

#include "auth.h"

#define RPC_BATCH_MAX	100
#define RPC_DEPTH_MAX	1000	/* nesting of a body: cJSON's CJSON_NESTING_LIMIT */


struct rpc_call {
	cJSON			*id;		/* owned copy; NULL for a notification */
	int			 notification;
	int			 midx;		/* method index, -1 if none */
	const struct method	*m;
	cJSON			*params;	/* owned, without idempotency_key and
						 * consistent */
	char			*idem;		/* idempotency_key or NULL */
	int			 consistent;	/* a read that must see every commit made
						 * before it (replica.h) */
	int			 on_replica;	/* sent to the standby */
	int			 primary_only;	/* the standby could not answer it */
	cJSON			*result;	/* owned: success */
	cJSON			*error;		/* owned: error object */
	int			 code;		/* 0 or the error code */
	int			 retries;
	int			 authorized;	/* bad params: credentials checked first */
	unsigned long		 cache_gen;	/* M_WHOAMI: auth_cache_gen() when sent */
	long long		 t0;
	char			 token[AUTH_TOKEN_LEN + 1];	/* M_NEW_TOKEN, wiped */
	int			 sealed;	/* M_SEALS: params made what SQL takes */
	int			 stats_read;	/* M_STATS: the returnee was read */
	char			 stats[64];	/* M_STATS: ctx "stats" (person_stats) */
	char			*access;	/* a read's access events to record (Q_ACCESS) */
};

struct rpc_batch {
	int		 is_array;
	int		 n;
	struct rpc_call	*calls;
	cJSON		*top_error;	/* a whole-body error (-32700, -32600 on the array) */
	int		 checked;	/* credentials checked for a request with errors */
	int		 unauthenticated; /* they failed: top_error is the -32001 */
	int		 authenticated;	/* the database (or the cache) took them */
};

struct rpc_batch	*rpc_parse(const char *body, size_t len);
void			 rpc_batch_free(struct rpc_batch *);
/* Set an error on a call: code (enum rpc_code) with its message, reason and field (both
 * copied; field may be NULL). */
void			 rpc_set_error(struct rpc_call *, int code, const char *reason,
			    const char *field);
/* The response body (allocated) or NULL when nothing is to be sent (only notifications);
 * *status: 200, or 401 when credentials failed, 503 for a single overloaded or
 * database-unavailable call. */
char			*rpc_render(struct rpc_batch *, int *status);

#endif
