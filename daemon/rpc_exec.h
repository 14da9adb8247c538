/*
 * rpc_exec.h: running a parsed batch's ready calls on a pool, one after another, each as
 * one round trip (SELECT api.call(...)), or, for system.whoami, from the credentials cache
 * (auth_cache.h). A call with bad params is answered -32602 only after its credentials and
 * roles are checked (api.authorize). A read goes to the standby when replica_pick() says
 * so (replica.h), and to the primary when the standby cannot answer it; everything that
 * writes goes to the primary.
 */
#ifndef FUND_RPC_EXEC_H
#define FUND_RPC_EXEC_H

#include "auth.h"

struct db_pool;
struct replica;
struct rpc_batch;
struct rpc_exec;

typedef void	(*rpc_done_cb)(void *arg);

/* Run b's ready calls with the request's credentials (copied), on the primary's pool and
 * the worker's replica (may be NULL); done(arg) is called once, later, from the loop,
 * unless rpc_exec_cancel() or rpc_exec_free() comes first. b stays the caller's and must
 * outlive the exec; its calls get their answers. */
struct rpc_exec	*rpc_exec_start(struct db_pool *, struct replica *, struct rpc_batch *b,
		    const struct auth_creds *, const char *reqid, const char *peer,
		    rpc_done_cb done, void *arg);
/* Stop: the running query's answer is dropped and done() will not be called. */
void		 rpc_exec_cancel(struct rpc_exec *);
void		 rpc_exec_free(struct rpc_exec *);

#endif
