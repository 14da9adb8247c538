/* web.c: the web console's files in memory (web.h). */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "util.h"
#include "web.h"

#define WEB_MAX_DEPTH	8

const struct web	*web_console;

static const struct {
	const char	*ext;
	const char	*ctype;
} web_types[] = {
	{ ".html",	"text/html; charset=utf-8" },
	{ ".js",	"text/javascript; charset=utf-8" },
	{ ".mjs",	"text/javascript; charset=utf-8" },
	{ ".css",	"text/css; charset=utf-8" },
	{ ".json",	"application/json" },
	{ ".svg",	"image/svg+xml" },
	{ ".png",	"image/png" },
	{ ".ico",	"image/x-icon" },
	{ ".txt",	"text/plain; charset=utf-8" },
	{ ".woff2",	"font/woff2" },
};

const char *
web_ctype(const char *name)
{
	size_t		 i, nl = strlen(name), el;

	for (i = 0; i < nitems(web_types); i++) {
		el = strlen(web_types[i].ext);
		if (nl > el && strcmp(name + nl - el, web_types[i].ext) == 0)
			return web_types[i].ctype;
	}
	return NULL;
}

/* A gzip copy of f's body when f is a script, style sheet, JSON or SVG file and the copy
 * is smaller (f->gz stays NULL otherwise). HTML is sent as it is: compression of an HTML
 * page is what BREACH attacks look for, and scanners flag it whatever the page holds (the
 * console's holds no secret; no answer of the API is ever compressed). */
static void
compress_file(struct web_file *f)
{
	z_stream	 z;
	uLong		 bound;
	char		*out;

	if (strncmp(f->ctype, "text/javascript", 15) != 0 &&
	    strncmp(f->ctype, "text/css", 8) != 0 && strcmp(f->ctype, "application/json") != 0 &&
	    strcmp(f->ctype, "image/svg+xml") != 0)
		return;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return;
	bound = deflateBound(&z, (uLong)f->len);
	out = xmalloc(bound);
	z.next_in = (Bytef *)f->body;
	z.avail_in = (uInt)f->len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out >= f->len) {
		deflateEnd(&z);
		free(out);
		return;
	}
	f->gz = out;
	f->gzlen = z.total_out;
	deflateEnd(&z);
	/* the copy's own entity tag: a cache holding one variant never validates the other */
	memcpy(f->gz_etag, f->etag, 17);
	memcpy(f->gz_etag + 17, "-gz\"", 5);
}

static int
cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct web_file *)a)->path, ((const struct web_file *)b)->path);
}

/* Read the file at fs (served as path) into w; -1 with *cause set. */
static int
add_file(struct web *w, const char *fs, const char *path, const char *ctype, off_t size,
    char **cause)
{
	struct web_file	*f;
	FILE		*fp;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;

	if (w->n >= WEB_MAX_FILES || size < 0 || (size_t)size > WEB_MAX_BYTES - w->bytes) {
		*cause = xasprintf("web_root holds more than %d files or %ld bytes", WEB_MAX_FILES,
		    WEB_MAX_BYTES);
		return -1;
	}
	if ((fp = fopen(fs, "rb")) == NULL) {
		*cause = xasprintf("%s: %s", fs, strerror(errno));
		return -1;
	}
	w->files = xrealloc(w->files, (w->n + 1) * sizeof(*w->files));
	f = &w->files[w->n];
	memset(f, 0, sizeof(*f));
	f->body = xmalloc((size_t)size + 1);
	f->len = fread(f->body, 1, (size_t)size, fp);
	if (ferror(fp) || f->len != (size_t)size) {
		*cause = xasprintf("%s: could not be read whole", fs);
		fclose(fp);
		free(f->body);
		return -1;
	}
	fclose(fp);
	f->path = xstrdup(path);
	f->ctype = ctype;
	if (!EVP_Digest(f->body, f->len, md, &mdlen, EVP_sha256(), NULL)) {
		*cause = xasprintf("%s: SHA-256 failed", fs);
		free(f->body);
		free(f->path);
		return -1;
	}
	f->etag[0] = '"';
	hex_encode(md, 8, f->etag + 1);
	f->etag[17] = '"';
	f->etag[18] = '\0';
	compress_file(f);
	w->n++;
	w->bytes += f->len;
	return 0;
}

/* Walk directory fs (served under prefix, "" for the root). */
static int
walk(struct web *w, const char *fs, const char *prefix, int depth, char **cause)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	char		*cfs, *cpath;
	const char	*ctype;
	int		 rc = 0;

	if (depth > WEB_MAX_DEPTH) {
		*cause = xasprintf("%s: nested deeper than %d", fs, WEB_MAX_DEPTH);
		return -1;
	}
	if ((d = opendir(fs)) == NULL) {
		*cause = xasprintf("web_root %s: %s", fs, strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		cfs = xasprintf("%s/%s", fs, e->d_name);
		cpath = xasprintf("%s/%s", prefix, e->d_name);
		if (stat(cfs, &st) == -1) {
			*cause = xasprintf("%s: %s", cfs, strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode))
			rc = walk(w, cfs, cpath, depth + 1, cause);
		else if (S_ISREG(st.st_mode) && (ctype = web_ctype(e->d_name)) != NULL)
			rc = add_file(w, cfs, cpath, ctype, st.st_size, cause);
		free(cfs);
		free(cpath);
	}
	closedir(d);
	return rc;
}

struct web *
web_load(const char *root, char **cause)
{
	struct web	*w = xcalloc(1, sizeof(*w));

	*cause = NULL;
	if (walk(w, root, "", 0, cause) == -1) {
		web_free(w);
		return NULL;
	}
	if (w->n > 0)
		qsort(w->files, w->n, sizeof(*w->files), cmp_path);
	return w;
}

void
web_free(struct web *w)
{
	size_t	i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n; i++) {
		free(w->files[i].path);
		free(w->files[i].body);
		free(w->files[i].gz);
	}
	free(w->files);
	free(w);
}

const struct web_file *
web_find(const struct web *w, const char *path)
{
	struct web_file	 key;

	if (w == NULL || w->n == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.path = (char *)(strcmp(path, "/") == 0 ? "/index.html" : path);
	return bsearch(&key, w->files, w->n, sizeof(*w->files), cmp_path);
}

int
web_etag_matches(const char *inm, const char *etag)
{
	const char	*p = inm, *s, *e;
	size_t		 el = strlen(etag);

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		s = p;
		while (*p != '\0' && *p != ',')
			p++;
		e = p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e - s == 1 && *s == '*')
			return 1;
		if (e - s >= 2 && strncmp(s, "W/", 2) == 0)	/* weak comparison */
			s += 2;
		if ((size_t)(e - s) == el && strncmp(s, etag, el) == 0)
			return 1;
	}
	return 0;
}
