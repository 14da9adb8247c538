/*
 * replica.h: reads on a streaming standby of the database ([database] replica_dsn;
 * docs/operations.md, "Read replicas").
 *
 * Each worker has a pool on the standby beside its pool on the primary, and asks
 * replica_pick() where a read goes. It goes to the standby when it may see there all it
 * must see:
 *   - the standby is up, and at most replica_max_lag_ms behind the primary;
 *   - the call did not ask for consistent: true;
 *   - its credentials made no mutation through this daemon that the standby may not have
 *     replayed yet (on any connection: a client that writes, then reads, sees its write);
 *   - no principal changed that the standby may not have replayed yet, so that a revoked
 *     token fails there as on the primary (auth_principals_changed(), auth_cache.h).
 * Otherwise it goes to the primary. Mutations, and the writes that reads cause (the
 * access events of personal data, the audit event of a refusal), always do.
 *
 * How far behind: worker 0 takes, every REPLICA_PROBE_MS, the time t and then the
 * primary's WAL flushed so far, P (pg_current_wal_flush_lsn(): shared memory, no write),
 * then the standby's replay position R (pg_last_wal_replay_lsn()). A commit is flushed
 * before it is answered (synchronous_commit on, PostgreSQL's default, which fundd's
 * calls keep), so once an R is at or past a P, every commit answered before its t is
 * visible on the standby: the standby "covers" t. Its lag is the time since the latest t
 * it covers, and a mutation answered at time w is visible there once it covers a t
 * after w. This needs no write of ours, and holds whether the primary is busy or idle.
 * A server found out of recovery (promoted) is not read, and every worker's pool leaves
 * it, seeking a standby again.
 *
 * Everything here runs on its worker's loop, but the counters and the shared state
 * (atomics), which any thread reads.
 */
#ifndef FUND_REPLICA_H
#define FUND_REPLICA_H

#include "auth.h"

struct db_pool;
struct db_pool_opts;
struct replica;

#define REPLICA_PROBE_MS	100	/* worker 0 measures the lag this often */

/* A worker's: with dsn empty, none (every read goes to primary); else a pool of size
 * connections on dsn, with po's other settings. measure: this worker (0) measures the
 * lag for all; it starts at once. */
struct replica	*replica_new(const struct db_pool_opts *po, struct db_pool *primary,
		    const char *dsn, int size, long max_lag_ms, int measure);
/* Stop measuring (draining); the round under way finishes. */
void		 replica_stop(struct replica *);
/* Free it and its pool (before the primary's pool, which its measure uses). */
void		 replica_free(struct replica *);

/* The pool on the standby, or NULL when there is none. */
struct db_pool	*replica_pool(struct replica *);
/* replica_dsn, or NULL when there is none. */
const char	*replica_dsn(struct replica *);

/* Where a read by creds goes: 1 the standby (replica_pool()), 0 the primary. The reads
 * sent to the primary are counted by why. */
int		 replica_pick(struct replica *, const struct auth_creds *, int consistent);
/* A read sent to the standby was answered there (served 1), or it could not be and goes
 * to the primary (served 0; down: because the standby did not answer, counted so). */
void		 replica_answered(int served, int down);
/* A mutation of creds was answered (committed, or maybe): their reads go to the primary
 * until the standby covers now. */
void		 replica_wrote(const struct auth_creds *);

struct replica_stats {
	int		 configured;
	int		 up;		/* worker 0's pool is up, on a server in recovery */
	double		 lag_s;		/* since the last time covered; < 0: none yet */
	unsigned long	 reads;		/* answered by the standby */
	unsigned long	 fallback_lag;	/* sent to the primary: the standby lags */
	unsigned long	 fallback_down;	/* the standby is down (or did not answer) */
	unsigned long	 pinned_consistent;	/* consistent: true */
	unsigned long	 pinned_write;	/* the credentials' own recent mutation */
	unsigned long	 pinned_principals;	/* a principal changed recently */
};

void		 replica_stats(struct replica_stats *);

#endif
