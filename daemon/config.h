/*
 * config.h: the INI configuration (README, Configuration), defined by one declarative table
 * in config.c that also produces `fundd --help` text and every load error.
 */
#ifndef FUND_CONFIG_H
#define FUND_CONFIG_H

#include <stdio.h>

struct cfg {
	/* [server] */
	char	*listen;
	char	*tls_cert;
	char	*tls_key;
	char	*client_ca;		/* "" = no client-certificate login */
	long	 max_connections;
	long	 max_body_bytes;
	long	 max_document_bytes;	/* POST /documents */
	long	 max_header_bytes;
	long	 io_timeout_s;
	long	 workers;		/* 0 = one per core */
	long	 auth_fail_limit;	/* 0 = no throttle (throttle.h) */
	long	 auth_cache_ms;		/* 0 = no credentials cache (auth_cache.h) */
	char	*web_root;		/* "" = no web console (web.h) */
	char	*metrics_token_sha256;	/* "" = none; else 64 hex (h_metrics.c) */
	/* [database] */
	char	*dsn;
	char	*migrate_dsn;		/* "" = dsn */
	char	*replica_dsn;		/* "" = none: every read on dsn (replica.h) */
	long	 replica_pool_size;	/* 0 = pool_size */
	long	 replica_max_lag_ms;
	char	*migrations;
	long	 pool_size;
	long	 wait_queue;
	long	 batch_max;
	long	 writers;
	long	 write_stall_ms;
	long	 batch_one_statement;	/* a batch goes out as one api.call_many() */
	long	 statement_timeout_ms;	/* 0 = none */
	long	 lock_timeout_ms;	/* 0 = none */
	/* [audit] */
	char	*signing_key;
	long	 checkpoint_interval_s;
	long	 chain_interval_ms;	/* 0 = chaining paused */
	/* [privacy] */
	char	*key_file;		/* "" = none: serve and migrate refuse */
	char	*old_key_files;		/* space-separated; unwrap only */
	long	 retention_years;
	char	*erase_due;		/* auto | manual */
	long	 erase_interval_s;
	long	 report_min_cell;
	/* [log] */
	char	*log_level;
	char	*log_format;
	char	*log_file;		/* "" = stderr */
};

/* Load path into *out (defaults first, then the file). On error returns -1 and sets
 * *cause to an allocated one-line message naming the key. */
int	cfg_load(const char *path, struct cfg *out, char **cause);
void	cfg_free(struct cfg *);
/* For each key that differs between the running configuration and a file read again and
 * that SIGHUP cannot apply, fn(arg, section, key), in the table's order; returns how many.
 * Keys the serving daemon never reads (migrate_dsn) are left out. */
int	cfg_restart_changes(const struct cfg *run, const struct cfg *file,
	    void (*fn)(void *, const char *section, const char *key), void *arg);
/* print the table of keys (for --help) */
void	cfg_usage(FILE *);

#endif
