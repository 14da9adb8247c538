/* person_seal.h: returnees' sealed data outside of calls: the migration step that seals
 * plaintext, and key rotation (person_seal.c, docs/privacy.md). */
#ifndef FUND_PERSON_SEAL_H
#define FUND_PERSON_SEAL_H

#include <libpq-fe.h>

#include "privacy.h"

/* A migrate_hooks step (migrate.h): "seal_returnees", under person_kek(). 0 or -1. */
int	person_seal_step(PGconn *, const char *name, void *arg, char **cause);

/* Wraps every data key anew under to, and computes every returnee's keyed index under
 * it, batch rows per transaction, until none is left; the keys of person_keys_load
 * unwrap what is not yet under to. Resumable: run again after a crash. 0, or -1 with
 * *cause. */
int	person_rotate(PGconn *, const struct priv_kek *to, int batch, char **cause);

#endif
