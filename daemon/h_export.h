/*
 * h_export.h: GET /export/ledger?format=csv|jsonl&from=&to= and GET
 * /export/audit?format=jsonl, for admins and auditors (export.h streams them).
 */
#ifndef FUND_H_EXPORT_H
#define FUND_H_EXPORT_H

struct http_req;

void	h_export_ledger(struct http_req *);
void	h_export_audit(struct http_req *);

#endif
