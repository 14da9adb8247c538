/*
 * fuzz_request.c: libFuzzer target for the request path: the HTTP head parser, then the
 * JSON-RPC parser, param validation and response rendering on the body. No I/O, no
 * database: everything up to the point where a call would be sent to PostgreSQL. The
 * answer must itself be UTF-8 and strict JSON (the reader takes it back without -32700): ids echoed
 * as their text, keys and reasons rendered whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"
#include "rpc.h"
#include "validate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head	 h;
	struct rpc_batch	*b;
	const uint8_t		*body = data;
	size_t			 blen = size, i;
	char			*out;
	int			 status;

	for (i = 0; i + 3 < size; i++) {
		if (memcmp(data + i, "\r\n\r\n", 4) == 0) {
			(void)http_parse_head((const char *)data, i + 4, &h);
			body = data + i + 4;
			blen = size - i - 4;
			break;
		}
	}
	b = rpc_parse((const char *)body, blen);
	out = rpc_render(b, &status);
	if (status != 200 && status != 204 && status != 401 && status != 503)
		abort();
	rpc_batch_free(b);
	if (out != NULL) {
		const cJSON	*code;

		if (v_utf8(out, strlen(out)) != 0)
			abort();

		b = rpc_parse(out, strlen(out));
		code = cJSON_GetObjectItemCaseSensitive(b->top_error, "code");
		if (cJSON_IsNumber(code) && code->valueint == -32700)
			abort();
		rpc_batch_free(b);
	}
	free(out);
	return 0;
}
