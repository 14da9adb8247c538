/* util.h: allocation wrappers that abort on out-of-memory, and small string helpers. */
#ifndef FUND_UTIL_H
#define FUND_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* returns a newly allocated formatted string; never NULL */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
char	*xvasprintf(const char *, va_list);

/* lower-case hex of len bytes into out (2*len+1 bytes) */
void	 hex_encode(const unsigned char *, size_t, char *);
/* A private key file: 0 when st (of the file at path, opened or not) is a regular file
 * that neither group nor others may read or write; else -1 and a one-line *cause naming
 * what ("[server] tls_key") and the mode. */
struct stat;
int	 key_file_private(const struct stat *st, const char *what, const char *path,
	    char **cause);
/* monotonic clock in microseconds */
long long now_usec(void);

#endif
