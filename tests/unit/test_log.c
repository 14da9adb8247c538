/*
 * test_log.c: unit tests for daemon/log.c's hold on repeated lines: a daemon that fails
 * the same way in a loop (accept() without a descriptor, a database refusing every
 * connection) writes a few lines a second, not a line per failure, and says how many it
 * held back; different lines are never held back by each other. And the log file: lines
 * go to it (errors also to stderr), a reopen after a rename goes on in a new file by the
 * same name, and a reopen that fails keeps the old one.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* The whole of a file (allocated; "" when it does not exist). */
static char *
slurp(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*buf;
	long	 n;

	if (f == NULL)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* stderr goes to a temporary file while fn runs; returns what was written (allocated). */
static char *
capture(void (*fn)(void))
{
	char	 path[] = "/tmp/test_log_XXXXXX", *buf;
	int	 fd = mkstemp(path), saved = dup(STDERR_FILENO);

	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	fn();
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(fd);
	buf = slurp(path);
	unlink(path);
	return buf;
}

static int
count(const char *hay, const char *needle)
{
	int	n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

static void
flood(void)
{
	int	i;

	for (i = 0; i < 1000; i++)
		log_warnx("worker 0: accept: Too many open files");
	for (i = 0; i < 3; i++)
		log_msg(LOG_INFO, "127.0.0.1:1", "req-a", "GET /healthz -> 200 (%d us)", 7);
	log_msg(LOG_INFO, "127.0.0.1:1", "req-b", "GET /healthz -> 200 (%d us)", 7);
}

static void
after_a_second(void)
{
	sleep(2);
	log_warnx("worker 0: accept: Too many open files");
}

static void
test_repeats_are_held_back_and_counted(void **state)
{
	char	*out;

	(void)state;
	log_init(LOG_DEBUG, LOG_TEXT);
	out = capture(flood);
	/* the flood: five lines, not a thousand */
	assert_int_equal(count(out, "accept: Too many open files"), 5);
	/* lines of other requests are other lines */
	assert_int_equal(count(out, "req=req-a"), 3);
	assert_int_equal(count(out, "req=req-b"), 1);
	free(out);
	/* the next one, a window later, says how many were held back */
	out = capture(after_a_second);
	assert_int_equal(count(out, "accept: Too many open files"), 1);
	assert_non_null(strstr(out, "(995 more like it suppressed)"));
	free(out);
}

static void
to_the_file(void)
{
	log_info("first line in the file");
	log_error("an error, also on stderr");
}

static void
test_log_file_reopen(void **state)
{
	char	 dir[] = "/tmp/test_log_dir_XXXXXX", path[128], rotated[128];
	char	*cause = NULL, *out, *a, *b;

	(void)state;
	log_init(LOG_INFO, LOG_TEXT);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fundd.log", dir);
	snprintf(rotated, sizeof(rotated), "%s/fundd.log.1", dir);
	assert_null(log_file());
	assert_int_equal(log_reopen(&cause), 0);	/* stderr: nothing to reopen */
	assert_int_equal(log_file_check(path, &cause), 0);
	assert_int_equal(log_open(path, &cause), 0);
	assert_string_equal(log_file(), path);

	out = capture(to_the_file);
	assert_null(strstr(out, "first line in the file"));
	assert_non_null(strstr(out, "an error, also on stderr"));
	free(out);
	a = slurp(path);
	assert_non_null(strstr(a, "first line in the file"));
	assert_non_null(strstr(a, "an error, also on stderr"));
	free(a);

	/* logrotate renames it, then SIGUSR1 */
	assert_int_equal(rename(path, rotated), 0);
	log_info("after the rename, before the reopen");
	assert_int_equal(log_reopen(&cause), 1);
	log_info("after the reopen");
	a = slurp(rotated);
	b = slurp(path);
	assert_non_null(strstr(a, "before the reopen"));
	assert_null(strstr(a, "after the reopen"));
	assert_non_null(strstr(b, "after the reopen"));
	assert_null(strstr(b, "first line"));
	free(a);
	free(b);

	/* a name that cannot be opened: the file in use stays */
	assert_int_equal(rename(path, rotated), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(log_file_check(path, &cause), -1);
	assert_non_null(strstr(cause, path));
	free(cause);
	cause = NULL;
	assert_int_equal(log_reopen(&cause), -1);
	assert_non_null(strstr(cause, path));
	free(cause);
	log_info("still in the renamed file");
	a = slurp(rotated);
	assert_non_null(strstr(a, "still in the renamed file"));
	free(a);

	log_close();
	assert_null(log_file());
	cause = NULL;
	assert_int_equal(log_open(path, &cause), -1);	/* a directory */
	assert_non_null(strstr(cause, "[log] file"));
	free(cause);
	rmdir(path);
	unlink(rotated);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeats_are_held_back_and_counted),
		cmocka_unit_test(test_log_file_reopen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
