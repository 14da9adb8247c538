/* h_web.c: the web console's files (h_web.h). */
#include <stdio.h>

#include "h_web.h"
#include "http.h"
#include "http_parse.h"
#include "http_reply.h"
#include "web.h"

void
h_web(struct http_req *r)
{
	const struct web_file	*f = web_find(web_console, http_req_path(r));
	const struct http_head	*hd = http_req_head(r);
	int			 gz;
	char			 extra[128];

	if (f == NULL) {
		http_reply_text(r, 404, "not found\n", NULL);
		return;
	}
	gz = f->gz != NULL && hd->accept_gzip;
	/* Vary: a cache must not give the gzip copy to a client that did not ask for it */
	snprintf(extra, sizeof(extra), "ETag: %s\r\n%s%s", gz ? f->gz_etag : f->etag,
	    f->gz != NULL ? "Vary: Accept-Encoding\r\n" : "",
	    gz ? "Content-Encoding: gzip\r\n" : "");
	if (web_etag_matches(hd->if_none_match, gz ? f->gz_etag : f->etag))
		http_reply_cache(r, 304, NULL, NULL, 0, "no-cache", extra);
	else if (gz)
		http_reply_cache(r, 200, f->ctype, f->gz, f->gzlen, "no-cache", extra);
	else
		http_reply_cache(r, 200, f->ctype, f->body, f->len, "no-cache", extra);
}
