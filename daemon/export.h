/*
 * export.h: GET /export/ledger and GET /export/audit, streamed straight from PostgreSQL (COPY ... TO STDOUT on a
 * dedicated non-blocking connection) to the client as a chunked response, with
 * back-pressure both ways: rows are read from PostgreSQL only while the client's output
 * buffer is below its high-water mark, so memory stays flat whatever the size.
 */
#ifndef FUND_EXPORT_H
#define FUND_EXPORT_H

struct conn;
struct export;

#define EXPORT_MAX_RUNNING	4	/* per daemon; past it 503 */

/* Start the export for c (authenticated and authorised already) from the request's query
 * string. 0 on success (the export owns the response from now on), else the HTTP status
 * to answer with and an allocated one-line *err. */
enum export_kind { EXPORT_LEDGER, EXPORT_AUDIT };

int	export_start(struct conn *, enum export_kind, const char *dsn, const char *query,
	    struct export **, char **err);
/* Stop and free (the connection is going away or is being reset). */
void	export_free(struct export *);

#endif
