/* h_web.h: GET of the web console's files (web.h): 200 with the file, its type and ETag,
 * or 304 when If-None-Match names that ETag; 404 for a path that is no file of it (and
 * for every path when [server] web_root is empty). Every answer revalidates (no-cache). */
#ifndef FUND_H_WEB_H
#define FUND_H_WEB_H

struct http_req;

void	h_web(struct http_req *);

#endif
