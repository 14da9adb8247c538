/*
 * notify.c: sd_notify(3) messages to the service manager. Each message is one datagram on
 * NOTIFY_SOCKET; libsystemd does nothing when the variable is unset. A message that cannot
 * be sent is logged at debug level and otherwise ignored: the manager's view is not worth
 * stopping the daemon for.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"
#include "util.h"

/* Send "head" and, when fmt is not NULL, "STATUS=" and the formatted text (one line). */
static void
notify_send(const char *head, const char *fmt, va_list ap)
{
	char	*status = NULL, *msg, *nl;
	int	 rc;

	if (fmt != NULL) {
		status = xvasprintf(fmt, ap);
		while ((nl = strchr(status, '\n')) != NULL)
			*nl = ' ';
	}
	if (status == NULL)
		msg = xstrdup(head);
	else if (head[0] == '\0')
		msg = xasprintf("STATUS=%s", status);
	else
		msg = xasprintf("%s\nSTATUS=%s", head, status);
	if ((rc = sd_notify(0, msg)) < 0)
		log_debug("sd_notify: %s", strerror(-rc));
	free(msg);
	free(status);
}

static void
notify_sendf(const char *head, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	notify_send(head, fmt, ap);
	va_end(ap);
}

void
notify_ready(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	notify_send("READY=1", fmt, ap);
	va_end(ap);
}

void
notify_status(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	notify_send("", fmt, ap);
	va_end(ap);
}

void
notify_reloading(void)
{
	char	head[64];

	snprintf(head, sizeof(head), "RELOADING=1\nMONOTONIC_USEC=%lld", now_usec());
	notify_sendf(head, "reloading the configuration");
}

void
notify_stopping(void)
{
	notify_sendf("STOPPING=1", "draining in-flight requests");
}

void
notify_watchdog(void)
{
	notify_sendf("WATCHDOG=1", NULL);
}

long long
notify_watchdog_period(void)
{
	uint64_t	usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return (long long)(usec / 2);
}
