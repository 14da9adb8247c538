/*
 * config.c: one declarative table of keys with types, bounds and defaults, and a small INI
 * lexer of our own. (Debian's libinih is built with a 200-byte line buffer that splits longer
 * lines, so a long dsn could be silently cut at a ';'; and it keeps parsing after an error.)
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <event2/util.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "util.h"

#ifndef FUND_WEB_ROOT
#define FUND_WEB_ROOT "clients/web"
#endif
#ifndef FUND_MIGRATIONS_DIR
#define FUND_MIGRATIONS_DIR "migrations"
#endif

enum cfg_type { CFG_STR, CFG_INT, CFG_ENUM, CFG_LISTEN };

#define CFG_UNUSED	2	/* reloadable: a key only the commands read (migrate) */

struct cfg_key {
	const char	*section;
	const char	*name;
	enum cfg_type	 type;
	size_t		 off;
	const char	*def;		/* NULL = required */
	long		 min, max;	/* CFG_INT bounds */
	const char	*choices;	/* CFG_ENUM: "a|b|c" */
	int		 reloadable;	/* 1: SIGHUP applies it; 0: read at start only;
					 * CFG_UNUSED: the serving daemon never reads it */
	const char	*help;
};

#define S(f)	offsetof(struct cfg, f)
static const struct cfg_key cfg_keys[] = {
	{ "server", "listen", CFG_LISTEN, S(listen), "127.0.0.1:8443", 0, 0, NULL, 0,
	  "host:port to listen on; [::1]:port for IPv6" },
	{ "server", "tls_cert", CFG_STR, S(tls_cert), NULL, 0, 0, NULL, 1,
	  "PEM server certificate (chain); reloaded on SIGHUP" },
	{ "server", "tls_key", CFG_STR, S(tls_key), NULL, 0, 0, NULL, 1,
	  "PEM private key of tls_cert; reloaded on SIGHUP" },
	{ "server", "client_ca", CFG_STR, S(client_ca), "", 0, 0, NULL, 1,
	  "PEM CA for client certificates; empty disables certificate login" },
	{ "server", "max_connections", CFG_INT, S(max_connections), "1024", 1, 100000, NULL, 0,
	  "open connections across all workers; past it new ones get 503" },
	{ "server", "max_body_bytes", CFG_INT, S(max_body_bytes), "1048576", 256, 67108864,
	  NULL, 0, "largest request body; larger gets 413" },
	{ "server", "max_document_bytes", CFG_INT, S(max_document_bytes), "10485760", 1024,
	  1073741824, NULL, 0, "largest document POST /documents takes (PDF, PNG or JPEG); a larger one is refused 413 before it is read" },
	{ "server", "max_header_bytes", CFG_INT, S(max_header_bytes), "16384", 1024, 1048576,
	  NULL, 0, "largest request line plus headers; larger gets 431" },
	{ "server", "io_timeout_s", CFG_INT, S(io_timeout_s), "10", 1, 3600, NULL, 0,
	  "whole-request deadline: a request (or an idle keep-alive) not complete by then is cut" },
	{ "server", "auth_fail_limit", CFG_INT, S(auth_fail_limit), "10", 0, 100000, NULL, 0,
	  "failed authentications from one address before its requests are slowed down (100 ms, doubling up to 5 s); 0 = never" },
	{ "server", "auth_cache_ms", CFG_INT, S(auth_cache_ms), "0", 0, 60000, NULL, 0,
	  "how long system.whoami may answer from memory for credentials the database accepted (0 = never: always ask the database); a change to a principal drops it at once here, and in other daemons on the same database when its notification reaches them, milliseconds later (docs/auth-cache.md)" },
	{ "server", "metrics_token_sha256", CFG_STR, S(metrics_token_sha256), "", 0, 0, NULL, 0,
	  "SHA-256 (64 hex digits) of a bearer token that may read /metrics without the database (fundd metrics-token makes one); empty = /metrics only for the principals the database authorizes" },
	{ "server", "workers", CFG_INT, S(workers), "0", 0, 64, NULL, 0,
	  "event-loop threads, each with its own listener (SO_REUSEPORT) and pool; 0 = one per core" },
	{ "server", "web_root", CFG_STR, S(web_root), FUND_WEB_ROOT, 0, 0, NULL, 0,
	  "folder of the web console's files, served at / (read once at start); empty serves none" },
	{ "database", "dsn", CFG_STR, S(dsn), NULL, 0, 0, NULL, 0,
	  "libpq connection string of the daemon's role" },
	{ "database", "migrate_dsn", CFG_STR, S(migrate_dsn), "", 0, 0, NULL, CFG_UNUSED,
	  "connection string of the schema owner for migrate and principal add; empty = dsn" },
	{ "database", "replica_dsn", CFG_STR, S(replica_dsn), "", 0, 0, NULL, 0,
	  "libpq connection string of a streaming standby of dsn's database that serves the reads and exports; empty = every read on dsn (docs/operations.md, Read replicas)" },
	{ "database", "replica_pool_size", CFG_INT, S(replica_pool_size), "0", 0, 512, NULL, 0,
	  "connections to replica_dsn of the whole daemon, split evenly across workers (at least one each); 0 = pool_size" },
	{ "database", "replica_max_lag_ms", CFG_INT, S(replica_max_lag_ms), "1000", 200,
	  3600000, NULL, 0, "how far behind the primary the replica may be for reads to go to it; further behind, or down, they go to the primary" },
	{ "database", "migrations", CFG_STR, S(migrations), FUND_MIGRATIONS_DIR, 0, 0, NULL, 0,
	  "directory of the versioned NNNN_name.sql migrations, with the repeatable files in functions/" },
	{ "database", "pool_size", CFG_INT, S(pool_size), "8", 1, 512, NULL, 0,
	  "database connections of the whole daemon, split evenly across workers (fewer workers if pool_size < workers)" },
	{ "database", "wait_queue", CFG_INT, S(wait_queue), "256", 0, 100000, NULL, 0,
	  "queries waiting for a connection, per worker; past it calls get -32029" },
	{ "database", "batch_max", CFG_INT, S(batch_max), "16", 1, 32, NULL, 0,
	  "mutations waiting at the same time that may share one transaction and commit; 1 = never batch" },
	{ "database", "writers", CFG_INT, S(writers), "1", 1, 512, NULL, 0,
	  "connections of each worker that may run mutations at once; the others queue for the next batch" },
	{ "database", "write_stall_ms", CFG_INT, S(write_stall_ms), "200", 1, 3600000, NULL, 0,
	  "milliseconds after which a running batch of mutations no longer holds back the next" },
	{ "database", "batch_one_statement", CFG_INT, S(batch_one_statement), "1", 0, 1, NULL,
	  0, "1 = a batch of mutations is one statement, and its receipts and approvals are written as sets; 0 = one statement per mutation" },
	{ "database", "statement_timeout_ms", CFG_INT, S(statement_timeout_ms), "5000", 0,
	  3600000, NULL, 0, "statement_timeout of the pool's connections: a call running longer is cancelled and answered -32050 (reason timeout); exports have none; 0 = none" },
	{ "database", "lock_timeout_ms", CFG_INT, S(lock_timeout_ms), "2000", 0, 3600000, NULL,
	  0, "lock_timeout of the pool's connections: a call waiting longer for a lock is cancelled and answered -32050 (reason timeout); 0 = none" },
	{ "audit", "signing_key", CFG_STR, S(signing_key), "", 0, 0, NULL, 0,
	  "PEM Ed25519 private key that signs audit checkpoints (mode 600) while it is the database's current signing key; needed to serve" },
	{ "audit", "checkpoint_interval_s", CFG_INT, S(checkpoint_interval_s), "5", 1, 86400,
	  NULL, 0, "seconds between signed audit checkpoints" },
	{ "audit", "chain_interval_ms", CFG_INT, S(chain_interval_ms), "200", 0, 60000,
	  NULL, 0, "milliseconds between rounds of the audit hash chain; 0 pauses it (benchmarks only)" },
	{ "privacy", "key_file", CFG_STR, S(key_file), "", 0, 0, NULL, 0,
	  "file of the key-encryption key of returnees' personal data: 64 hex digits, mode 600 (fundd privacy new-key FILE); needed to serve and migrate (docs/privacy.md)" },
	{ "privacy", "old_key_files", CFG_STR, S(old_key_files), "", 0, 0, NULL, 0,
	  "earlier key-encryption keys (space-separated files) that still unwrap data keys until a key rotation is done; new data keys are wrapped under key_file" },
	{ "privacy", "retention_years", CFG_INT, S(retention_years), "5", 1, 100, NULL, 0,
	  "years after a returnee's last grant closed (or, without grants, after registration) when their personal data is due for erasure (privacy.due)" },
	{ "privacy", "erase_due", CFG_ENUM, S(erase_due), "auto", 0, 0, "auto|manual", 0,
	  "auto: worker 0 erases who is due; manual: they wait for two administrators (returnee.erase, returnee.erase_confirm)" },
	{ "privacy", "erase_interval_s", CFG_INT, S(erase_interval_s), "3600", 1, 86400, NULL,
	  0, "seconds between worker 0's rounds of erasing who is due (erase_due = auto)" },
	{ "privacy", "report_min_cell", CFG_INT, S(report_min_cell), "5", 1, 1000, NULL, 0,
	  "fewest beneficiaries a cell of report.grants may describe when a partner reads it; smaller cells are suppressed" },
	{ "log", "level", CFG_ENUM, S(log_level), "info", 0, 0, "debug|info|warn|error", 1,
	  "least severe level written; reloaded on SIGHUP" },
	{ "log", "format", CFG_ENUM, S(log_format), "text", 0, 0, "text|json", 0,
	  "text lines or one JSON object per line" },
	{ "log", "file", CFG_STR, S(log_file), "", 0, 0, NULL, 0,
	  "file the log is appended to, reopened on SIGUSR1 (logrotate); empty = stderr (journald)" },
};
#undef S

struct cfg_parse {
	struct cfg	*cfg;
	char		 seen[nitems(cfg_keys)];
	char		*cause;
};

static char **
str_slot(struct cfg *c, const struct cfg_key *k)
{
	return (char **)(void *)((char *)c + k->off);
}

static long *
int_slot(struct cfg *c, const struct cfg_key *k)
{
	return (long *)(void *)((char *)c + k->off);
}

static char *const *
const_str_slot(const struct cfg *c, const struct cfg_key *k)
{
	return (char *const *)(const void *)((const char *)c + k->off);
}

static const long *
const_int_slot(const struct cfg *c, const struct cfg_key *k)
{
	return (const long *)(const void *)((const char *)c + k->off);
}

static int
enum_ok(const char *choices, const char *v)
{
	size_t		 n = strlen(v);
	const char	*p = choices;

	while (*p != '\0') {
		const char *e = strchr(p, '|');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);

		if (len == n && strncmp(p, v, n) == 0)
			return 1;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

/* A numeric host:port or [v6]:port, exactly what the listener will accept. */
static int
listen_ok(const char *v)
{
	struct sockaddr_storage	ss;
	int			len = sizeof(ss);
	const char		*colon = strrchr(v, ':');

	if (colon == NULL || (v[0] != '[' && strchr(v, ':') != colon) || colon[1] == '\0' || strspn(colon + 1, "0123456789") !=
	    strlen(colon + 1) || atoi(colon + 1) < 1 || atoi(colon + 1) > 65535)
		return 0;
	return evutil_parse_sockaddr_port(v, (struct sockaddr *)&ss, &len) == 0;
}

/* Set one key; returns 0 or -1 with *cause. */
static int
cfg_set(struct cfg *c, const struct cfg_key *k, const char *v, char **cause)
{
	char	*end;
	long	 n;

	switch (k->type) {
	case CFG_INT:
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || n < k->min || n > k->max) {
			*cause = xasprintf("bad value for [%s] %s: '%s' is not an integer "
			    "between %ld and %ld", k->section, k->name, v, k->min, k->max);
			return -1;
		}
		*int_slot(c, k) = n;
		return 0;
	case CFG_ENUM:
		if (!enum_ok(k->choices, v)) {
			*cause = xasprintf("bad value for [%s] %s: '%s' is not one of %s",
			    k->section, k->name, v, k->choices);
			return -1;
		}
		break;
	case CFG_LISTEN:
		if (!listen_ok(v)) {
			*cause = xasprintf("bad value for [%s] %s: '%s' is not host:port",
			    k->section, k->name, v);
			return -1;
		}
		break;
	case CFG_STR:
		break;
	}
	free(*str_slot(c, k));
	*str_slot(c, k) = xstrdup(v);
	return 0;
}

static int
cfg_ini_cb(void *user, const char *section, const char *name, const char *value)
{
	struct cfg_parse	*p = user;
	size_t			 i;

	for (i = 0; i < nitems(cfg_keys); i++) {
		if (strcmp(cfg_keys[i].section, section) == 0 &&
		    strcmp(cfg_keys[i].name, name) == 0)
			break;
	}
	if (i == nitems(cfg_keys)) {
		p->cause = xasprintf("unknown key [%s] %s", section, name);
		return 0;
	}
	if (p->seen[i]) {
		p->cause = xasprintf("duplicate key [%s] %s", section, name);
		return 0;
	}
	p->seen[i] = 1;
	if (cfg_keys[i].def == NULL && value[0] == '\0') {
		p->cause = xasprintf("empty value for required key [%s] %s", section, name);
		return 0;
	}
	return cfg_set(p->cfg, &cfg_keys[i], value, &p->cause) == 0;
}

static int
known_section(const char *s)
{
	size_t	i;

	for (i = 0; i < nitems(cfg_keys); i++)
		if (strcmp(cfg_keys[i].section, s) == 0)
			return 1;
	return 0;
}

static char *
trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* INI: [section], key = value, comments from ';' or '#' at line start or ';' after
 * whitespace. Returns 0, -1 (cannot open) or the line number of the first error with
 * p->cause set. */
static int
ini_lex(const char *path, struct cfg_parse *p)
{
	FILE	*f;
	char	*line = NULL, *s, *eq, *c, section[64] = "";
	size_t	 cap = 0;
	ssize_t	 n;
	int	 lineno = 0;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (memchr(line, '\0', (size_t)n) != NULL) {
			p->cause = xstrdup("NUL byte in the file");
			break;
		}
		/* inline comment: ';' preceded by whitespace */
		for (c = line; (c = strchr(c, ';')) != NULL; c++) {
			if (c == line || c[-1] == ' ' || c[-1] == '\t') {
				*c = '\0';
				break;
			}
		}
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *rb = strchr(s, ']');

			if (rb == NULL || rb[1] != '\0' || rb - s - 1 >= (long)sizeof(section)) {
				p->cause = xasprintf("bad section header '%s'", s);
				break;
			}
			*rb = '\0';
			snprintf(section, sizeof(section), "%s", trim(s + 1));
			if (!known_section(section)) {
				p->cause = xasprintf("unknown section [%s]", section);
				break;
			}
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL) {
			p->cause = xasprintf("syntax error: expected key = value, got '%s'", s);
			break;
		}
		*eq = '\0';
		if (section[0] == '\0') {
			p->cause = xasprintf("key %s outside of a [section]", trim(s));
			break;
		}
		if (!cfg_ini_cb(p, section, trim(s), trim(eq + 1)))
			break;
	}
	free(line);
	fclose(f);
	return p->cause != NULL ? lineno : 0;
}

int
cfg_load(const char *path, struct cfg *out, char **cause)
{
	struct cfg_parse	 p;
	size_t			 i;
	int			 rc;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.cfg = out;
	for (i = 0; i < nitems(cfg_keys); i++) {
		if (cfg_keys[i].def != NULL &&
		    cfg_set(out, &cfg_keys[i], cfg_keys[i].def, cause) != 0)
			fatalx("config default: %s", *cause);
	}
	rc = ini_lex(path, &p);
	if (rc == -1) {
		*cause = xasprintf("cannot open config file %s: %s", path, strerror(errno));
		goto fail;
	}
	if (p.cause != NULL) {
		*cause = xasprintf("%s:%d: %s", path, rc, p.cause);
		free(p.cause);
		goto fail;
	}
	if (rc != 0) {
		*cause = xasprintf("%s:%d: syntax error", path, rc);
		goto fail;
	}
	for (i = 0; i < nitems(cfg_keys); i++) {
		if (cfg_keys[i].def == NULL && !p.seen[i]) {
			*cause = xasprintf("%s: missing required key [%s] %s", path,
			    cfg_keys[i].section, cfg_keys[i].name);
			goto fail;
		}
	}
	if (out->metrics_token_sha256[0] != '\0' &&
	    (strlen(out->metrics_token_sha256) != 64 ||
	    strspn(out->metrics_token_sha256, "0123456789abcdef") != 64)) {
		*cause = xasprintf("%s: [server] metrics_token_sha256 must be 64 lower-case hex "
		    "digits (fundd metrics-token)", path);
		goto fail;
	}
	if (out->migrate_dsn[0] == '\0') {
		free(out->migrate_dsn);
		out->migrate_dsn = xstrdup(out->dsn);
	}
	return 0;
fail:
	cfg_free(out);
	return -1;
}

void
cfg_free(struct cfg *c)
{
	size_t	i;

	for (i = 0; i < nitems(cfg_keys); i++) {
		if (cfg_keys[i].type != CFG_INT) {
			free(*str_slot(c, &cfg_keys[i]));
			*str_slot(c, &cfg_keys[i]) = NULL;
		}
	}
}

int
cfg_restart_changes(const struct cfg *run, const struct cfg *file,
    void (*fn)(void *, const char *, const char *), void *arg)
{
	size_t	i;
	int	n = 0, same;

	for (i = 0; i < nitems(cfg_keys); i++) {
		const struct cfg_key	*k = &cfg_keys[i];

		if (k->reloadable != 0)
			continue;
		if (k->type == CFG_INT)
			same = *const_int_slot(run, k) == *const_int_slot(file, k);
		else
			same = strcmp(*const_str_slot(run, k), *const_str_slot(file, k)) == 0;
		if (!same) {
			fn(arg, k->section, k->name);
			n++;
		}
	}
	return n;
}

void
cfg_usage(FILE *f)
{
	size_t		 i;
	const char	*sect = "";

	fprintf(f, "Configuration keys (INI):\n");
	for (i = 0; i < nitems(cfg_keys); i++) {
		const struct cfg_key *k = &cfg_keys[i];

		if (strcmp(sect, k->section) != 0) {
			fprintf(f, "  [%s]\n", k->section);
			sect = k->section;
		}
		fprintf(f, "    %-22s %s", k->name, k->help);
		if (k->def == NULL)
			fprintf(f, " (required)");
		else if (k->def[0] != '\0')
			fprintf(f, " (default %s)", k->def);
		if (k->type == CFG_INT)
			fprintf(f, " [%ld..%ld]", k->min, k->max);
		fprintf(f, "\n");
	}
}
