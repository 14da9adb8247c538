/* metrics.h: process-wide counters (C11 atomics, any thread) and the Prometheus text. */
#ifndef FUND_METRICS_H
#define FUND_METRICS_H

#include <event2/buffer.h>

#define POOL_STATS_WORKERS	64	/* [server] workers is at most 64 */

struct pool_stats {
	int	in_use;
	int	waiting;
	int	healthy;
	int	size;
	unsigned long	batches;	/* of two or more mutations in one transaction */
	unsigned long	batched;	/* the mutations in them */
	unsigned long	batch_failed;	/* rolled back and run again one by one */
	int	read_only;		/* workers whose pool finds the server read-only */
	unsigned long	timeouts_statement;	/* statements cancelled by statement_timeout */
	unsigned long	timeouts_lock;		/* by lock_timeout */
	int	nworkers;
	int	worker_conns[POOL_STATS_WORKERS];	/* open client connections */
};

void	metrics_init(int nmethods);
/* method: index in the method table, or -1 for a call with no known method */
void	metrics_rpc(int method, int error_code, long long usec);
void	metrics_http(int status);
void	metrics_conn_open(void);
void	metrics_conn_close(void);
void	metrics_conn_rejected(void);
/* accepting stopped for a while: no file descriptor left (server.c) */
void	metrics_accept_paused(void);
/* whether [audit] signing_key may sign checkpoints (audit.c) */
void	metrics_audit_signing(int ok);
int	metrics_conns_open(void);
/* worker 0's audit runner: a chaining step or a checkpoint that failed */
void	metrics_audit_failure(int checkpoint);
/* worker 0's sample of fl.ops_state() (server.c): the chain's head and lag, the last
 * checkpoint's seq and time (Unix seconds; < 0: none yet) */
void	metrics_ops_sample(long long head_seq, long long chain_lag, long long checkpoint_seq,
	    double checkpoint_at);
void	metrics_render(struct evbuffer *, const struct pool_stats *);

/* Where the pools' gauges come from: fn(arg, out), which any thread may call. Set before
 * the workers start; NULL after they stopped. */
void	metrics_set_pool_source(void (*fn)(void *, struct pool_stats *), void *arg);
/* The pools' gauges now (all zero without a source). */
void	metrics_pool_stats(struct pool_stats *);

#endif
