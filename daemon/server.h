/*
 * server.h: serving: worker threads, each with an event loop, a listener on the shared
 * address (SO_REUSEPORT, so the kernel spreads connections), its connections (http.h) and
 * its own database pool (db_pool.h); the main thread waits for signals and tells the service
 * manager that the daemon serves, reloads or stops, and that every worker's loop turns
 * (notify.h).
 */
#ifndef FUND_SERVER_H
#define FUND_SERVER_H

struct audit_key;
struct cfg;

/* Serve until SIGTERM/SIGINT; returns the exit code. cfg and the key must outlive it. */
int	server_run(const char *cfgpath, struct cfg *, const struct audit_key *);

#endif
