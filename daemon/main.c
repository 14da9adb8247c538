/*
 * fundd: the Fund Ledger daemon.
 *
 *   fundd -c FILE                 serve until SIGTERM/SIGINT (drain, exit 0)
 *   fundd -c FILE check           validate the configuration
 *   fundd -c FILE migrate         apply pending migrations
 *   fundd privacy new-key FILE    write a new key-encryption key (mode 0600)
 *   fundd metrics-token           a new bearer token for /metrics, and its config line
 *   fundd -c FILE privacy rotate-key NEWKEY [--batch N]
 *                                 wrap every data key under NEWKEY (docs/privacy.md)
 *   fundd -c FILE principal add --name NAME --roles ROLE[,ROLE] [--partner ID] [--cert PEM]
 *   fundd -c FILE audit rotate-key NEWKEY | audit keys
 *                                 the audit signing keys (docs/audit.md)
 *   fundd --version | --help
 *
 * Exit status: 0 done (serve: drained after SIGTERM/SIGINT); 1 a failure that may pass
 * (the database unreachable, a migration that failed); 2 usage or configuration (a key,
 * certificate or folder it names); EXIT_SCHEMA, serve only: the database's schema is not
 * this binary's. The systemd unit does not restart the daemon after 2 or EXIT_SCHEMA
 * (docs/operations.md).
 */
#include <sys/resource.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "audit_cmd.h"
#include "auth_cache.h"
#include "auth.h"
#include "config.h"
#include "log.h"
#include "methods.h"
#include "metrics.h"
#include "migrate.h"
#include "notify.h"
#include "person.h"
#include "person_seal.h"
#include "privacy.h"
#include "server.h"
#include "throttle.h"
#include "tls.h"
#include "util.h"
#include "validate.h"
#include "web.h"

/* serve refuses the database it found: its schema is not this binary's, or the migrations
 * directory cannot be read; `fundd migrate` (or the right binary) is the way out, not a
 * restart */
#define EXIT_SCHEMA	3

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: fundd -c FILE [serve]\n"
	    "       fundd -c FILE check\n"
	    "       fundd -c FILE migrate\n"
	    "       fundd privacy new-key FILE\n"
	    "       fundd metrics-token\n"
	    "       fundd -c FILE privacy rotate-key NEWKEY [--batch N]\n"
	    "       fundd -c FILE principal add --name NAME --roles ROLE[,ROLE] "
	    "[--partner PARTNER_ID] [--cert PEM]\n"
	    "       fundd -c FILE audit rotate-key NEWKEY | audit keys\n"
	    "       fundd --version | --help\n\n"
	    "Roles: admin, approver, auditor, partner (partner needs --partner).\n\n"
	    "Exit status: 0 done; 1 failed (database unreachable, migration failed); 2 usage or\n"
	    "configuration error; %d serve refuses the database: its schema is not this\n"
	    "fundd's (run migrate).\n\n", EXIT_SCHEMA);
	cfg_usage(f);
}

static void __attribute__((noreturn))
badarg(const char *fmt, const char *arg)
{
	fprintf(stderr, "fundd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see fundd --help)\n");
	exit(2);
}

/* Validate "admin,approver" into a PostgreSQL array literal "{admin,approver}". */
static char *
roles_literal(const char *roles, int *has_partner)
{
	static const char	*known[] = { "admin", "approver", "auditor", "partner" };
	char			*copy = xstrdup(roles), *tok, *save = NULL, *out;
	size_t			 i, n = 0;

	out = xcalloc(1, strlen(roles) + 3);
	strcat(out, "{");
	*has_partner = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < nitems(known) && strcmp(known[i], tok) != 0; i++)
			;
		if (i == nitems(known))
			badarg("--roles: unknown role '%s'", tok);
		if (strcmp(tok, "partner") == 0)
			*has_partner = 1;
		if (n++ > 0)
			strcat(out, ",");
		strcat(out, tok);
	}
	if (n == 0)
		badarg("--roles: no role given%s", "");
	strcat(out, "}");
	free(copy);
	return out;
}

static int
cmd_principal_add(struct cfg *cfg, int argc, char **argv)
{
	const char	*name = NULL, *roles = NULL, *partner = NULL, *cert = NULL;
	const char	*vals[5], *reason;
	char		 token[AUTH_TOKEN_LEN + 1], hash[67], certhash[67];
	unsigned char	 fp[32];
	char		*lit, *cause = NULL;
	PGconn		*db;
	PGresult	*r;
	int		 i, has_partner, rc = 1;

	for (i = 0; i < argc; i++) {
		const char **slot = NULL;

		if (strcmp(argv[i], "--name") == 0)
			slot = &name;
		else if (strcmp(argv[i], "--roles") == 0)
			slot = &roles;
		else if (strcmp(argv[i], "--partner") == 0)
			slot = &partner;
		else if (strcmp(argv[i], "--cert") == 0)
			slot = &cert;
		else
			badarg("principal add: unknown argument '%s'", argv[i]);
		if (i + 1 >= argc)
			badarg("principal add: %s needs a value", argv[i]);
		*slot = argv[++i];
	}
	if (name == NULL)
		badarg("principal add: --name is required%s", "");
	if (v_text(name, 200, &reason) != 0)
		badarg("principal add: bad --name (%s)", reason);
	if (roles == NULL)
		badarg("principal add: --roles is required%s", "");
	lit = roles_literal(roles, &has_partner);
	if (has_partner != (partner != NULL)) {
		free(lit);
		badarg("principal add: %s", has_partner ? "--roles partner needs --partner" :
		    "--partner needs the partner role");
	}
	if (partner != NULL && v_id(partner, &reason) != 0) {
		free(lit);
		badarg("principal add: bad --partner (%s)", reason);
	}
	if (cert != NULL && tls_pem_sha256(cert, fp, &cause) != 0) {
		fprintf(stderr, "fundd: principal add: --cert: %s\n", cause);
		free(cause);
		free(lit);
		return 2;
	}
	if (auth_token_new(token, sizeof(token)) != 0) {
		fprintf(stderr, "fundd: cannot generate a token\n");
		free(lit);
		return 1;
	}
	auth_sha256_bytea(token, strlen(token), hash);
	if (cert != NULL)
		auth_bytea32(fp, certhash);
	if (db_connect_blocking(cfg->migrate_dsn, &db, &cause) != 0) {
		fprintf(stderr, "fundd: %s\n", cause);
		free(cause);
		free(lit);
		return 1;
	}
	vals[0] = name;
	vals[1] = lit;
	vals[2] = partner;
	vals[3] = hash;
	vals[4] = cert != NULL ? certhash : NULL;
	r = PQexecParams(db, "INSERT INTO fl.principal (name, roles, partner_id, token_hash, "
	    "cert_sha256) VALUES ($1, $2::text[], $3, $4::bytea, $5::bytea) "
	    "RETURNING principal_id", 5, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

		fprintf(stderr, "fundd: principal add failed: %s\n", m != NULL ? m : "?");
	} else {
		printf("principal_id: %s\nroles: %s\n", PQgetvalue(r, 0, 0), lit);
		if (cert != NULL)
			printf("certificate sha256: %s\n", certhash + 2);
		printf("token (shown once, store it safely):\n%s\n", token);
		rc = 0;
	}
	PQclear(r);
	PQfinish(db);
	OPENSSL_cleanse(token, sizeof(token));
	free(lit);
	return rc;
}

/* privacy rotate-key NEWKEY [--batch N]: NEWKEY wraps, the configured keys unwrap. */
static int
cmd_rotate(struct cfg *cfg, int argc, char **argv)
{
	PGconn	*db;
	char	*cause = NULL, *old;
	long	 batch = 500;
	int	 rc;

	if (argc < 2 || strcmp(argv[0], "rotate-key") != 0)
		badarg("unknown command 'privacy %s'", argc > 0 ? argv[0] : "");
	if (argc == 4 && strcmp(argv[2], "--batch") == 0)
		batch = strtol(argv[3], NULL, 10);
	else if (argc != 2)
		badarg("unexpected argument '%s'", argv[2]);
	if (batch < 1 || batch > 100000)
		badarg("--batch %s: not between 1 and 100000", argv[3]);
	old = xasprintf("%s %s", cfg->key_file, cfg->old_key_files);
	rc = person_keys_load(argv[1], old, &cause);
	free(old);
	if (rc != 0) {
		fprintf(stderr, "fundd: %s\n", cause);
		free(cause);
		return 2;
	}
	if (db_connect_blocking(cfg->migrate_dsn, &db, &cause) != 0) {
		fprintf(stderr, "fundd: %s\n", cause);
		free(cause);
		person_keys_free();
		return 1;
	}
	rc = person_rotate(db, person_kek(), (int)batch, &cause);
	PQfinish(db);
	person_keys_free();
	if (rc != 0) {
		fprintf(stderr, "fundd: key rotation stopped: %s (run it again to resume)\n",
		    cause);
		free(cause);
		return 1;
	}
	return 0;
}

static int
cmd_migrate(struct cfg *cfg)
{
	struct migrate_hooks	 hooks = { person_seal_step, NULL };
	PGconn			*db;
	char			*cause = NULL;
	int			 rc;

	/* the key is needed by a step that seals personal data, if one is pending */
	if (cfg->key_file[0] != '\0' &&
	    person_keys_load(cfg->key_file, cfg->old_key_files, &cause) != 0) {
		fprintf(stderr, "fundd: %s\n", cause);
		free(cause);
		return 2;
	}
	if (db_connect_blocking(cfg->migrate_dsn, &db, &cause) != 0) {
		fprintf(stderr, "fundd: %s\n", cause);
		free(cause);
		person_keys_free();
		return 1;
	}
	rc = migrate_apply(db, cfg->migrations, &hooks, &cause);
	PQfinish(db);
	person_keys_free();
	if (rc != 0) {
		fprintf(stderr, "fundd: %s\n", cause);
		free(cause);
		return 1;
	}
	return 0;
}

static int
cmd_serve(const char *path, struct cfg *cfg)
{
	SSL_CTX			*ctx;
	PGconn			*db;
	struct audit_key	*key;
	struct web		*web = NULL;
	char			*cause = NULL;
	enum log_level		 lvl;
	struct rlimit		 rl;
	int			 rc;

	log_level_parse(cfg->log_level, &lvl);
	log_init(lvl, strcmp(cfg->log_format, "json") == 0 ? LOG_JSON : LOG_TEXT);
	if (cfg->log_file[0] != '\0' && log_open(cfg->log_file, &cause) != 0) {
		fprintf(stderr, "fundd: %s\n", cause);
		free(cause);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* until server_run handles them, and after: never the default, which kills */
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	/* max_connections sockets plus pool connections: take the hard limit */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)(cfg->max_connections + cfg->pool_size + 64))
		log_warnx("open file limit %llu is below max_connections + pool_size",
		    (unsigned long long)rl.rlim_cur);
	if (cfg->web_root[0] != '\0' && (web = web_load(cfg->web_root, &cause)) == NULL) {
		log_error("%s ([server] web_root = \"\" serves no web console)", cause);
		free(cause);
		return 2;
	}
	web_console = web;
	if (audit_key_load(cfg->signing_key, &key, &cause) != 0) {
		log_error("%s", cause);
		free(cause);
		web_free(web);
		return 2;
	}
	person_retention_set((int)cfg->retention_years);
	if (person_keys_load(cfg->key_file, cfg->old_key_files, &cause) != 0) {
		log_error("%s", cause);
		free(cause);
		audit_key_free(key);
		web_free(web);
		return 2;
	}
	if (tls_ctx_new(cfg, &ctx, &cause) != 0) {
		log_error("TLS: %s", cause);
		free(cause);
		audit_key_free(key);
		person_keys_free();
		web_free(web);
		return 2;
	}
	if ((cause = tls_expiry_warning(ctx, cfg->tls_cert)) != NULL) {
		log_warnx("%s", cause);
		free(cause);
	}
	tls_ctx_install(ctx);
	/* Start-up check, before the loop runs: refuse to serve an old schema. */
	if (db_connect_blocking(cfg->dsn, &db, &cause) != 0) {
		log_error("%s", cause);
		free(cause);
		tls_shutdown();
		audit_key_free(key);
		person_keys_free();
		web_free(web);
		return 1;
	}
	if (migrate_check(db, cfg->migrations, &cause) != 0) {
		/* a connection lost meanwhile says nothing of the schema: 1, a restart may do */
		rc = PQstatus(db) == CONNECTION_OK ? EXIT_SCHEMA : 1;
		log_error("refusing to serve: %s", cause);
		notify_status("refusing to serve: %s", cause);
		free(cause);
		PQfinish(db);
		tls_shutdown();
		audit_key_free(key);
		person_keys_free();
		web_free(web);
		return rc;
	}
	PQfinish(db);
	metrics_init(method_count());
	throttle_init((int)cfg->auth_fail_limit);
	auth_cache_init(cfg->auth_cache_ms);
	if (web != NULL)
		log_info("web console: %zu files, %zu bytes, from %s", web->n, web->bytes,
		    cfg->web_root);
	rc = server_run(path, cfg, key);
	audit_key_free(key);
	person_keys_free();
	web_console = NULL;
	web_free(web);
	return rc;
}

int
main(int argc, char **argv)
{
	const char	*path = NULL, *cmd = "serve";
	struct cfg	 cfg;
	char		*cause = NULL;
	int		 i = 1, rc;

	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("fundd %s (protocol 1)\n", FUND_VERSION);
		return 0;
	}
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "metrics-token") == 0) {
		char	tok[AUTH_TOKEN_LEN + 1], hash[67];

		if (auth_token_new(tok, sizeof(tok)) != 0) {
			fprintf(stderr, "fundd: no random bytes for a token\n");
			return 1;
		}
		auth_sha256_bytea(tok, strlen(tok), hash);
		printf("%s\n# the token above goes to the monitoring (a bearer token); this line "
		    "to [server] of fundd's config:\nmetrics_token_sha256 = %s\n", tok, hash + 2);
		OPENSSL_cleanse(tok, sizeof(tok));
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "privacy") == 0) {
		if (argc != 4 || strcmp(argv[2], "new-key") != 0)
			badarg("usage: fundd privacy new-key FILE%s", "");
		if (priv_kek_create(argv[3], &cause) != 0) {
			fprintf(stderr, "fundd: %s\n", cause);
			free(cause);
			return 1;
		}
		printf("%s: a new key-encryption key (keep a copy where backups of the "
		    "database are not: docs/privacy.md)\n", argv[3]);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
		path = argv[2];
		i = 3;
	}
	if (path == NULL) {
		fprintf(stderr, "fundd: -c FILE is required (see fundd --help)\n");
		return 2;
	}
	if (i < argc)
		cmd = argv[i++];
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "check") != 0 &&
	    strcmp(cmd, "migrate") != 0 && strcmp(cmd, "principal") != 0 &&
	    strcmp(cmd, "privacy") != 0 && strcmp(cmd, "audit") != 0)
		badarg("unknown command '%s'", cmd);
	if (strcmp(cmd, "principal") == 0 && (i >= argc || strcmp(argv[i], "add") != 0))
		badarg("unknown command 'principal %s'", i < argc ? argv[i] : "");
	if ((strcmp(cmd, "serve") == 0 || strcmp(cmd, "check") == 0 ||
	    strcmp(cmd, "migrate") == 0) && i < argc)
		badarg("unexpected argument '%s'", argv[i]);
	if (cfg_load(path, &cfg, &cause) != 0) {
		fprintf(stderr, "fundd: %s\n", cause);
		free(cause);
		return 2;
	}
	if (strcmp(cmd, "check") == 0) {
		SSL_CTX			*ctx;
		struct audit_key	*key;

		if (tls_ctx_new(&cfg, &ctx, &cause) != 0) {
			fprintf(stderr, "fundd: %s\n", cause);
			free(cause);
			cfg_free(&cfg);
			return 2;
		}
		if ((cause = tls_expiry_warning(ctx, cfg.tls_cert)) != NULL) {
			fprintf(stderr, "fundd: warning: %s\n", cause);
			free(cause);
		}
		SSL_CTX_free(ctx);
		if (cfg.log_file[0] != '\0' && log_file_check(cfg.log_file, &cause) != 0) {
			fprintf(stderr, "fundd: %s\n", cause);
			free(cause);
			cfg_free(&cfg);
			return 2;
		}
		if (audit_key_load(cfg.signing_key, &key, &cause) != 0) {
			fprintf(stderr, "fundd: %s\n", cause);
			free(cause);
			cfg_free(&cfg);
			return 2;
		}
		audit_key_free(key);
		if (person_keys_load(cfg.key_file, cfg.old_key_files, &cause) != 0) {
			fprintf(stderr, "fundd: %s\n", cause);
			free(cause);
			cfg_free(&cfg);
			return 2;
		}
		person_keys_free();
		if (cfg.web_root[0] != '\0') {
			struct web	*web = web_load(cfg.web_root, &cause);

			if (web == NULL) {
				fprintf(stderr, "fundd: %s ([server] web_root)\n", cause);
				free(cause);
				cfg_free(&cfg);
				return 2;
			}
			web_free(web);
		}
		printf("%s: configuration ok\n", path);
		rc = 0;
	} else if (strcmp(cmd, "migrate") == 0)
		rc = cmd_migrate(&cfg);
	else if (strcmp(cmd, "principal") == 0)
		rc = cmd_principal_add(&cfg, argc - i - 1, argv + i + 1);
	else if (strcmp(cmd, "privacy") == 0)
		rc = cmd_rotate(&cfg, argc - i, argv + i);
	else if (strcmp(cmd, "audit") == 0)
		rc = audit_cmd(&cfg, argc - i, argv + i);
	else
		rc = cmd_serve(path, &cfg);
	log_close();
	cfg_free(&cfg);
	return rc;
}
