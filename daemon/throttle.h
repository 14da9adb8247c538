/*
 * throttle.h: repeated failed authentication from one address is slowed down. Every
 * 401 counts a failure against the client's address; past [server] auth_fail_limit
 * failures, each request from that address waits before it is served, 100 ms after the
 * first failure over the limit, doubling with each further one up to 5 s. An address is
 * forgiven after 10 minutes without a failure. Other addresses are never slowed, and a
 * waiting request holds no thread: it sits on a timer. One table for all workers, behind
 * a mutex that the request path takes only while some address is being slowed down.
 */
#ifndef FUND_THROTTLE_H
#define FUND_THROTTLE_H

#define THROTTLE_SLOTS		4096	/* addresses remembered; the oldest goes first */
#define THROTTLE_FIRST_MS	100
#define THROTTLE_MAX_MS		5000
#define THROTTLE_FORGET_S	600

/* limit: failures before anything slows down; 0 turns the throttle off. */
void	throttle_init(int limit);
/* A request from addr failed to authenticate. */
void	throttle_failed(const char *addr);
/* How long a request from addr must wait now, in milliseconds (0: serve it). */
long	throttle_wait_ms(const char *addr);

#endif
