/*
 * method_doc.h: the OpenRPC document rpc.discover answers: every method of the table with
 * its roles, whether it mutates, its params' schemas (types, required, allowed values,
 * formats), what it answers and its errors.
 */
#ifndef FUND_METHOD_DOC_H
#define FUND_METHOD_DOC_H

#include <cjson/cJSON.h>

/* The document (allocated), for a daemon of version. */
cJSON	*method_discover(const char *version);

#endif
