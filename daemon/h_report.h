/*
 * h_report.h: GET /export/report?name=grants|contributions|pipeline&from=&to=&by=a,b
 * [&fund=][&dated=][&format=csv|xlsx]: a report as a file, for the roles of its method.
 */
#ifndef FUND_H_REPORT_H
#define FUND_H_REPORT_H

struct http_req;

void	h_export_report(struct http_req *);

#endif
