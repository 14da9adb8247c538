/*
 * notify.h: the service manager's notification protocol (sd_notify(3), Debian's libsystemd):
 * readiness, reloading, stopping, status lines and watchdog pings (docs/operations.md).
 * Every call is a no-op when the daemon was not started with NOTIFY_SOCKET; none of them
 * fails the caller. Safe from any thread.
 */
#ifndef FUND_NOTIFY_H
#define FUND_NOTIFY_H

/* READY=1 with a STATUS= line: serving (also after a reload). */
void		notify_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* RELOADING=1 with MONOTONIC_USEC= (CLOCK_MONOTONIC) and a STATUS= line; READY=1 follows
 * once the reload is done. */
void		notify_reloading(void);
/* STOPPING=1 with a STATUS= line: draining before exit. */
void		notify_stopping(void);
/* A STATUS= line alone (the reason the daemon refuses to serve, say). */
void		notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* WATCHDOG=1: the daemon is alive. */
void		notify_watchdog(void);
/* How often to send WATCHDOG=1, in microseconds: half the interval the manager asked for
 * (WATCHDOG_USEC, for this process), or 0 when it asked for none. */
long long	notify_watchdog_period(void);

#endif
