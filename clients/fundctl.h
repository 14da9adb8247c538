/*
 * fundctl.h: definitions shared by every fundctl source file.
 *
 * fundctl is the thin command-line client of fundd (docs/protocol.md). It is
 * split by subsystem:
 *	fundctl.c	command line, environment, the `call`, `export`,
 *			`ledger` and `audit verify` commands
 *	fundctl_rpc.c	JSON-RPC params, request and response handling
 *	fundctl_http.c	HTTP/1.1 request and response framing (chunked too)
 *	fundctl_net.c	URL parsing, TCP connect with timeouts, TLS client
 *	fundctl_util.c	allocation wrappers, growable buffer, error causes
 *	fundctl_audit.c	the `audit verify` command: key, file, verdict
 *	fundctl_ledger.c the ledger's views as tables (`ledger trial-balance`)
 *	audit_verify.c	offline verifier of audit exports, without I/O
 *	audit_json.c	its strict parser of the export's JSON lines
 *	fundctl_close.c	the `ledger verify` command, and the files of
 *			`ledger export-close`
 *	close_verify.c	offline check of the CSV of a closed period against
 *			its proof, without I/O
 *
 * Conventions: functions that can fail return 0 or -1 and, on -1, hand back
 * an allocated one-line `cause` (free it). Allocation wrappers exit on
 * out-of-memory, so callers never test for NULL.
 */
#ifndef FUNDCTL_H
#define FUNDCTL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#ifndef FUNDCTL_VERSION
#ifdef FUND_VERSION
#define FUNDCTL_VERSION		FUND_VERSION	/* the Makefile's VERSION */
#else
#define FUNDCTL_VERSION		"0.1.0"
#endif
#endif
#define FUNDCTL_PROTOCOL	1

#define FC_DEFAULT_URL		"https://127.0.0.1:8443"
#define FC_DEFAULT_TIMEOUT_S	30
#define FC_MAX_TIMEOUT_S	86400

/* Exit codes. */
#define FC_EXIT_OK		0	/* success */
#define FC_EXIT_RPC		1	/* JSON-RPC error, or HTTP 401/403 */
#define FC_EXIT_BAD		1	/* audit verify: the export does not verify */
#define FC_EXIT_FAIL		2	/* usage or transport error */

#if defined(__GNUC__) || defined(__clang__)
#define FC_PRINTF(f, a)		__attribute__((format(printf, f, a)))
#define FC_NORETURN		__attribute__((noreturn))
#else
#define FC_PRINTF(f, a)
#define FC_NORETURN
#endif

/* Allocation wrappers: never return NULL (print and exit 2 instead). */
void	*xmalloc(size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xprintf(const char *, ...) FC_PRINTF(1, 2);
char	*xvprintf(const char *, va_list) FC_PRINTF(1, 0);

/* Set *cause (when cause is not NULL) to a newly allocated message and
 * return -1, so that failures read `return fc_cause(cause, "...");`. */
int	 fc_cause(char **cause, const char *, ...) FC_PRINTF(2, 3);

/* A growable byte buffer, always NUL-terminated (data[len] == '\0') once
 * anything has been added. */
struct fc_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};
/* Make room for `more` further bytes without reallocating later (so that
 * a secret added afterwards is never left behind by a realloc). */
void	 fc_buf_reserve(struct fc_buf *, size_t more);
void	 fc_buf_add(struct fc_buf *, const void *, size_t);
void	 fc_buf_addf(struct fc_buf *, const char *, ...) FC_PRINTF(2, 3);
void	 fc_buf_free(struct fc_buf *);
/* Like fc_buf_free, but first overwrites the contents: for buffers that
 * held a bearer token. */
void	 fc_buf_wipe(struct fc_buf *);

/* Write n bytes of untrusted text (server messages, bodies) to f with
 * control characters replaced by '?', so that a server cannot drive the
 * terminal. With keep_newlines, '\n' and '\t' pass through. */
void	 fc_put_clean(FILE *f, const char *s, size_t n, int keep_newlines);

/* A one-line printable copy of untrusted text: control characters become
 * '?' (line breaks and tabs a space), cut to max bytes with "..." added. */
char	*fc_clean(const char *s, size_t n, size_t max);

#endif /* FUNDCTL_H */
