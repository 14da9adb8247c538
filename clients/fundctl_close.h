/*
 * fundctl_close.h: `fundctl ledger verify` and the files of
 * `fundctl ledger export-close` (docs/ledger.md, "Closed periods").
 */
#ifndef FUNDCTL_CLOSE_H
#define FUNDCTL_CLOSE_H

#include <cjson/cJSON.h>

struct fc_buf;

/*
 * Verify the CSV in path against its proof path.close.json and the
 * Ed25519 key in the PEM file keypath, offline. Prints "ok: ..." on stdout
 * and returns FC_EXIT_OK, or "FAIL: path: what is wrong" on stderr and
 * FC_EXIT_BAD; FC_EXIT_FAIL with *cause when a file cannot be read.
 */
int	fc_ledger_verify(const char *path, const char *keypath, char **cause);

/*
 * Write csv to path and the proof of close (a confirmed close as
 * period.close_get answers it, with its proof) to path.close.json, then
 * verify them, against keypath when given, else against the key the
 * checkpoint names. Returns as fc_ledger_verify.
 */
int	fc_ledger_save(const char *path, cJSON *close, const struct fc_buf *csv,
	    const char *keypath, char **cause);

#endif /* FUNDCTL_CLOSE_H */
