/*
 * test_web.c: unit tests for the web console's files in memory (daemon/web.c): what a
 * folder's walk keeps (servable extensions, no dot files, nested folders), the ETag of a
 * file, finding "/" as index.html, If-None-Match lists, the gzip copy of a text file, and
 * the refusals of a missing root.
 */

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "web.h"

static char	root[64];

static void
put(const char *rel, const char *body)
{
	char	path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(body, 1, strlen(body), f), strlen(body));
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	char	path[256];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/fl-web-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/js", root);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/.git", root);
	assert_int_equal(mkdir(path, 0700), 0);
	put("index.html", "<!doctype html>");
	put("js/app.js", "export {};\n");
	put("README.md", "not served");
	put(".hidden.js", "not served");
	put(".git/x.js", "not served");
	put("abc.txt", "abc");
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_load_and_find(void **state)
{
	struct web		*w;
	const struct web_file	*f;
	char			*cause = NULL;

	(void)state;
	assert_non_null(w = web_load(root, &cause));
	assert_null(cause);
	assert_int_equal(w->n, 3);
	assert_int_equal(w->bytes, strlen("<!doctype html>") + strlen("export {};\n") + 3);
	assert_non_null(f = web_find(w, "/"));
	assert_string_equal(f->path, "/index.html");
	assert_string_equal(f->ctype, "text/html; charset=utf-8");
	assert_ptr_equal(web_find(w, "/index.html"), f);
	assert_non_null(f = web_find(w, "/js/app.js"));
	assert_string_equal(f->ctype, "text/javascript; charset=utf-8");
	assert_memory_equal(f->body, "export {};\n", f->len);
	/* the first 8 bytes of SHA-256("abc"), quoted */
	assert_non_null(f = web_find(w, "/abc.txt"));
	assert_string_equal(f->etag, "\"ba7816bf8f01cfea\"");
	assert_null(web_find(w, "/README.md"));
	assert_null(web_find(w, "/.hidden.js"));
	assert_null(web_find(w, "/.git/x.js"));
	assert_null(web_find(w, "/js"));
	assert_null(web_find(w, "/js/../index.html"));
	assert_null(web_find(w, ""));
	web_free(w);
	assert_null(web_find(NULL, "/"));
}

static void
test_missing_root(void **state)
{
	char	*cause = NULL;

	(void)state;
	assert_null(web_load("/nonexistent/fl-web", &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "/nonexistent/fl-web"));
	free(cause);
}

/* More files than WEB_MAX_FILES: refused, naming the limit, nothing kept. */
static void
test_too_many_files(void **state)
{
	char	name[32], *cause = NULL;
	int	i;

	(void)state;
	for (i = 0; i <= WEB_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "f%04d.txt", i);
		put(name, "x");
	}
	assert_null(web_load(root, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "1024 files"));
	free(cause);
}

static void
test_types(void **state)
{
	(void)state;
	assert_string_equal(web_ctype("a.css"), "text/css; charset=utf-8");
	assert_string_equal(web_ctype("hy.json"), "application/json");
	assert_string_equal(web_ctype("x.svg"), "image/svg+xml");
	assert_null(web_ctype("x.md"));
	assert_null(web_ctype(".js"));
	assert_null(web_ctype("js"));
	assert_null(web_ctype("x.js.orig"));
}

/* A text file that compresses has a gzip copy that inflates to it, with its own ETag; a
 * file too small to gain has none. */
static void
test_gzip_copy(void **state)
{
	struct web		*w;
	const struct web_file	*f;
	char			*cause = NULL, big[4096], out[4096];
	uLongf			 outlen = sizeof(out);
	z_stream		 z;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(big) - 1; i++)
		big[i] = "console "[i % 8];
	big[sizeof(big) - 1] = '\0';
	put("js/big.js", big);
	put("big.html", big);
	assert_non_null(w = web_load(root, &cause));
	assert_non_null(f = web_find(w, "/js/big.js"));
	assert_non_null(f->gz);
	assert_true(f->gzlen < f->len / 4);
	assert_memory_equal(f->gz, "\x1f\x8b", 2);	/* the gzip magic */
	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)f->gz;
	z.avail_in = (uInt)f->gzlen;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)outlen;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, f->len);
	assert_memory_equal(out, f->body, f->len);
	inflateEnd(&z);
	assert_int_equal(strlen(f->gz_etag), strlen(f->etag) + 3);
	assert_memory_equal(f->gz_etag, f->etag, strlen(f->etag) - 1);
	assert_string_equal(f->gz_etag + strlen(f->etag) - 1, "-gz\"");
	/* "abc" gains nothing from gzip */
	assert_non_null(f = web_find(w, "/abc.txt"));
	assert_null(f->gz);
	/* HTML is never compressed (BREACH) */
	assert_non_null(f = web_find(w, "/big.html"));
	assert_null(f->gz);
	web_free(w);
}

static void
test_etag_matches(void **state)
{
	const char	*e = "\"0123456789abcdef\"";

	(void)state;
	assert_true(web_etag_matches("\"0123456789abcdef\"", e));
	assert_true(web_etag_matches("W/\"0123456789abcdef\"", e));
	assert_true(web_etag_matches("\"x\", \"0123456789abcdef\" ", e));
	assert_true(web_etag_matches("*", e));
	assert_false(web_etag_matches("", e));
	assert_false(web_etag_matches("\"0123456789abcde\"", e));
	assert_false(web_etag_matches("0123456789abcdef", e));
	assert_false(web_etag_matches("\"x\",,", e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_and_find, setup, teardown),
		cmocka_unit_test(test_missing_root),
		cmocka_unit_test_setup_teardown(test_too_many_files, setup, teardown),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_etag_matches),
		cmocka_unit_test_setup_teardown(test_gzip_copy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
