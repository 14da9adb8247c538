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
/* monotonic clock in microseconds */
long long now_usec(void);

#endif
