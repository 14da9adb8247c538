/*
 * log.h: leveled logging in text or JSON lines to stderr, or to a file ([log] file) with
 * the error lines also on stderr.
 *
 * Lines about a connection or request carry its peer and request id (log_req*).
 * Never pass a token, a key or a returnee's personal data to these functions.
 * fatal() appends strerror(errno), fatalx() does not; both exit(1) and are for
 * start-up only.
 */
#ifndef FUND_LOG_H
#define FUND_LOG_H

#include <stdarg.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

void	log_init(enum log_level, enum log_format);
void	log_set_level(enum log_level);
enum log_level log_get_level(void);
int	log_level_parse(const char *, enum log_level *);

/* Log to path (append, created 0640) instead of stderr; -1 with *cause. At start-up, before
 * the threads. */
int	log_open(const char *path, char **cause);
/* Open the file's name again (after a rename by logrotate), under the same descriptor;
 * safe while other threads log. 1 reopened, 0 no log file, -1 with *cause: the old file
 * stays in use. */
int	log_reopen(char **cause);
/* The log file's name, or NULL when logging to stderr. */
const char *log_file(void);
void	log_close(void);
/* Whether path could be opened for writing, without creating it (fundd check). */
int	log_file_check(const char *path, char **cause);

void	log_msg(enum log_level, const char *peer, const char *reqid, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
void	log_vmsg(enum log_level, const char *peer, const char *reqid, const char *fmt,
	    va_list);

#define log_debug(...)	log_msg(LOG_DEBUG, NULL, NULL, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, NULL, NULL, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_WARN, NULL, NULL, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_ERROR, NULL, NULL, __VA_ARGS__)
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void	fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
