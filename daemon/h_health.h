/* h_health.h: GET /healthz, 200 while PostgreSQL answers, else 503. No credentials. */
#ifndef FUND_H_HEALTH_H
#define FUND_H_HEALTH_H

struct http_req;

void	h_health(struct http_req *);

#endif
