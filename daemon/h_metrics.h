/* h_metrics.h: GET /metrics, the Prometheus text (metrics.h), for admins and auditors. */
#ifndef FUND_H_METRICS_H
#define FUND_H_METRICS_H

struct http_req;

void	h_metrics(struct http_req *);

#endif
