/* metrics.c: request counters by method and outcome, a latency histogram, gauges. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_cache.h"
#include "methods.h"
#include "metrics.h"
#include "replica.h"
#include "rpc_error.h"
#include "throttle.h"
#include "tls.h"
#include "util.h"

/* outcome 0 is success, outcome 1 + i the error rpc_errors[i] */
#define NOUTCOMES	(1 + rpc_nerrors)

static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS	nitems(buckets)

static const int http_codes[] = { 200, 204, 400, 401, 403, 404, 405, 408, 411, 413, 414,
    431, 500, 501, 503, 505 };
#define NHTTP		nitems(http_codes)

static int			 nmeth;
static atomic_ulong		*rpc_counts;	/* (nmeth + 1) * NOUTCOMES */
static atomic_ulong		 hist[NBUCKETS + 1];
static atomic_ulong		 hist_sum_usec, hist_count;
static atomic_ulong		 http_counts[NHTTP];
static atomic_int		 conns_open;
static atomic_ulong		 conns_total, conns_rejected, accept_paused;
static atomic_ulong		 audit_chain_failures, audit_checkpoint_failures;
/* the last fl.ops_state() sample, under ops_lock; ops_at = 0: none yet */
static pthread_mutex_t		 ops_lock = PTHREAD_MUTEX_INITIALIZER;
static long long		 ops_head, ops_lag, ops_ckpt_seq;
static double			 ops_ckpt_at, ops_at;
static atomic_int		 audit_signing = 1;
static void			(*pool_source)(void *, struct pool_stats *);
static void			*pool_source_arg;

void
metrics_init(int nmethods)
{
	nmeth = nmethods;
	rpc_counts = xcalloc((size_t)(nmethods + 1) * NOUTCOMES, sizeof(*rpc_counts));
}

void
metrics_rpc(int method, int code, long long usec)
{
	size_t	o, b;
	int	i;

	if (code == RPC_OK)
		o = 0;
	else if ((i = rpc_error_index(code)) >= 0)
		o = 1 + (size_t)i;
	else	/* anything unforeseen counts as internal_error */
		o = 1 + (size_t)rpc_error_index(RPC_INTERNAL_ERROR);
	if (method < 0 || method >= nmeth)
		method = nmeth;
	atomic_fetch_add(&rpc_counts[(size_t)method * NOUTCOMES + o], 1);
	for (b = 0; b < NBUCKETS && (double)usec / 1e6 > buckets[b]; b++)
		;
	atomic_fetch_add(&hist[b], 1);
	atomic_fetch_add(&hist_sum_usec, (unsigned long)(usec < 0 ? 0 : usec));
	atomic_fetch_add(&hist_count, 1);
}

void
metrics_http(int status)
{
	size_t	i;

	for (i = 0; i < NHTTP; i++)
		if (http_codes[i] == status)
			atomic_fetch_add(&http_counts[i], 1);
}

void
metrics_conn_open(void)
{
	atomic_fetch_add(&conns_open, 1);
	atomic_fetch_add(&conns_total, 1);
}

void
metrics_conn_close(void)
{
	atomic_fetch_sub(&conns_open, 1);
}

void
metrics_conn_rejected(void)
{
	atomic_fetch_add(&conns_rejected, 1);
}

void
metrics_accept_paused(void)
{
	atomic_fetch_add(&accept_paused, 1);
}

void
metrics_audit_failure(int checkpoint)
{
	atomic_fetch_add(checkpoint ? &audit_checkpoint_failures : &audit_chain_failures, 1);
}

void
metrics_ops_sample(long long head_seq, long long chain_lag, long long checkpoint_seq,
    double checkpoint_at)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&ops_lock);
	ops_head = head_seq;
	ops_lag = chain_lag;
	ops_ckpt_seq = checkpoint_seq;
	ops_ckpt_at = checkpoint_at;
	ops_at = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	pthread_mutex_unlock(&ops_lock);
}

/* What operators watch beyond the request counters (docs/operations.md): kept in this
 * process, so that /metrics answers it while the database is down; the figures sampled
 * from the database say how old they are. */
static void
render_ops(struct evbuffer *b)
{
	struct timespec	ts;
	double		now, at, ckpt_at;
	long long	head, lag, ckpt_seq;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	evbuffer_add_printf(b,
	    "# HELP fundd_audit_chain_failures_total Audit chaining steps that failed.\n"
	    "# TYPE fundd_audit_chain_failures_total counter\n"
	    "fundd_audit_chain_failures_total %lu\n"
	    "# HELP fundd_audit_checkpoint_failures_total Signed checkpoints that could not be "
	    "made or stored.\n# TYPE fundd_audit_checkpoint_failures_total counter\n"
	    "fundd_audit_checkpoint_failures_total %lu\n"
	    "# HELP fundd_throttled Address and credential pairs whose requests are slowed "
	    "down now (auth_fail_limit).\n# TYPE fundd_throttled gauge\nfundd_throttled %d\n",
	    atomic_load(&audit_chain_failures), atomic_load(&audit_checkpoint_failures),
	    throttle_slowed());
	pthread_mutex_lock(&ops_lock);
	at = ops_at;
	head = ops_head;
	lag = ops_lag;
	ckpt_seq = ops_ckpt_seq;
	ckpt_at = ops_ckpt_at;
	pthread_mutex_unlock(&ops_lock);
	if (at == 0)
		return;		/* not sampled yet (or not worker 0's database) */
	evbuffer_add_printf(b,
	    "# HELP fundd_ops_sample_age_seconds Age of the figures below, read from the "
	    "database by worker 0 every few seconds (they stop changing while it is down).\n"
	    "# TYPE fundd_ops_sample_age_seconds gauge\nfundd_ops_sample_age_seconds %.3f\n"
	    "# HELP fundd_audit_chain_head_seq The last audit event the hash chain covers.\n"
	    "# TYPE fundd_audit_chain_head_seq gauge\nfundd_audit_chain_head_seq %lld\n"
	    "# HELP fundd_audit_chain_lag_events Audit seqs handed out past the chain's head: "
	    "events not chained yet.\n# TYPE fundd_audit_chain_lag_events gauge\n"
	    "fundd_audit_chain_lag_events %lld\n",
	    now - at, head, lag);
	if (ckpt_at >= 0)
		evbuffer_add_printf(b,
		    "# HELP fundd_audit_checkpoint_seq The seq of the last signed checkpoint.\n"
		    "# TYPE fundd_audit_checkpoint_seq gauge\nfundd_audit_checkpoint_seq %lld\n"
		    "# HELP fundd_audit_checkpoint_age_seconds Time since the last signed "
		    "checkpoint was signed (it grows while the database is down).\n"
		    "# TYPE fundd_audit_checkpoint_age_seconds gauge\n"
		    "fundd_audit_checkpoint_age_seconds %.3f\n", ckpt_seq, now - ckpt_at);
}

void
metrics_audit_signing(int ok)
{
	atomic_store(&audit_signing, ok != 0);
}

int
metrics_conns_open(void)
{
	return atomic_load(&conns_open);
}

void
metrics_set_pool_source(void (*fn)(void *, struct pool_stats *), void *arg)
{
	pool_source = fn;
	pool_source_arg = arg;
}

void
metrics_pool_stats(struct pool_stats *ps)
{
	memset(ps, 0, sizeof(*ps));
	if (pool_source != NULL)
		pool_source(pool_source_arg, ps);
}

/* The standby of [database] replica_dsn, when there is one (replica.h). */
static void
render_replica(struct evbuffer *b)
{
	struct replica_stats	s;

	replica_stats(&s);
	if (!s.configured)
		return;
	evbuffer_add_printf(b,
	    "# HELP fundd_replica_up 1 while the standby of replica_dsn is up and in recovery.\n"
	    "# TYPE fundd_replica_up gauge\nfundd_replica_up %d\n", s.up);
	if (s.lag_s >= 0)
		evbuffer_add_printf(b, "# HELP fundd_replica_lag_seconds How far the standby is "
		    "behind the primary: the time since the last commit it is known to have "
		    "replayed.\n# TYPE fundd_replica_lag_seconds gauge\n"
		    "fundd_replica_lag_seconds %.3f\n", s.lag_s);
	evbuffer_add_printf(b,
	    "# HELP fundd_replica_reads_total Reads answered by the standby.\n"
	    "# TYPE fundd_replica_reads_total counter\nfundd_replica_reads_total %lu\n"
	    "# HELP fundd_replica_fallbacks_total Reads sent to the primary because the "
	    "standby lags more than replica_max_lag_ms or is down.\n"
	    "# TYPE fundd_replica_fallbacks_total counter\n"
	    "fundd_replica_fallbacks_total{reason=\"lag\"} %lu\n"
	    "fundd_replica_fallbacks_total{reason=\"down\"} %lu\n"
	    "# HELP fundd_replica_primary_reads_total Reads sent to the primary because they "
	    "must see the latest commits.\n"
	    "# TYPE fundd_replica_primary_reads_total counter\n"
	    "fundd_replica_primary_reads_total{reason=\"consistent\"} %lu\n"
	    "fundd_replica_primary_reads_total{reason=\"own_write\"} %lu\n"
	    "fundd_replica_primary_reads_total{reason=\"principal_change\"} %lu\n",
	    s.reads, s.fallback_lag, s.fallback_down, s.pinned_consistent, s.pinned_write,
	    s.pinned_principals);
}

void
metrics_render(struct evbuffer *b, const struct pool_stats *ps)
{
	unsigned long	cum = 0;
	size_t		i, o;
	int		m;

	evbuffer_add_printf(b, "# HELP fundd_rpc_requests_total JSON-RPC calls by method "
	    "and outcome.\n# TYPE fundd_rpc_requests_total counter\n");
	for (m = 0; m <= nmeth; m++) {
		for (o = 0; o < NOUTCOMES; o++) {
			unsigned long v = atomic_load(&rpc_counts[(size_t)m * NOUTCOMES + o]);

			if (v == 0 && !(m < nmeth && o == 0))
				continue;
			evbuffer_add_printf(b, "fundd_rpc_requests_total{method=\"%s\","
			    "outcome=\"%s\"} %lu\n", m < nmeth ? method_name(m) : "_unknown",
			    o == 0 ? "ok" : rpc_errors[o - 1].label, v);
		}
	}
	evbuffer_add_printf(b, "# HELP fundd_rpc_duration_seconds Time from a call's "
	    "dispatch to its answer.\n# TYPE fundd_rpc_duration_seconds histogram\n");
	for (i = 0; i < NBUCKETS; i++) {
		cum += atomic_load(&hist[i]);
		evbuffer_add_printf(b, "fundd_rpc_duration_seconds_bucket{le=\"%g\"} %lu\n",
		    buckets[i], cum);
	}
	cum += atomic_load(&hist[NBUCKETS]);
	evbuffer_add_printf(b, "fundd_rpc_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
	evbuffer_add_printf(b, "fundd_rpc_duration_seconds_sum %.6f\n",
	    (double)atomic_load(&hist_sum_usec) / 1e6);
	evbuffer_add_printf(b, "fundd_rpc_duration_seconds_count %lu\n",
	    atomic_load(&hist_count));
	evbuffer_add_printf(b, "# HELP fundd_http_responses_total HTTP responses by status."
	    "\n# TYPE fundd_http_responses_total counter\n");
	for (i = 0; i < NHTTP; i++)
		evbuffer_add_printf(b, "fundd_http_responses_total{code=\"%d\"} %lu\n",
		    http_codes[i], atomic_load(&http_counts[i]));
	evbuffer_add_printf(b,
	    "# HELP fundd_connections_open Open client connections.\n"
	    "# TYPE fundd_connections_open gauge\nfundd_connections_open %d\n"
	    "# HELP fundd_connections_total Accepted client connections.\n"
	    "# TYPE fundd_connections_total counter\nfundd_connections_total %lu\n"
	    "# HELP fundd_connections_rejected_total Connections refused over "
	    "max_connections.\n# TYPE fundd_connections_rejected_total counter\n"
	    "fundd_connections_rejected_total %lu\n"
	    "# HELP fundd_db_pool_size Database connections configured.\n"
	    "# TYPE fundd_db_pool_size gauge\nfundd_db_pool_size %d\n"
	    "# HELP fundd_db_pool_up Database connections established.\n"
	    "# TYPE fundd_db_pool_up gauge\nfundd_db_pool_up %d\n"
	    "# HELP fundd_db_pool_in_use Database connections running a query.\n"
	    "# TYPE fundd_db_pool_in_use gauge\nfundd_db_pool_in_use %d\n"
	    "# HELP fundd_db_pool_waiting Queries waiting for a connection.\n"
	    "# TYPE fundd_db_pool_waiting gauge\nfundd_db_pool_waiting %d\n"
	    "# HELP fundd_db_batches_total Transactions that ran two or more mutations.\n"
	    "# TYPE fundd_db_batches_total counter\nfundd_db_batches_total %lu\n"
	    "# HELP fundd_db_batched_calls_total Mutations that ran in those transactions.\n"
	    "# TYPE fundd_db_batched_calls_total counter\nfundd_db_batched_calls_total %lu\n"
	    "# HELP fundd_db_batch_failures_total Batches rolled back and run again one call "
	    "at a time.\n# TYPE fundd_db_batch_failures_total counter\n"
	    "fundd_db_batch_failures_total %lu\n"
	    "# HELP fundd_db_read_only 1 while the database server refuses writes (a "
	    "standby, or default_transaction_read_only): calls get -32050 read_only.\n"
	    "# TYPE fundd_db_read_only gauge\nfundd_db_read_only %d\n"
	    "# HELP fundd_db_timeouts_total Statements cancelled by statement_timeout_ms or "
	    "lock_timeout_ms.\n# TYPE fundd_db_timeouts_total counter\n"
	    "fundd_db_timeouts_total{kind=\"statement\"} %lu\n"
	    "fundd_db_timeouts_total{kind=\"lock\"} %lu\n"
	    "# HELP fundd_accept_paused_total Times accepting connections stopped for a "
	    "while: no file descriptor left.\n# TYPE fundd_accept_paused_total counter\n"
	    "fundd_accept_paused_total %lu\n",
	    atomic_load(&conns_open), atomic_load(&conns_total),
	    atomic_load(&conns_rejected), ps->size, ps->healthy, ps->in_use, ps->waiting,
	    ps->batches, ps->batched, ps->batch_failed, ps->read_only > 0 ? 1 : 0,
	    ps->timeouts_statement, ps->timeouts_lock, atomic_load(&accept_paused));
	{
		unsigned long	hits, misses, flushes;
		int		on;

		auth_cache_stats(&hits, &misses, &flushes, &on);
		evbuffer_add_printf(b,
		    "# HELP fundd_auth_cache_hits_total system.whoami calls answered from the "
		    "credentials cache.\n# TYPE fundd_auth_cache_hits_total counter\n"
		    "fundd_auth_cache_hits_total %lu\n"
		    "# HELP fundd_auth_cache_misses_total system.whoami calls that asked the "
		    "database.\n# TYPE fundd_auth_cache_misses_total counter\n"
		    "fundd_auth_cache_misses_total %lu\n"
		    "# HELP fundd_auth_cache_flushes_total Times the credentials cache was "
		    "dropped.\n# TYPE fundd_auth_cache_flushes_total counter\n"
		    "fundd_auth_cache_flushes_total %lu\n"
		    "# HELP fundd_auth_cache_live 1 while the listener for principal changes "
		    "is listening and the cache may answer.\n"
		    "# TYPE fundd_auth_cache_live gauge\nfundd_auth_cache_live %d\n",
		    hits, misses, flushes, on);
	}
	render_replica(b);
	if (tls_cert_not_after() > 0)
		evbuffer_add_printf(b, "# HELP fundd_tls_cert_not_after_seconds When the server "
		    "certificate in use expires (its notAfter), Unix time.\n"
		    "# TYPE fundd_tls_cert_not_after_seconds gauge\n"
		    "fundd_tls_cert_not_after_seconds %lld\n", tls_cert_not_after());
	evbuffer_add_printf(b, "# HELP fundd_audit_signing 1 while [audit] signing_key may "
	    "sign checkpoints, 0 while the database refuses it (retired, or not one of its "
	    "signing keys).\n# TYPE fundd_audit_signing gauge\nfundd_audit_signing %d\n",
	    atomic_load(&audit_signing));
	evbuffer_add_printf(b, "# HELP fundd_worker_connections Open client connections by "
	    "worker (a new one goes to the worker with the fewest).\n"
	    "# TYPE fundd_worker_connections gauge\n");
	for (m = 0; m < ps->nworkers; m++)
		evbuffer_add_printf(b, "fundd_worker_connections{worker=\"%d\"} %d\n", m,
		    ps->worker_conns[m]);
	render_ops(b);
}
