/*
 * test_routes.c: unit tests for the route table (daemon/h_routes.c) and for finding a
 * request's route in it (daemon/http_route.c): 404 for an unknown path, 405 with the
 * path's methods for a known path with another method, the web console's files for a GET
 * of any path no other route has.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "h_document.h"
#include "h_export.h"
#include "h_health.h"
#include "h_metrics.h"
#include "h_report.h"
#include "h_routes.h"
#include "h_rpc.h"
#include "h_web.h"
#include "http_route.h"

static const struct http_route *
find(const char *method, const char *path, int *status, char allow[HTTP_ALLOW_MAX])
{
	*status = 0;
	return http_route_find(h_routes, h_nroutes, method, path, status, allow);
}

/* Every route of the README's table, with its handler and flags. */
static void
test_served(void **state)
{
	static const struct {
		const char	*method, *path;
		void		(*handler)(struct http_req *);
		int		 flags;
	} want[] = {
		{ "POST", "/rpc", h_rpc, HTTP_R_LENGTH },
		{ "GET", "/healthz", h_health, HTTP_R_UNTHROTTLED },
		{ "GET", "/metrics", h_metrics, 0 },
		{ "GET", "/export/ledger", h_export_ledger, 0 },
		{ "GET", "/export/audit", h_export_audit, 0 },
		{ "GET", "/export/report", h_export_report, 0 },
		{ "POST", "/documents", h_document_put, HTTP_R_LENGTH | HTTP_R_DOCUMENT },
		{ "GET", "/documents/doc_1", h_document_get, HTTP_R_PREFIX },
		{ "GET", "/", h_web, HTTP_R_FALLBACK },
		{ "GET", "/js/app.js", h_web, HTTP_R_PREFIX | HTTP_R_FALLBACK },
	};
	const struct http_route	*r;
	char			 allow[HTTP_ALLOW_MAX];
	size_t			 i;
	int			 status;

	(void)state;
	assert_int_equal(h_nroutes, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		r = find(want[i].method, want[i].path, &status, allow);
		assert_non_null(r);
		assert_string_equal(r->method, want[i].method);
		if (want[i].flags & HTTP_R_PREFIX)
			assert_int_equal(strncmp(want[i].path, r->path, strlen(r->path)), 0);
		else
			assert_string_equal(r->path, want[i].path);
		assert_ptr_equal(r->handler, want[i].handler);
		assert_int_equal(r->flags, want[i].flags);
		assert_int_equal(status, 0);
	}
}

/* Each (method, path) once, every route complete. */
static void
test_table_well_formed(void **state)
{
	size_t	i, j;

	(void)state;
	for (i = 0; i < h_nroutes; i++) {
		assert_non_null(h_routes[i].handler);
		assert_true(strcmp(h_routes[i].method, "GET") == 0 ||
		    strcmp(h_routes[i].method, "POST") == 0);
		assert_true(h_routes[i].path[0] == '/');
		assert_int_equal(h_routes[i].flags & ~(HTTP_R_LENGTH | HTTP_R_UNTHROTTLED |
		    HTTP_R_PREFIX | HTTP_R_DOCUMENT | HTTP_R_FALLBACK), 0);
		for (j = i + 1; j < h_nroutes; j++)
			assert_false(strcmp(h_routes[i].method, h_routes[j].method) == 0 &&
			    strcmp(h_routes[i].path, h_routes[j].path) == 0 &&
			    (h_routes[i].flags & HTTP_R_PREFIX) ==
			    (h_routes[j].flags & HTTP_R_PREFIX));
	}
}

/* A path no route has: the web console's for a GET (which answers 404 for what is no file
 * of it), 404 for anything else. */
static void
test_not_found(void **state)
{
	static const char *const paths[] = {
		"/", "/rpc/", "/RPC", "/rpcx", "/export", "/export/", "/export/ledger/",
		"/healthz?x", "/metrics/x", "//rpc", "/documents/", "/documentsx",
	};
	const struct http_route	*r;
	char			 allow[HTTP_ALLOW_MAX];
	size_t			 i;
	int			 status;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		r = find("GET", paths[i], &status, allow);
		assert_non_null(r);
		assert_ptr_equal(r->handler, h_web);
		assert_null(find("POST", paths[i], &status, allow));
		assert_int_equal(status, 404);
		assert_string_equal(allow, "");
	}
	assert_null(find("GET", "", &status, allow));
	assert_int_equal(status, 404);
}

/* A fallback route is taken only when no other route has the path, whatever the order. */
static void
test_fallback(void **state)
{
	static void	(*const h1)(struct http_req *) = h_health;
	static void	(*const h2)(struct http_req *) = h_metrics;
	const struct http_route	 t[] = {
		{ "GET", "/", HTTP_R_PREFIX | HTTP_R_FALLBACK, h2 },
		{ "POST", "/x", HTTP_R_LENGTH, h1 },
		{ "GET", "/y", 0, h1 },
	};
	const struct http_route	*r;
	char			 allow[HTTP_ALLOW_MAX];
	int			 status = 0;

	(void)state;
	r = http_route_find(t, 3, "GET", "/y", &status, allow);
	assert_ptr_equal(r, &t[2]);
	assert_null(http_route_find(t, 3, "GET", "/x", &status, allow));
	assert_int_equal(status, 405);
	assert_string_equal(allow, "POST");
	r = http_route_find(t, 3, "GET", "/z", &status, allow);
	assert_ptr_equal(r, &t[0]);
	assert_null(http_route_find(t, 3, "POST", "/z", &status, allow));
	assert_int_equal(status, 404);
}

static void
test_method_not_allowed(void **state)
{
	char	allow[HTTP_ALLOW_MAX];
	int	status;

	(void)state;
	assert_null(find("GET", "/rpc", &status, allow));
	assert_int_equal(status, 405);
	assert_string_equal(allow, "POST");
	assert_null(find("PUT", "/rpc", &status, allow));
	assert_int_equal(status, 405);
	assert_string_equal(allow, "POST");
	assert_null(find("POST", "/healthz", &status, allow));
	assert_int_equal(status, 405);
	assert_string_equal(allow, "GET");
	assert_null(find("HEAD", "/metrics", &status, allow));
	assert_int_equal(status, 405);
	assert_string_equal(allow, "GET");
	/* methods are case-sensitive (RFC 9110) */
	assert_null(find("get", "/export/audit", &status, allow));
	assert_int_equal(status, 405);
	assert_string_equal(allow, "GET");
}

/* A path with several methods lists them all; the first route of a method wins. */
static void
test_several_methods(void **state)
{
	static void	(*const h1)(struct http_req *) = h_health;
	static void	(*const h2)(struct http_req *) = h_metrics;
	const struct http_route	 t[] = {
		{ "GET", "/x", 0, h1 },
		{ "POST", "/x", HTTP_R_LENGTH, h2 },
		{ "GET", "/x", 0, h2 },
		{ "GET", "/y", 0, h2 },
	};
	const struct http_route	*r;
	char			 allow[HTTP_ALLOW_MAX];
	int			 status = 0;

	(void)state;
	r = http_route_find(t, 4, "POST", "/x", &status, allow);
	assert_ptr_equal(r, &t[1]);
	r = http_route_find(t, 4, "GET", "/x", &status, allow);
	assert_ptr_equal(r, &t[0]);
	assert_null(http_route_find(t, 4, "PUT", "/x", &status, allow));
	assert_int_equal(status, 405);
	assert_string_equal(allow, "GET, POST, GET");
	assert_null(http_route_find(t, 0, "GET", "/x", &status, allow));
	assert_int_equal(status, 404);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_served),
		cmocka_unit_test(test_table_well_formed),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_method_not_allowed),
		cmocka_unit_test(test_several_methods),
		cmocka_unit_test(test_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
