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
	char			 etag[64];

	if (f == NULL) {
		http_reply_text(r, 404, "not found\n", NULL);
		return;
	}
	snprintf(etag, sizeof(etag), "ETag: %s\r\n", f->etag);
	if (web_etag_matches(http_req_head(r)->if_none_match, f->etag))
		http_reply_cache(r, 304, NULL, NULL, 0, "no-cache", etag);
	else
		http_reply_cache(r, 200, f->ctype, f->body, f->len, "no-cache", etag);
}
