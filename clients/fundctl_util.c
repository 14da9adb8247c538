/*
 * fundctl_util.c: allocation wrappers, growable buffer, error causes.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fundctl.h"

static FC_NORETURN void
oom(void)
{
	fputs("fundctl: out of memory\n", stderr);
	exit(FC_EXIT_FAIL);
}

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		oom();
	return p;
}

void *
xrealloc(void *old, size_t n)
{
	void	*p;

	if ((p = realloc(old, n == 0 ? 1 : n)) == NULL)
		oom();
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if (n == SIZE_MAX)
		oom();
	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvprintf(const char *fmt, va_list ap)
{
	va_list	 ap2;
	char	*p, probe[1];
	int	 n;

	/* Never NULL; saying so silences a GCC 12 false positive under
	 * -fsanitize=undefined -O1 (-Wformat-truncation). */
	if (fmt == NULL)
		fmt = "";
	va_copy(ap2, ap);
	n = vsnprintf(probe, sizeof probe, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		oom();
	p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
xprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*p;

	va_start(ap, fmt);
	p = xvprintf(fmt, ap);
	va_end(ap);
	return p;
}

int
fc_cause(char **cause, const char *fmt, ...)
{
	va_list	 ap;

	if (cause != NULL) {
		va_start(ap, fmt);
		*cause = xvprintf(fmt, ap);
		va_end(ap);
	}
	return -1;
}

void
fc_buf_reserve(struct fc_buf *b, size_t more)
{
	size_t	 need, cap;

	if (more > SIZE_MAX - b->len - 1)
		oom();
	need = b->len + more + 1;
	if (need <= b->cap)
		return;
	cap = b->cap == 0 ? 256 : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void
fc_buf_add(struct fc_buf *b, const void *p, size_t n)
{
	fc_buf_reserve(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
fc_buf_addf(struct fc_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvprintf(fmt, ap);
	va_end(ap);
	fc_buf_add(b, s, strlen(s));
	free(s);
}

void
fc_buf_free(struct fc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
fc_buf_wipe(struct fc_buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	fc_buf_free(b);
}

void
fc_put_clean(FILE *f, const char *s, size_t n, int keep_newlines)
{
	unsigned char	 c;
	size_t		 i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (keep_newlines && (c == '\n' || c == '\t'))
			putc(c, f);
		else if (c < 0x20 || c == 0x7f)
			putc('?', f);
		else
			putc(c, f);
	}
}

char *
fc_clean(const char *s, size_t n, size_t max)
{
	unsigned char	 c;
	size_t		 i;
	char		*p;
	int		 cut = n > max;

	if (cut) {
		n = max;
		/* Do not end inside a UTF-8 sequence (s[n] exists: cut). */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	p = xmalloc(n + 4);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '\n' || c == '\r' || c == '\t')
			p[i] = ' ';
		else if (c < 0x20 || c == 0x7f)
			p[i] = '?';
		else
			p[i] = (char)c;
	}
	p[i] = '\0';
	if (cut)
		memcpy(p + i, "...", 4);
	return p;
}
