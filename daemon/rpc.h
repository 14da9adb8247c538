/*
 * rpc.h: JSON-RPC 2.0 framing and execution.
 *
 * rpc_parse() turns a body into a batch of calls, each either ready to run (method found,
 * params valid) or already answered with an error; it is pure and fuzzed. rpc_exec_start()
 * runs the ready calls one after another, each as one round trip (SELECT api.call(...)),
 * then hands the batch back for rpc_render().
 */
#ifndef FUND_RPC_H
#define FUND_RPC_H

#include <cjson/cJSON.h>

#include "auth.h"

#define RPC_BATCH_MAX	100

struct db_pool;

struct rpc_call {
	cJSON			*id;		/* owned copy; NULL for a notification */
	int			 notification;
	int			 midx;		/* method index, -1 if none */
	const struct method	*m;
	cJSON			*params;	/* owned, without idempotency_key */
	char			*idem;		/* idempotency_key or NULL */
	cJSON			*result;	/* owned: success */
	cJSON			*error;		/* owned: error object */
	int			 code;		/* 0 or the error code */
	int			 retries;
	int			 authorized;	/* bad params: credentials checked first */
	unsigned long		 cache_gen;	/* M_WHOAMI: auth_cache_gen() when sent */
	long long		 t0;
	char			 token[AUTH_TOKEN_LEN + 1];	/* M_NEW_TOKEN, wiped */
};

struct rpc_batch {
	int		 is_array;
	int		 n;
	struct rpc_call	*calls;
	cJSON		*top_error;	/* a whole-body error (-32700, -32600 on the array) */
};

/* credentials of the HTTP request, as bytea text ("\\x..."), or "" */
struct rpc_auth {
	char	token_sha256[67];
	char	cert_sha256[67];
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

typedef void	(*rpc_done_cb)(void *arg);
struct rpc_exec;
/* Run the batch's ready calls; done(arg) is called once, later, from the loop, unless
 * rpc_exec_cancel() comes first. The batch stays owned by the caller. */
struct rpc_exec	*rpc_exec_start(struct db_pool *, struct rpc_batch *, const struct rpc_auth *,
		    const char *reqid, const char *peer, rpc_done_cb, void *arg);
void		 rpc_exec_cancel(struct rpc_exec *);
void		 rpc_exec_free(struct rpc_exec *);

#endif
