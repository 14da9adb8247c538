/*
 * log.c: text or JSON log lines on stderr or in a file ([log] file), one write(2) per line
 * so threads don't interleave. The file is reopened under the same descriptor number
 * (dup3), so a thread writing during a reopen writes whole lines to the old file or to the
 * new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Repeated lines: at most LOG_REPEAT_MAX identical ones (same level, peer, request and
 * text) per LOG_REPEAT_S seconds; those past it are counted, and the next one let through
 * says how many were suppressed. A daemon that fails the same way in a loop must not
 * fill the disk. Kept per slot of a small table, by a hash of the line. */
#define LOG_REPEAT_MAX		5
#define LOG_REPEAT_S		1
#define LOG_REPEAT_SLOTS	256
#define LOG_FILE_MODE		0640	/* a new log file; the umask applies */

struct log_repeat {
	unsigned long	 hash;
	long long	 since;		/* start of its window, microseconds */
	unsigned	 n;		/* lines in the window */
	unsigned long	 suppressed;
};

static struct log_repeat	log_repeats[LOG_REPEAT_SLOTS];
static pthread_mutex_t		log_repeat_mtx = PTHREAD_MUTEX_INITIALIZER;

static _Atomic int	log_level_cur = LOG_INFO;
static enum log_format	log_fmt = LOG_TEXT;
static int		log_fd = -1;		/* the log file; -1 = stderr */
static char		*log_path;		/* its name, for log_reopen */

static const char *level_names[] = { "debug", "info", "warn", "error" };

void
log_init(enum log_level level, enum log_format fmt)
{
	log_level_cur = level;
	log_fmt = fmt;
}

void
log_set_level(enum log_level level)
{
	log_level_cur = level;
}

enum log_level
log_get_level(void)
{
	return (enum log_level)log_level_cur;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	int	i;

	for (i = 0; i < 4; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

/* An allocated message; aborts when out of memory, as util.h's x* functions do (log.c
 * comes before util.c, which logs). */
static char * __attribute__((format(printf, 1, 2)))
log_asprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

static int
log_file_open(const char *path, char **cause)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, LOG_FILE_MODE)) < 0)
		*cause = log_asprintf("[log] file: cannot open %s: %s", path, strerror(errno));
	return fd;
}

int
log_open(const char *path, char **cause)
{
	int	fd;

	if ((fd = log_file_open(path, cause)) < 0)
		return -1;
	if ((log_path = strdup(path)) == NULL)
		abort();
	log_fd = fd;
	return 0;
}

int
log_reopen(char **cause)
{
	int	fd;

	if (log_fd < 0)
		return 0;
	if ((fd = log_file_open(log_path, cause)) < 0)
		return -1;
	if (dup3(fd, log_fd, O_CLOEXEC) < 0) {
		*cause = log_asprintf("[log] file: cannot reopen %s: %s", log_path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 1;
}

const char *
log_file(void)
{
	return log_path;
}

void
log_close(void)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	free(log_path);
	log_path = NULL;
}

int
log_file_check(const char *path, char **cause)
{
	struct stat	 st;
	char		*copy, *dir;
	int		 rc;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			*cause = log_asprintf("[log] file: %s is a directory", path);
			return -1;
		}
		if ((rc = access(path, W_OK)) != 0)
			*cause = log_asprintf("[log] file: cannot write %s: %s", path,
			    strerror(errno));
		return rc;
	}
	if (errno != ENOENT) {
		*cause = log_asprintf("[log] file: %s: %s", path, strerror(errno));
		return -1;
	}
	if ((copy = strdup(path)) == NULL)
		abort();
	dir = dirname(copy);
	if ((rc = access(dir, W_OK | X_OK)) != 0)
		*cause = log_asprintf("[log] file: cannot create %s in %s: %s", path, dir,
		    strerror(errno));
	free(copy);
	return rc;
}

/* Append s to buf as a JSON string body (without quotes). */
static size_t
json_escape(char *buf, size_t off, size_t cap, const char *s)
{
	for (; *s != '\0' && off + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[off++] = '\\';
			buf[off++] = (char)c;
		} else if (c < 0x20) {
			off += (size_t)snprintf(buf + off, cap - off, "\\u%04x", c);
		} else
			buf[off++] = (char)c;
	}
	return off;
}

static size_t
addf(char *buf, size_t off, size_t cap, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (off >= cap)
		return off;
	va_start(ap, fmt);
	n = vsnprintf(buf + off, cap - off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return off;
	return off + (size_t)n >= cap ? cap - 1 : off + (size_t)n;
}

static unsigned long
hash_str(unsigned long h, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211UL;
	return (h ^ 0xff) * 1099511628211UL;
}

/* Whether this line may be written now; *suppressed: how many like it were not, since
 * the last one that was (0 when none). */
static int
log_repeat_ok(enum log_level level, const char *peer, const char *reqid, const char *msg,
    long long now, unsigned long *suppressed)
{
	unsigned long		 h = 14695981039346656037UL;
	struct log_repeat	*r;
	int			 ok;

	h = hash_str(h ^ (unsigned long)level, peer);
	h = hash_str(h, reqid);
	h = hash_str(h, msg);
	*suppressed = 0;
	pthread_mutex_lock(&log_repeat_mtx);
	r = &log_repeats[h % LOG_REPEAT_SLOTS];
	if (r->hash != h || now - r->since >= LOG_REPEAT_S * 1000000LL) {
		/* another line, or a new window: say what was held back of this one (another
		 * line's count in the slot is lost, a collision being rare) */
		if (r->hash == h)
			*suppressed = r->suppressed;
		r->hash = h;
		r->since = now;
		r->n = 0;
		r->suppressed = 0;
	}
	ok = r->n < LOG_REPEAT_MAX;
	if (ok)
		r->n++;
	else
		r->suppressed++;
	pthread_mutex_unlock(&log_repeat_mtx);
	return ok;
}

void
log_vmsg(enum log_level level, const char *peer, const char *reqid, const char *fmt,
    va_list ap)
{
	char		 msg[2048], line[4096], ts[96];
	struct timeval	 tv;
	struct tm	 tm;
	size_t		 off = 0, len;
	unsigned long	 suppressed;
	ssize_t		 n;
	char		*p;

	if ((int)level < log_level_cur)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	gettimeofday(&tv, NULL);
	if (!log_repeat_ok(level, peer, reqid, msg, (long long)tv.tv_sec * 1000000 +
	    tv.tv_usec, &suppressed))
		return;
	if (suppressed > 0 && (len = strlen(msg)) + 64 < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - len, " (%lu more like it suppressed)",
		    suppressed);
	/* one line per event: no embedded newlines */
	for (p = msg; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (int)(tv.tv_usec / 1000));
	if (log_fmt == LOG_JSON) {
		off = addf(line, off, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\"", ts,
		    level_names[level]);
		if (peer != NULL) {
			off = addf(line, off, sizeof(line), ",\"peer\":\"");
			off = json_escape(line, off, sizeof(line), peer);
			off = addf(line, off, sizeof(line), "\"");
		}
		if (reqid != NULL) {
			off = addf(line, off, sizeof(line), ",\"request_id\":\"");
			off = json_escape(line, off, sizeof(line), reqid);
			off = addf(line, off, sizeof(line), "\"");
		}
		off = addf(line, off, sizeof(line), ",\"msg\":\"");
		off = json_escape(line, off, sizeof(line), msg);
		off = addf(line, off, sizeof(line), "\"}\n");
	} else {
		off = addf(line, off, sizeof(line), "%s %-5s ", ts, level_names[level]);
		if (peer != NULL)
			off = addf(line, off, sizeof(line), "[%s] ", peer);
		if (reqid != NULL)
			off = addf(line, off, sizeof(line), "req=%s ", reqid);
		off = addf(line, off, sizeof(line), "%s\n", msg);
	}
	if (off > 0 && line[off - 1] != '\n')
		line[off - 1] = '\n';
	/* a line that cannot be written has nowhere else to go (kept in n, not cast away:
	 * _FORTIFY_SOURCE's warn_unused_result) */
	n = write(log_fd >= 0 ? log_fd : STDERR_FILENO, line, off);
	/* errors also where a person starting fundd, or journald, sees them */
	if (log_fd >= 0 && level == LOG_ERROR)
		n = write(STDERR_FILENO, line, off);
	(void)n;
}

void
log_msg(enum log_level level, const char *peer, const char *reqid, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(level, peer, reqid, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	char	msg[1024];
	int	saved = errno;
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_WARN, NULL, NULL, "%s: %s", msg, strerror(saved));
}

void
fatal(const char *fmt, ...)
{
	char	msg[1024];
	int	saved = errno;
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_ERROR, NULL, NULL, "fatal: %s: %s", msg, strerror(saved));
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_ERROR, NULL, NULL, "fatal: %s", msg);
	exit(1);
}
