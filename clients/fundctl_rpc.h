/*
 * fundctl_rpc.h: JSON-RPC 2.0 params, request and response for `call`.
 */
#ifndef FUNDCTL_RPC_H
#define FUNDCTL_RPC_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#define FC_PARAMS_MAX		(16u * 1024 * 1024)	/* params on stdin */
#define FC_RESPONSE_MAX		(256u * 1024 * 1024)	/* a call's response */

/*
 * Build a params object from command-line pairs: name=value (a string),
 * name:=JSON (embedded verbatim after validation). A duplicate name is an
 * error. When idem is not NULL it becomes params.idempotency_key.
 * On success *out is owned by the caller.
 */
int	 fc_params_from_pairs(char *const *pairs, int n, const char *idem,
	    cJSON **out, char **cause);

/*
 * Read a JSON params object from f (empty input means {}). Without idem
 * the object is embedded byte for byte; with it the parsed object gets
 * idempotency_key added. With wait_s > 0, fail if input neither starts nor
 * ends within wait_s seconds (a stdin that nobody writes to).
 */
int	 fc_params_from_stream(FILE *f, const char *what, const char *idem,
	    int wait_s, cJSON **out, char **cause);

/* The request text (free with cJSON_free). Takes ownership of params. */
char	*fc_rpc_request(const char *method, cJSON *params, long id);

/*
 * Interpret the HTTP status and body answering request `id`: print the
 * result to stdout (exit FC_EXIT_OK) or the JSON-RPC error to stderr
 * (FC_EXIT_RPC). Anything else returns FC_EXIT_FAIL with *cause set, or
 * FC_EXIT_RPC with *cause set for HTTP 401/403 without a JSON-RPC body.
 */
int	 fc_rpc_response(int status, const char *reason, const char *body,
	    size_t len, long id, char **cause);

/*
 * The same, without printing the result: on FC_EXIT_OK *result is the
 * result (owned by the caller); otherwise *result is NULL and the error is
 * printed or in *cause as above.
 */
int	 fc_rpc_result(int status, const char *reason, const char *body,
	    size_t len, long id, cJSON **result, char **cause);

/* The same, the JSON-RPC error handed back in *error (owned by the caller) instead of
 * printed. */
int	 fc_rpc_answer(int status, const char *reason, const char *body,
	    size_t len, long id, cJSON **result, cJSON **error, char **cause);

/* "error CODE REASON: MESSAGE field=F ..." on stderr. */
void	 fc_print_rpc_error(const cJSON *err);

/*
 * A copy of params (an object, or the raw JSON object fc_params_from_stream
 * embeds byte for byte, kept so) with idempotency_key set to key, in *out;
 * *out is NULL when params hold an idempotency_key already.
 */
int	 fc_params_with_key(const cJSON *params, const char *key, cJSON **out,
	    char **cause);

#endif /* FUNDCTL_RPC_H */
