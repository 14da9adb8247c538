/*
 * fundctl_net.h: URL parsing and the blocking TLS connection to fundd.
 */
#ifndef FUNDCTL_NET_H
#define FUNDCTL_NET_H

#include <stddef.h>

/* https://host[:port][/ignored...], https://[v6addr]:port. */
struct fc_url {
	char	*host;		/* name or IP literal, no brackets */
	char	*port;		/* decimal, "443" when the URL has none */
	int	 host_is_ip;	/* IP literal: no SNI, certificate checked by IP */
	char	*authority;	/* "host:port" or "[v6]:port", for Host: and messages */
};

/* Fills *u (free with fc_url_free, also after a failure). Only https. */
int	 fc_url_parse(const char *s, struct fc_url *u, char **cause);
void	 fc_url_free(struct fc_url *u);

struct fc_tls_opts {
	const char	*cacert;	/* PEM file or hashed directory; NULL: system store */
	const char	*cert;		/* client certificate chain (PEM), or NULL */
	const char	*key;		/* its private key (PEM); NULL: in the cert file */
};

struct fc_conn;

/*
 * Resolve, connect and complete the TLS handshake (TLS 1.2 minimum, server
 * certificate and host name or IP verified). Every socket operation times out
 * after timeout_s seconds; with whole != 0 the entire exchange, from connect
 * to the last byte read, must also finish within timeout_s.
 */
int	 fc_conn_open(const struct fc_url *, const struct fc_tls_opts *,
	    int timeout_s, int whole, struct fc_conn **out, char **cause);

/* Write all n bytes. */
int	 fc_conn_write(struct fc_conn *, const void *, size_t, char **cause);

/* Read up to n bytes; *got == 0 means the server closed the connection
 * (with or without a TLS close_notify). */
int	 fc_conn_read(struct fc_conn *, void *, size_t n, size_t *got,
	    char **cause);

/* Did the last failure carry a TLS alert from the server (for example
 * "certificate required")? */
int	 fc_conn_alerted(const struct fc_conn *);

/* "host:port" of the peer, for messages. */
const char *fc_conn_peer(const struct fc_conn *);

/* Sends close_notify when the connection is still sound, then frees. */
void	 fc_conn_close(struct fc_conn *);

#endif /* FUNDCTL_NET_H */
