/*
 * rpc_error.h: the JSON-RPC error codes fundd answers with (docs/protocol.md), named
 * once, with the message the daemon writes for each and the label /metrics counts it under.
 * Errors raised by the SQL methods carry their own message; the code is the same.
 */
#ifndef FUND_RPC_ERROR_H
#define FUND_RPC_ERROR_H

#include <stddef.h>

enum rpc_code {
	RPC_OK			= 0,
	RPC_PARSE_ERROR		= -32700,
	RPC_INVALID_REQUEST	= -32600,
	RPC_METHOD_NOT_FOUND	= -32601,
	RPC_INVALID_PARAMS	= -32602,
	RPC_INTERNAL_ERROR	= -32603,
	RPC_UNAUTHENTICATED	= -32001,
	RPC_FORBIDDEN		= -32003,
	RPC_NOT_FOUND		= -32004,
	RPC_CONFLICT		= -32009,
	RPC_INSUFFICIENT_FUNDS	= -32010,
	RPC_FOUR_EYES		= -32011,
	RPC_OVERLOADED		= -32029,
	RPC_DB_UNAVAILABLE	= -32050,	/* nothing was written */
	RPC_OUTCOME_UNKNOWN	= -32051,	/* a mutation may have committed */
};

struct rpc_error_def {
	enum rpc_code	 code;
	const char	*message;	/* error.message when the daemon sets the error */
	const char	*label;		/* outcome label in /metrics */
};

/* Every code above but RPC_OK, in the order /metrics lists them. */
extern const struct rpc_error_def	rpc_errors[];
extern const size_t			rpc_nerrors;

/* The index of code in rpc_errors, or -1 when it is not one of them. */
int		 rpc_error_index(int code);
/* The message of code; an unknown code has RPC_INTERNAL_ERROR's. */
const char	*rpc_error_message(int code);
/* The HTTP status of an endpoint that answers with code's error (a file endpoint such as
 * /export/report or /documents): 400, 401, 403, 404, 409, 503, else 500. */
int		 rpc_error_http_status(int code);

#endif
