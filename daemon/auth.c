/* auth.c: token generation and hashing. */
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth.h"
#include "util.h"

int
auth_token_new(char *tok, size_t len)
{
	static const char	 b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char		 r[33];
	size_t			 i, o;

	if (len < AUTH_TOKEN_LEN + 1 || RAND_bytes(r, 32) != 1)
		return -1;
	r[32] = 0;
	memcpy(tok, AUTH_TOKEN_PREFIX, 3);
	o = 3;
	for (i = 0; i < 33; i += 3) {
		unsigned v = (unsigned)r[i] << 16 | (unsigned)r[i + 1] << 8 | r[i + 2];

		tok[o++] = b64[(v >> 18) & 63];
		tok[o++] = b64[(v >> 12) & 63];
		if (o < AUTH_TOKEN_LEN)
			tok[o++] = b64[(v >> 6) & 63];
		if (o < AUTH_TOKEN_LEN)
			tok[o++] = b64[v & 63];
	}
	tok[AUTH_TOKEN_LEN] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

void
auth_bytea32(const unsigned char d[32], char out[67])
{
	out[0] = '\\';
	out[1] = 'x';
	hex_encode(d, 32, out + 2);
}

void
auth_sha256_bytea(const void *s, size_t len, char out[67])
{
	unsigned char	md[32];
	unsigned int	n = 0;

	EVP_Digest(s, len, md, &n, EVP_sha256(), NULL);
	auth_bytea32(md, out);
}

const char *
auth_bearer(const char *v, size_t *len)
{
	size_t	n;

	if (strncasecmp(v, "Bearer ", 7) != 0)
		return NULL;
	v += 7;
	while (*v == ' ')
		v++;
	n = strlen(v);
	while (n > 0 && v[n - 1] == ' ')
		n--;
	if (n == 0 || n > 512 || memchr(v, ' ', n) != NULL)
		return NULL;
	*len = n;
	return v;
}
