/* auth.h: bearer tokens: 256 random bits, shown once, stored only as a SHA-256. */
#ifndef FUND_AUTH_H
#define FUND_AUTH_H

#include <stddef.h>

#define AUTH_TOKEN_PREFIX	"fl_"
#define AUTH_TOKEN_LEN		(3 + 43)	/* prefix + base64url of 32 bytes */
#define AUTH_HEX_SHA256		65
#define AUTH_BYTEA_SHA256	67	/* "\\x", 64 hex digits, NUL */

/* A request's credentials: the SHA-256 of its bearer token and of its client certificate,
 * each in bytea text form, or "" when it has none. */
struct auth_creds {
	char	token_sha256[AUTH_BYTEA_SHA256];
	char	cert_sha256[AUTH_BYTEA_SHA256];
};

/* A fresh token into tok (AUTH_TOKEN_LEN + 1 bytes); -1 if the RNG failed. */
int	auth_token_new(char *tok, size_t len);
/* "\\x" + hex SHA-256 of s, the bytea text form PostgreSQL accepts (67 bytes). */
void	auth_sha256_bytea(const void *s, size_t len, char out[67]);
/* bytea text form of a 32-byte digest */
void	auth_bytea32(const unsigned char d[32], char out[67]);
/* Extract the token from an Authorization header value ("Bearer TOKEN", scheme
 * case-insensitive); returns a pointer into v and its length, or NULL. */
const char *auth_bearer(const char *v, size_t *len);

#endif
