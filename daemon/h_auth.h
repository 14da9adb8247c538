/*
 * h_auth.h: the credentials and roles of a request, checked before its handler goes on.
 * A request without usable credentials is refused 401 once api.authorize() has audited
 * the refusal; a request for /metrics or an export must also hold one of the roles its
 * route needs, which api.authorize() checks (and audits when it refuses).
 */
#ifndef FUND_H_AUTH_H
#define FUND_H_AUTH_H

struct http_req;

/*
 * Go on with next(r) once r's credentials are known to be good for one of the roles that
 * what needs (check_roles 1: the database checks them against fl.method, which holds
 * methods.c's endpoint table), or, with check_roles 0, as soon as r has credentials at
 * all, which its handler then checks itself (JSON-RPC checks them with each call).
 * Otherwise r is answered 401, 403, 503 or 500 with a JSON-RPC error body. what: the
 * request, as its audit event and fl.method name it ("http.metrics").
 */
void	h_auth_require(struct http_req *r, const char *what, int check_roles,
	    void (*next)(struct http_req *));

#endif
