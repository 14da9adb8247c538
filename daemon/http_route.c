/* http_route.c: finding a request's route (http_route.h). */
#include <stdio.h>
#include <string.h>

#include "http_route.h"

const struct http_route *
http_route_find(const struct http_route *routes, size_t n, const char *method,
    const char *path, int *status, char allow[HTTP_ALLOW_MAX])
{
	const struct http_route	*fallback = NULL;
	size_t			 i, len = 0;

	allow[0] = '\0';
	for (i = 0; i < n; i++) {
		if ((routes[i].flags & HTTP_R_PREFIX) ? strncmp(routes[i].path, path,
		    strlen(routes[i].path)) != 0 || path[strlen(routes[i].path)] == '\0' :
		    strcmp(routes[i].path, path) != 0)
			continue;
		if (routes[i].flags & HTTP_R_FALLBACK) {
			if (fallback == NULL && strcmp(routes[i].method, method) == 0)
				fallback = &routes[i];
			continue;
		}
		if (strcmp(routes[i].method, method) == 0)
			return &routes[i];
		if (len < HTTP_ALLOW_MAX)
			len += (size_t)snprintf(allow + len, HTTP_ALLOW_MAX - len, "%s%s",
			    len > 0 ? ", " : "", routes[i].method);
	}
	if (allow[0] == '\0' && fallback != NULL)
		return fallback;
	*status = allow[0] != '\0' ? 405 : 404;
	return NULL;
}
