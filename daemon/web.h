/*
 * web.h: the web console's files ([server] web_root, docs/web.md), read into memory once
 * at start, so that serving one never touches the disk from the event loop. Each file is
 * known by its path under the root ("/index.html", "/js/app.js"), with its type (by
 * extension; a file of any other extension is not served) and its ETag (the first 16 hex
 * digits of its SHA-256, quoted). A script, style sheet, JSON or SVG file also has a gzip
 * copy, made at start, served to a client that accepts it (its ETag ends in "-gz").
 */
#ifndef FUND_WEB_H
#define FUND_WEB_H

#include <stddef.h>

#define WEB_MAX_FILES	1024
#define WEB_MAX_BYTES	(32L * 1024 * 1024)	/* all files together */

struct web_file {
	char		*path;		/* "/js/app.js" */
	const char	*ctype;
	char		*body;
	size_t		 len;
	char		 etag[24];	/* "\"0123456789abcdef\"" */
	char		*gz;		/* gzip of body, or NULL (HTML, binary, or no smaller) */
	size_t		 gzlen;
	char		 gz_etag[28];	/* "\"0123456789abcdef-gz\"" */
};

struct web {
	struct web_file	*files;		/* sorted by path */
	size_t		 n;
	size_t		 bytes;
};

/* Read every servable file under root (dot files and directories skipped). Returns NULL
 * and sets *cause (allocated) when root cannot be read or holds too much. */
struct web		*web_load(const char *root, char **cause);
void			 web_free(struct web *);

/* The file of a request path ("/" is "/index.html"), or NULL. */
const struct web_file	*web_find(const struct web *, const char *path);

/* The Content-Type of a file name by its extension, or NULL when it is not served. */
const char		*web_ctype(const char *name);

/* Whether an If-None-Match value (a list of entity tags, or "*") names etag. */
int			 web_etag_matches(const char *if_none_match, const char *etag);

/* The console in use by the request handlers (set once before the workers start; NULL
 * when [server] web_root is empty). */
extern const struct web	*web_console;

#endif
