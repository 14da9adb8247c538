/* h_routes.c: the route table (h_routes.h). */
#include "h_document.h"
#include "h_export.h"
#include "h_health.h"
#include "h_metrics.h"
#include "h_report.h"
#include "h_routes.h"
#include "h_rpc.h"
#include "h_web.h"
#include "http_route.h"
#include "util.h"

const struct http_route h_routes[] = {
	{ "POST", "/rpc",		HTTP_R_LENGTH,		h_rpc },
	{ "GET",  "/healthz",		HTTP_R_UNTHROTTLED,	h_health },
	{ "GET",  "/metrics",		0,			h_metrics },
	{ "GET",  "/export/ledger",	0,			h_export_ledger },
	{ "GET",  "/export/audit",	0,			h_export_audit },
	{ "GET",  "/export/report",	0,			h_export_report },
	{ "POST", "/documents",		HTTP_R_LENGTH | HTTP_R_DOCUMENT, h_document_put },
	{ "GET",  "/documents/",	HTTP_R_PREFIX,		h_document_get },
	/* the web console: any other path */
	{ "GET",  "/",			HTTP_R_FALLBACK,	h_web },
	{ "GET",  "/",			HTTP_R_PREFIX | HTTP_R_FALLBACK, h_web },
};
const size_t h_nroutes = nitems(h_routes);
