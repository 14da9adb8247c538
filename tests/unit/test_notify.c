/*
 * test_notify.c: unit tests for daemon/notify.c: each call sends one datagram of the
 * sd_notify(3) protocol to NOTIFY_SOCKET (a socket this test binds), with its STATUS= line
 * on one line; nothing is sent, and nothing fails, without NOTIFY_SOCKET; the watchdog
 * period is half of WATCHDOG_USEC, and none when it names another process.
 */

#include <sys/socket.h>
#include <sys/un.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify.h"

struct sock {
	int	fd;
	char	path[64];
};

static int
setup(void **state)
{
	static struct sock	s;
	struct sockaddr_un	sun;
	struct timeval		tv = { 2, 0 };

	snprintf(s.path, sizeof(s.path), "/tmp/test_notify_%ld.sock", (long)getpid());
	unlink(s.path);
	s.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s.fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, s.path);
	assert_int_equal(bind(s.fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	setenv("NOTIFY_SOCKET", s.path, 1);
	*state = &s;
	return 0;
}

static int
teardown(void **state)
{
	struct sock	*s = *state;

	unsetenv("NOTIFY_SOCKET");
	close(s->fd);
	unlink(s->path);
	return 0;
}

/* The next datagram, as a string (static). */
static const char *
next(struct sock *s)
{
	static char	buf[4096];
	ssize_t		n = recv(s->fd, buf, sizeof(buf) - 1, 0);

	assert_true(n > 0);
	buf[n] = '\0';
	return buf;
}

static void
test_ready_reloading_stopping(void **state)
{
	struct sock	*s = *state;
	const char	*m;
	long long	 usec;

	notify_ready("serving on https://%s (%d workers)", "127.0.0.1:8443", 2);
	assert_string_equal(next(s), "READY=1\nSTATUS=serving on https://127.0.0.1:8443 "
	    "(2 workers)");
	notify_reloading();
	m = next(s);
	assert_int_equal(sscanf(m, "RELOADING=1\nMONOTONIC_USEC=%lld\n", &usec), 1);
	assert_true(usec > 0);
	assert_non_null(strstr(m, "\nSTATUS=reloading the configuration"));
	notify_stopping();
	assert_string_equal(next(s), "STOPPING=1\nSTATUS=draining in-flight requests");
	notify_watchdog();
	assert_string_equal(next(s), "WATCHDOG=1");
}

/* A status of several lines would end the message's STATUS= early: it is one line. */
static void
test_status_is_one_line(void **state)
{
	struct sock	*s = *state;

	notify_status("refusing to serve: %s", "a\nREADY=1");
	assert_string_equal(next(s), "STATUS=refusing to serve: a READY=1");
}

static void
test_no_socket_no_message(void **state)
{
	struct sock	*s = *state;
	char		 buf[64];

	unsetenv("NOTIFY_SOCKET");
	notify_ready("x");
	notify_watchdog();
	setenv("NOTIFY_SOCKET", s->path, 1);
	assert_true(recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT) < 0);
}

static void
test_watchdog_period(void **state)
{
	char	pid[32];

	(void)state;
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(notify_watchdog_period(), 0);
	setenv("WATCHDOG_USEC", "3000000", 1);
	assert_int_equal(notify_watchdog_period(), 1500000);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_period(), 1500000);
	/* meant for another process (a parent's, inherited) */
	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_period(), 0);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_reloading_stopping),
		cmocka_unit_test(test_status_is_one_line),
		cmocka_unit_test(test_no_socket_no_message),
		cmocka_unit_test(test_watchdog_period),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
