/*
 * export.h: the ledger and audit exports, streamed straight from PostgreSQL (COPY ... TO
 * STDOUT on a dedicated non-blocking connection) to the client as a chunked response,
 * with back-pressure both ways: rows are read from PostgreSQL only while the client's
 * output buffer is below its high-water mark, so memory stays flat whatever the size.
 */
#ifndef FUND_EXPORT_H
#define FUND_EXPORT_H

struct http_req;

#define EXPORT_MAX_RUNNING	4	/* per daemon; past it 503 */

enum export_kind { EXPORT_LEDGER, EXPORT_AUDIT };

struct export_spec {
	enum export_kind	 kind;
	int			 csv;		/* the ledger as CSV (else JSON lines) */
	int			 recorded;	/* from/to select by recording time (else
						 * by value date) */
	char			 from[64];	/* the ledger's range, checked already: a date */
	char			 to[64];	/* or an RFC 3339 UTC time, or "" (unbounded) */
	int			 consistent;	/* from the primary, never the standby */
};

/* Start the export for r (authorised already) on a connection of its own, to the standby
 * or the primary as replica_pick() says (replica.h), dsn being the primary's; to the
 * primary when the standby cannot be reached. 0 once it started: r holds the export and
 * it answers r from now on. Otherwise the HTTP status to answer with (503) and an
 * allocated one-line *err. */
int	export_start(struct http_req *r, const struct export_spec *, const char *dsn,
	    char **err);

#endif
