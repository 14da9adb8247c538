/*
 * test_config.c: unit tests for daemon/config.c (README, Configuration).
 *
 * Every case writes a scratch INI file under /tmp (mkstemp), loads it with cfg_load() and
 * removes it. A successful load is always followed by cfg_free(); a failed one must leave
 * nothing allocated (the ASan flavour checks both).
 */

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#ifndef FUND_MIGRATIONS_DIR
#define FUND_MIGRATIONS_DIR "migrations"
#endif

/* The three required keys and nothing else. */
#define REQ_SERVER	"tls_cert = /etc/fund/server.crt\n" \
			"tls_key = /etc/fund/server.key\n"
#define REQ_DATABASE	"dsn = host=/tmp dbname=fund user=fund\n"
#define MINIMAL		"[server]\n" REQ_SERVER "[database]\n" REQ_DATABASE

/* Write text to a new file under /tmp; its name goes into path (at least 32 bytes). */
static void
write_tmp(const char *text, char *path)
{
	size_t	len = strlen(text);
	int	fd;

	strcpy(path, "/tmp/fundd-test-cfg-XXXXXX");
	fd = mkstemp(path);
	if (fd == -1)
		fail_msg("mkstemp: cannot create a scratch file");
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		fail_msg("write %s: short write", path);
	}
	close(fd);
}

/* cfg_load() on text; returns its result. On failure *cause is set (caller frees). */
static int
load_text(const char *text, struct cfg *c, char **cause)
{
	char	path[64];
	int	rc;

	*cause = NULL;
	write_tmp(text, path);
	rc = cfg_load(path, c, cause);
	unlink(path);
	return rc;
}

/* text must load; the caller inspects *c and then calls cfg_free(). */
static void
load_ok(const char *text, struct cfg *c)
{
	char	*cause = NULL;

	if (load_text(text, c, &cause) != 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", cause != NULL ? cause : "(no cause)");
		free(cause);
		fail_msg("load failed: %s\n--- input ---\n%s", msg, text);
	}
	assert_null(cause);
}

/* text must be refused with a cause containing every non-NULL needle. */
static void
load_refused(const char *text, const char *needle1, const char *needle2)
{
	struct cfg	 c;
	char		*cause = NULL;
	int		 rc;

	rc = load_text(text, &c, &cause);
	if (rc == 0) {
		cfg_free(&c);
		fail_msg("accepted, want a cause with '%s'\n--- input ---\n%s", needle1, text);
	}
	assert_int_equal(rc, -1);
	assert_non_null(cause);
	if (strchr(cause, '\n') != NULL) {
		free(cause);
		fail_msg("cause is not one line");
	}
	if ((needle1 != NULL && strstr(cause, needle1) == NULL) ||
	    (needle2 != NULL && strstr(cause, needle2) == NULL)) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", cause);
		free(cause);
		fail_msg("cause '%s' lacks '%s'%s%s", msg, needle1 != NULL ? needle1 : "",
		    needle2 != NULL ? " / " : "", needle2 != NULL ? needle2 : "");
	}
	/* a failed load leaves nothing behind */
	assert_null(c.listen);
	assert_null(c.tls_cert);
	assert_null(c.dsn);
	assert_null(c.log_level);
	free(cause);
}

/* The minimal file with one extra line in [server]. */
static void
server_line_refused(const char *line, const char *needle)
{
	char	text[1024];

	snprintf(text, sizeof(text), "[server]\n" REQ_SERVER "%s\n[database]\n" REQ_DATABASE,
	    line);
	load_refused(text, needle, NULL);
}

static void
server_line_ok(const char *line, struct cfg *c)
{
	char	text[1024];

	snprintf(text, sizeof(text), "[server]\n" REQ_SERVER "%s\n[database]\n" REQ_DATABASE,
	    line);
	load_ok(text, c);
}

/* ------------------------------------------------------------------ */

static void
test_defaults(void **state)
{
	struct cfg	c;

	(void)state;
	load_ok(MINIMAL, &c);
	assert_string_equal(c.tls_cert, "/etc/fund/server.crt");
	assert_string_equal(c.tls_key, "/etc/fund/server.key");
	assert_string_equal(c.dsn, "host=/tmp dbname=fund user=fund");
	assert_string_equal(c.listen, "127.0.0.1:8443");
	assert_string_equal(c.client_ca, "");
	assert_int_equal(c.max_connections, 1024);
	assert_int_equal(c.max_body_bytes, 1048576);
	assert_int_equal(c.max_header_bytes, 16384);
	assert_int_equal(c.io_timeout_s, 10);
	assert_int_equal(c.workers, 0);
	assert_int_equal(c.auth_cache_ms, 0);
	assert_string_equal(c.replica_dsn, "");
	assert_string_equal(c.migrations, FUND_MIGRATIONS_DIR);
	assert_int_equal(c.pool_size, 8);
	assert_int_equal(c.wait_queue, 256);
	assert_int_equal(c.batch_max, 16);
	assert_int_equal(c.writers, 1);
	assert_int_equal(c.write_stall_ms, 200);
	assert_int_equal(c.batch_one_statement, 1);
	assert_string_equal(c.signing_key, "");
	assert_int_equal(c.checkpoint_interval_s, 5);
	assert_string_equal(c.log_level, "info");
	assert_string_equal(c.log_format, "text");
	cfg_free(&c);
	/* cfg_free leaves NULLs behind, so a second call is harmless */
	assert_null(c.listen);
	assert_null(c.dsn);
	cfg_free(&c);
}

/* Every key set; an example with inline comments. */
static void
test_all_keys(void **state)
{
	struct cfg	c;

	(void)state;
	load_ok(
	    "; Fund Ledger\n"
	    "# also a comment\n"
	    "[server]\n"
	    "listen = 10.0.0.5:9443        ; host:port, [::1]:port allowed\n"
	    "tls_cert = config/dev/server.crt\n"
	    "tls_key = config/dev/server.key\n"
	    "client_ca = config/dev/ca.crt   ; optional: enables client-certificate login\n"
	    "max_connections = 2000\n"
	    "max_body_bytes = 2048\n"
	    "max_header_bytes = 4096\n"
	    "io_timeout_s = 30               ; slow or idle clients are cut after this\n"
	    "workers = 4                     ; event-loop threads; 0 = one per core\n"
	    "\n"
	    "[database]\n"
	    "dsn = host=/tmp port=5432 dbname=fund user=fund\n"
	    "migrate_dsn = host=/tmp dbname=fund user=owner\n"
	    "replica_dsn =                   ; optional: read-only methods may go here\n"
	    "migrations = /srv/fund/migrations\n"
	    "pool_size = 16\n"
	    "wait_queue = 0\n"
	    "\n"
	    "[audit]\n"
	    "signing_key = config/dev/audit-ed25519.pem\n"
	    "checkpoint_interval_s = 60\n"
	    "\n"
	    "[log]\n"
	    "level = debug                   ; debug|info|warn|error\n"
	    "format = json                   ; text|json\n", &c);
	assert_string_equal(c.listen, "10.0.0.5:9443");
	assert_string_equal(c.tls_cert, "config/dev/server.crt");
	assert_string_equal(c.tls_key, "config/dev/server.key");
	assert_string_equal(c.client_ca, "config/dev/ca.crt");
	assert_int_equal(c.max_connections, 2000);
	assert_int_equal(c.max_body_bytes, 2048);
	assert_int_equal(c.max_header_bytes, 4096);
	assert_int_equal(c.io_timeout_s, 30);
	assert_int_equal(c.workers, 4);
	assert_string_equal(c.dsn, "host=/tmp port=5432 dbname=fund user=fund");
	assert_string_equal(c.migrate_dsn, "host=/tmp dbname=fund user=owner");
	assert_string_equal(c.replica_dsn, "");
	assert_string_equal(c.migrations, "/srv/fund/migrations");
	assert_int_equal(c.pool_size, 16);
	assert_int_equal(c.wait_queue, 0);
	assert_string_equal(c.signing_key, "config/dev/audit-ed25519.pem");
	assert_int_equal(c.checkpoint_interval_s, 60);
	assert_string_equal(c.log_level, "debug");
	assert_string_equal(c.log_format, "json");
	cfg_free(&c);
}

static void
test_missing_required(void **state)
{
	(void)state;
	load_refused("[server]\ntls_key = k\n[database]\ndsn = d\n",
	    "missing required key", "[server] tls_cert");
	load_refused("[server]\ntls_cert = c\n[database]\ndsn = d\n",
	    "missing required key", "[server] tls_key");
	load_refused("[server]\n" REQ_SERVER, "missing required key", "[database] dsn");
	load_refused("[server]\n" REQ_SERVER "[database]\npool_size = 4\n",
	    "missing required key", "[database] dsn");
	/* an empty file misses the first of them */
	load_refused("", "missing required key", "[server] tls_cert");
	/* present but empty is no better */
	load_refused("[server]\ntls_cert =\ntls_key = k\n[database]\n" REQ_DATABASE,
	    "empty value for required key", "[server] tls_cert");
	load_refused("[server]\n" REQ_SERVER "[database]\ndsn =   ; nothing\n",
	    "empty value for required key", "[database] dsn");
	/* a required key in the wrong section is unknown there */
	load_refused("[server]\n" REQ_SERVER "dsn = d\n", "unknown key", "[server] dsn");
}

static void
test_unknown_key_and_section(void **state)
{
	(void)state;
	server_line_refused("max_conections = 10", "unknown key [server] max_conections");
	/* names are case-sensitive */
	server_line_refused("Listen = 127.0.0.1:1", "unknown key [server] Listen");
	load_refused(MINIMAL "[databse]\npool_size = 4\n", "unknown section [databse]",
	    NULL);
	load_refused(MINIMAL "[metrics]\nenabled = 1\n", "unknown section [metrics]", NULL);
	load_refused(MINIMAL "[bogus]\n", "unknown section [bogus]", NULL);
	/* a key before any section header */
	load_refused("listen = 127.0.0.1:1\n" MINIMAL, "key listen outside of a [section]", NULL);
	/* the cause carries the file's line number */
	load_refused(MINIMAL "[log]\nlevel = info\ncolour = yes\n", ":8: unknown key", NULL);
}

static void
test_duplicate_key(void **state)
{
	(void)state;
	server_line_refused("tls_cert = /other.crt", "duplicate key [server] tls_cert");
	load_refused(MINIMAL "[log]\nlevel = info\nlevel = info\n",
	    "duplicate key [log] level", NULL);
	/* a section may be reopened, but a key still appears once */
	load_refused(MINIMAL "[server]\ntls_key = /other.key\n",
	    "duplicate key [server] tls_key", NULL);
	load_refused(MINIMAL "[server]\nworkers = 1\nworkers = 2\n",
	    "duplicate key [server] workers", NULL);
}

static void
test_integers(void **state)
{
	struct cfg	c;

	(void)state;
	server_line_refused("max_connections = 0", "[server] max_connections");
	server_line_refused("max_connections = 100001", "[server] max_connections");
	server_line_refused("max_connections = 12abc", "[server] max_connections");
	server_line_refused("max_connections = abc", "[server] max_connections");
	server_line_refused("max_connections = -1", "[server] max_connections");
	server_line_refused("max_connections = 1.5", "[server] max_connections");
	server_line_refused("max_connections = 0x10", "[server] max_connections");
	server_line_refused("max_connections = 99999999999999999999999",
	    "[server] max_connections");
	server_line_refused("max_connections =", "[server] max_connections");
	server_line_refused("max_body_bytes = 255", "[server] max_body_bytes");
	server_line_refused("max_body_bytes = 67108865", "[server] max_body_bytes");
	server_line_refused("max_header_bytes = 1023", "[server] max_header_bytes");
	server_line_refused("io_timeout_s = 3601", "[server] io_timeout_s");
	server_line_refused("workers = 65", "[server] workers");
	server_line_refused("workers = -1", "[server] workers");
	server_line_refused("auth_cache_ms = -1", "[server] auth_cache_ms");
	server_line_refused("auth_cache_ms = 60001", "[server] auth_cache_ms");
	load_refused(MINIMAL "[database]\npool_size = 0\n", "[database] pool_size", NULL);
	load_refused(MINIMAL "[database]\npool_size = 513\n", "[database] pool_size", NULL);
	load_refused(MINIMAL "[database]\nwait_queue = 100001\n", "[database] wait_queue",
	    NULL);
	load_refused(MINIMAL "[database]\nbatch_max = 0\n", "[database] batch_max", NULL);
	load_refused(MINIMAL "[database]\nbatch_max = 33\n", "[database] batch_max", NULL);
	load_refused(MINIMAL "[database]\nwriters = 0\n", "[database] writers", NULL);
	load_refused(MINIMAL "[database]\nwriters = 513\n", "[database] writers", NULL);
	load_refused(MINIMAL "[database]\nwrite_stall_ms = 0\n", "[database] write_stall_ms",
	    NULL);
	load_refused(MINIMAL "[database]\nbatch_one_statement = 2\n",
	    "[database] batch_one_statement", NULL);
	load_refused(MINIMAL "[audit]\ncheckpoint_interval_s = 0\n",
	    "[audit] checkpoint_interval_s", NULL);
	load_refused(MINIMAL "[audit]\ncheckpoint_interval_s = 86401\n",
	    "[audit] checkpoint_interval_s", NULL);
	/* the message says what was wrong and what is allowed */
	server_line_refused("max_connections = 12abc",
	    "'12abc' is not an integer between 1 and 100000");

	/* the bounds themselves are allowed */
	server_line_ok("max_connections = 1", &c);
	assert_int_equal(c.max_connections, 1);
	cfg_free(&c);
	server_line_ok("max_connections = 100000", &c);
	assert_int_equal(c.max_connections, 100000);
	cfg_free(&c);
	server_line_ok("workers = 64", &c);
	assert_int_equal(c.workers, 64);
	cfg_free(&c);
	server_line_ok("max_body_bytes = 67108864", &c);
	assert_int_equal(c.max_body_bytes, 67108864);
	cfg_free(&c);
	load_ok(MINIMAL "[database]\npool_size = 512\nwait_queue = 0\n", &c);
	assert_int_equal(c.pool_size, 512);
	assert_int_equal(c.wait_queue, 0);
	cfg_free(&c);
}

static void
test_enums(void **state)
{
	struct cfg	c;
	static const char *const levels[] = { "debug", "info", "warn", "error" };
	char		text[512];
	size_t		i;

	(void)state;
	load_refused(MINIMAL "[log]\nlevel = loud\n", "[log] level", "'loud'");
	load_refused(MINIMAL "[log]\nlevel = INFO\n", "[log] level", NULL);
	load_refused(MINIMAL "[log]\nlevel = inf\n", "[log] level", NULL);
	load_refused(MINIMAL "[log]\nlevel = infos\n", "[log] level", NULL);
	load_refused(MINIMAL "[log]\nlevel = debug|info\n", "[log] level", NULL);
	load_refused(MINIMAL "[log]\nlevel =\n", "[log] level", NULL);
	load_refused(MINIMAL "[log]\nformat = xml\n", "[log] format", "text|json");
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		snprintf(text, sizeof(text), MINIMAL "[log]\nlevel = %s\nformat = json\n",
		    levels[i]);
		load_ok(text, &c);
		assert_string_equal(c.log_level, levels[i]);
		assert_string_equal(c.log_format, "json");
		cfg_free(&c);
	}
}

static void
test_listen(void **state)
{
	static const char *const good[] = {
		"127.0.0.1:8443", "[::1]:8443", "0.0.0.0:1", "10.1.2.3:65535",
		"[2001:db8::1]:443",
	};
	static const char *const bad[] = {
		"localhost", ":8443", "1.2.3.4:0", "1.2.3.4:70000", "1.2.3.4:", "1.2.3.4:80x",
		"1.2.3.4:-1", "::1:8443", "[::1]", "[::1]8443", "[]:8443", "[::1:8443",
		"1.2.3.4:99999999999999999999",
	};
	struct cfg	c;
	char		line[128];
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), "listen = %s", good[i]);
		server_line_ok(line, &c);
		assert_string_equal(c.listen, good[i]);
		cfg_free(&c);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "listen = %s", bad[i]);
		server_line_refused(line, "[server] listen");
	}
}

static void
test_comments_and_empty_values(void **state)
{
	struct cfg	c;

	(void)state;
	load_ok(
	    "[server]   ; the listener\n"
	    "; a whole-line comment\n"
	    "# another\n"
	    "  listen   =   127.0.0.1:9000   ; trailing comment\n"
	    REQ_SERVER
	    "client_ca =\n"
	    "[database]\n"
	    "dsn = host=/tmp dbname=fund;x   ; only ' ;' starts a comment\n"
	    "replica_dsn =\n"
	    "[audit]\n"
	    "signing_key =       ; none yet\n", &c);
	assert_string_equal(c.listen, "127.0.0.1:9000");
	assert_string_equal(c.client_ca, "");
	assert_string_equal(c.dsn, "host=/tmp dbname=fund;x");
	assert_string_equal(c.replica_dsn, "");
	assert_string_equal(c.signing_key, "");
	cfg_free(&c);

	/* an empty optional value replaces a non-empty default */
	load_ok(MINIMAL "migrations =\n", &c);
	assert_string_equal(c.migrations, "");
	cfg_free(&c);

	/* a line with no '=' is a syntax error, with its line number */
	load_refused(MINIMAL "[log]\nlevel\n", ":7: syntax error", NULL);
}

static void
test_migrate_dsn(void **state)
{
	struct cfg	c;

	(void)state;
	load_ok(MINIMAL, &c);
	assert_string_equal(c.migrate_dsn, c.dsn);
	assert_ptr_not_equal(c.migrate_dsn, c.dsn);	/* its own copy */
	cfg_free(&c);

	load_ok(MINIMAL "migrate_dsn =\n", &c);
	assert_string_equal(c.migrate_dsn, "host=/tmp dbname=fund user=fund");
	cfg_free(&c);

	load_ok(MINIMAL "migrate_dsn = host=/tmp dbname=fund user=owner\n", &c);
	assert_string_equal(c.migrate_dsn, "host=/tmp dbname=fund user=owner");
	assert_string_equal(c.dsn, "host=/tmp dbname=fund user=fund");
	cfg_free(&c);
}

/* Lines of any length are read whole, ';' inside a value included (libinih's 200-byte
 * buffer used to split them), and the first error is the one reported. */
static void
test_long_lines_and_first_error(void **state)
{
	char		text[2048], dsn[600], *cause = NULL, path[64];
	struct cfg	c;
	size_t		i;

	(void)state;
	for (i = 0; i < 500; i++)
		dsn[i] = "abcdefghij;"[i % 11];
	dsn[500] = '\0';
	memcpy(dsn, "host=/tmp_", 10);	/* no space before a ; */
	snprintf(text, sizeof(text), "[server]\n" REQ_SERVER "[database]\ndsn = %s\n", dsn);
	write_tmp(text, path);
	assert_int_equal(cfg_load(path, &c, &cause), 0);
	unlink(path);
	assert_string_equal(c.dsn, dsn);
	cfg_free(&c);

	load_refused(MINIMAL "[server]\nworkers = 99\nfoo = 1\n", "bad value for [server] workers",
	    NULL);
}

static void
test_nonexistent_file(void **state)
{
	struct cfg	 c;
	char		*cause = NULL;
	char		 path[64];

	(void)state;
	/* a name that was just free */
	write_tmp("", path);
	unlink(path);
	assert_int_equal(cfg_load(path, &c, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "cannot open config file"));
	assert_non_null(strstr(cause, path));
	assert_null(c.listen);
	assert_null(c.log_level);
	free(cause);

	cause = NULL;
	assert_int_equal(cfg_load("/tmp", &c, &cause), -1);
	assert_non_null(cause);
	free(cause);
}

/* A good load after failed ones: nothing carries over between calls. */
static void
test_reload_independent(void **state)
{
	struct cfg	c;

	(void)state;
	server_line_refused("max_connections = 0", "[server] max_connections");
	load_ok(MINIMAL "[log]\nlevel = warn\n", &c);
	assert_string_equal(c.log_level, "warn");
	assert_int_equal(c.max_connections, 1024);
	cfg_free(&c);
	load_ok(MINIMAL, &c);
	assert_string_equal(c.log_level, "info");
	cfg_free(&c);
}

/* Appends "[section] key;" to the 256-byte string arg. */
static void
collect(void *arg, const char *section, const char *key)
{
	char	*seen = arg;

	snprintf(seen + strlen(seen), 256 - strlen(seen), "[%s] %s;", section, key);
}

/* What SIGHUP cannot apply is named, key by key; what it applies, and what the serving
 * daemon never reads, is not. */
static void
test_restart_changes(void **state)
{
	struct cfg	a, b;
	char		seen[256] = "";

	(void)state;
	load_ok(MINIMAL, &a);
	assert_string_equal(a.log_file, "");
	load_ok(MINIMAL, &b);
	assert_int_equal(cfg_restart_changes(&a, &b, collect, seen), 0);
	cfg_free(&b);
	load_ok("[server]\ntls_cert = /etc/fund/other.crt\ntls_key = /etc/fund/other.key\n"
	    "listen = 127.0.0.1:9443\nworkers = 2\n"
	    "[database]\ndsn = host=/tmp dbname=fund user=fund password=x\n"
	    "migrate_dsn = host=/tmp dbname=fund user=owner\npool_size = 4\n"
	    "[log]\nlevel = debug\nfile = /var/log/fundd.log\n", &b);
	assert_int_equal(cfg_restart_changes(&a, &b, collect, seen), 5);
	assert_string_equal(seen, "[server] listen;[server] workers;[database] dsn;"
	    "[database] pool_size;[log] file;");
	cfg_free(&a);
	cfg_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_unknown_key_and_section),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_comments_and_empty_values),
		cmocka_unit_test(test_migrate_dsn),
		cmocka_unit_test(test_long_lines_and_first_error),
		cmocka_unit_test(test_nonexistent_file),
		cmocka_unit_test(test_reload_independent),
		cmocka_unit_test(test_restart_changes),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
