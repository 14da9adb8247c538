/*
 * throttle.h: repeated failed authentication is slowed down, per client address and per
 * credential (the token's or certificate's hash; "no credentials" and "a malformed
 * header" count as one each). Every 401 counts a failure:
 *
 *  - against the credential from that address: past [server] auth_fail_limit failures of
 *    one credential, requests with it from there wait (one user's typos slow only that
 *    user's wrong token);
 *  - against the address, once per distinct credential that failed there: past the limit
 *    of different credentials (guessing), requests from there with any credential that
 *    has not authenticated from there since wait too.
 *
 * The wait is 100 ms after the first failure over the limit, doubling with each further
 * one up to 5 s. A successful authentication ends the slow-down of its credential at that
 * address and exempts it from the address's (it is known good there); the address's count
 * of failed credentials stays, so a valid token does not make guessing cheaper. Failures
 * are forgotten after 10 minutes without one. Other addresses are never slowed, and a
 * waiting request holds no thread: it sits on a timer. One table for all workers, behind
 * a mutex that the request path takes only while some failure is remembered. The hashes
 * stay in memory and never reach the log.
 */
#ifndef FUND_THROTTLE_H
#define FUND_THROTTLE_H

#define THROTTLE_SLOTS		8192	/* (address, credential) pairs remembered */
#define THROTTLE_FIRST_MS	100
#define THROTTLE_MAX_MS		5000
#define THROTTLE_FORGET_S	600

/* limit: failures before anything slows down; 0 turns the throttle off. */
void	throttle_init(int limit);
/* A request from addr with credential cred (its hash, or "" for none) failed to
 * authenticate. */
void	throttle_failed(const char *addr, const char *cred);
/* One from addr with cred authenticated. */
void	throttle_ok(const char *addr, const char *cred);
/* How long a request from addr with cred must wait now, in milliseconds (0: serve it). */
long	throttle_wait_ms(const char *addr, const char *cred);
/* How many (address, credential) pairs and addresses are slowed down right now. */
int	throttle_slowed(void);

#endif
