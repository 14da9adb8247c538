/*
 * fundctl_audit.h: `fundctl audit verify`.
 */
#ifndef FUNDCTL_AUDIT_H
#define FUNDCTL_AUDIT_H

#include <openssl/evp.h>

/*
 * Verify the audit export in path ("-": stdin) against the Ed25519 key in
 * the PEM file keypath (public, or private of which only the public half
 * is used). Prints "ok: ..." on stdout and returns FC_EXIT_OK, or prints
 * "FAIL: line N: ..." on stderr and returns FC_EXIT_BAD; returns
 * FC_EXIT_FAIL with *cause set when the file or the key cannot be read.
 */
int	fc_audit_verify(const char *path, const char *keypath, char **cause);

/*
 * The Ed25519 public key in the PEM file path: a public key, or a private
 * key of which only the public half is kept. 0, or -1 with *cause.
 */
int	fc_load_pubkey(const char *path, EVP_PKEY **out, char **cause);

#endif /* FUNDCTL_AUDIT_H */
