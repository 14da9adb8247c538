/*
 * rpc_exec.h: running a parsed batch's ready calls on a pool, one after another, each as
 * one round trip (SELECT api.call(...)), or, for system.whoami, from the credentials cache
 * (auth_cache.h). A call with bad params is answered -32602 only after its credentials and
 * roles are checked (api.authorize).
 */
#ifndef FUND_RPC_EXEC_H
#define FUND_RPC_EXEC_H

#include "auth.h"

struct db_pool;
struct rpc_batch;
struct rpc_exec;

typedef void	(*rpc_done_cb)(void *arg);

/* Run b's ready calls with the request's credentials (copied); done(arg) is called once,
 * later, from the loop, unless rpc_exec_cancel() or rpc_exec_free() comes first. b stays
 * the caller's and must outlive the exec; its calls get their answers. */
struct rpc_exec	*rpc_exec_start(struct db_pool *, struct rpc_batch *b,
		    const struct auth_creds *, const char *reqid, const char *peer,
		    rpc_done_cb done, void *arg);
/* Stop: the running query's answer is dropped and done() will not be called. */
void		 rpc_exec_cancel(struct rpc_exec *);
void		 rpc_exec_free(struct rpc_exec *);

#endif
