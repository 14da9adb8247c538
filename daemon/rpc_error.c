/* rpc_error.c: the table of JSON-RPC error codes (rpc_error.h). */
#include "rpc_error.h"
#include "util.h"

const struct rpc_error_def rpc_errors[] = {
	{ RPC_PARSE_ERROR,	"Parse error",		"parse_error" },
	{ RPC_INVALID_REQUEST,	"Invalid Request",	"invalid_request" },
	{ RPC_METHOD_NOT_FOUND,	"Method not found",	"method_not_found" },
	{ RPC_INVALID_PARAMS,	"Invalid params",	"invalid_params" },
	{ RPC_INTERNAL_ERROR,	"Internal error",	"internal_error" },
	{ RPC_UNAUTHENTICATED,	"unauthenticated",	"unauthenticated" },
	{ RPC_FORBIDDEN,	"forbidden",		"forbidden" },
	{ RPC_NOT_FOUND,	"not found",		"not_found" },
	{ RPC_CONFLICT,		"Conflict",		"conflict" },
	{ RPC_INSUFFICIENT_FUNDS, "insufficient funds",	"insufficient_funds" },
	{ RPC_FOUR_EYES,	"four-eyes rule broken", "four_eyes" },
	{ RPC_OVERLOADED,	"Overloaded",		"overloaded" },
	{ RPC_DB_UNAVAILABLE,	"Database unavailable",	"database_unavailable" },
	{ RPC_OUTCOME_UNKNOWN,	"Outcome unknown",	"outcome_unknown" },
};
const size_t rpc_nerrors = nitems(rpc_errors);

int
rpc_error_index(int code)
{
	size_t	i;

	for (i = 0; i < rpc_nerrors; i++)
		if ((int)rpc_errors[i].code == code)
			return (int)i;
	return -1;
}

const char *
rpc_error_message(int code)
{
	int	i = rpc_error_index(code);

	return rpc_errors[i >= 0 ? i : rpc_error_index(RPC_INTERNAL_ERROR)].message;
}

int
rpc_error_http_status(int code)
{
	switch (code) {
	case RPC_INVALID_PARAMS:
		return 400;
	case RPC_UNAUTHENTICATED:
		return 401;
	case RPC_FORBIDDEN:
		return 403;
	case RPC_NOT_FOUND:
		return 404;
	case RPC_CONFLICT:
		return 409;
	case RPC_OVERLOADED:
	case RPC_DB_UNAVAILABLE:
		return 503;
	default:
		return 500;
	}
}
