/*
 * auth_cache.h: who is behind recently seen credentials, so that system.whoami answers
 * without a database round trip (docs/auth-cache.md).
 *
 * One table for the whole process, behind a mutex: credentials (a token's SHA-256, or a
 * client certificate's when there is no token) to the whoami answer the database gave
 * for them. Only successful answers are kept; anything else, and every other method,
 * goes to the database as before.
 *
 * The table is dropped whole ("flushed") whenever a principal may have changed:
 *   - at once in this daemon, when principal.revoke succeeds, before its answer is sent;
 *   - when the database notifies channel fl_principal, which a trigger on fl.principal
 *     does for every write (another daemon, fundd principal add, an operator's psql);
 *   - whenever the listener that receives those notifications is not connected and
 *     listening: then nothing is kept or answered from the table at all.
 * An entry also expires auth_cache_ms after the database gave it, whatever happens.
 *
 * A database answer may be older than a flush that happened while it was on its way:
 * callers take auth_cache_gen() before they send the query, and auth_cache_put() drops
 * the answer when a flush came in between.
 *
 * The same events tell the replica (replica.h) when principals last changed: a read is
 * not sent to a replica that may not have replayed that change yet, so that a revoked
 * token fails there as it does on the primary.
 */
#ifndef FUND_AUTH_CACHE_H
#define FUND_AUTH_CACHE_H

#include <event2/event.h>

#define AUTH_CACHE_SLOTS	1024	/* credentials kept; a new one replaces its slot's */
#define AUTH_CACHE_KEY		68	/* kind letter, "\\x" and 64 hex digits, NUL */

struct auth_listener;

/* ttl_ms: how long an entry lives; 0 turns the cache off (never answers, never keeps). */
void		 auth_cache_init(long ttl_ms);
int		 auth_cache_enabled(void);
/* Free every entry (at exit). */
void		 auth_cache_free(void);

/* The cache key of a request's credentials, as api.call() picks them: the token's hash
 * when there is one, else the certificate's. 0 when there are none. */
int		 auth_cache_key(const char *token_sha256, const char *cert_sha256,
		    char key[AUTH_CACHE_KEY]);
/* The stamp to take before sending the query whose answer may be put. */
unsigned long	 auth_cache_gen(void);
/* A copy (allocated) of the whoami answer kept for key, or NULL. */
char		*auth_cache_get(const char *key);
/* Keep json (copied) for key, unless a flush came after gen was taken. */
void		 auth_cache_put(const char *key, unsigned long gen, const char *json);
/* Drop every entry; reason is logged at debug level. */
void		 auth_cache_flush(const char *reason);

/* The listener is (1) or is not (0) listening: either way the table is flushed, and it
 * keeps and answers nothing while off. */
void		 auth_cache_live(int on, const char *reason);

/* When principals last changed, as now_usec(): the last flush, or now while the listener
 * is not listening (they may be changing unseen). Any thread. */
long long	 auth_principals_changed(void);

/* counters since start, for /metrics */
void		 auth_cache_stats(unsigned long *hits, unsigned long *misses,
		    unsigned long *flushes, int *live);

/*
 * The listener: one database connection on base (worker 0's loop) that LISTENs on
 * fl_principal and flushes the table for each notification. Until its LISTEN is
 * confirmed, and from the moment the connection fails, the table is off; it reconnects
 * with backoff. NULL when the cache is off, unless for_replica (the replica needs it).
 */
struct auth_listener	*auth_listener_start(struct event_base *base, const char *dsn,
			    int for_replica);
void			 auth_listener_free(struct auth_listener *);

#endif
