/*
 * person.h: returnees' personal data between the API and the database (docs/privacy.md).
 * Params of the methods marked M_SEALS leave the daemon with their personal data sealed
 * under a new data key of the person's own and the national id and full name as keyed
 * index values; answers of the methods marked M_PERSONAL come back with sealed values,
 * which are opened here with the data keys api.call() hands over with them. The
 * key-encryption keys are loaded once, before the workers start, and only read after.
 */
#ifndef FUND_PERSON_H
#define FUND_PERSON_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "privacy.h"

#define PERSON_MAX_KEKS		8	/* key_file and the old_key_files */
#define PERSON_STATS_LEN	64

/* Loads the key-encryption key that wraps new data keys (path) and those that only unwrap
 * (old, a space-separated list of paths; may be NULL or ""). 0, or -1 with *cause. */
int	person_keys_load(const char *path, const char *old, char **cause);
void	person_keys_free(void);
/* The key new data keys are wrapped under; NULL before person_keys_load. */
const struct priv_kek	*person_kek(void);
/* The loaded key named id, or NULL. */
const struct priv_kek	*person_kek_find(const char *id);

/*
 * The seed of a retried call's sealing (allocated, *len bytes): its method, credentials,
 * idempotency key and params, whatever the order of their members. Sealing with it makes
 * the same call send the same bytes, so that api.call() recognises the retry.
 */
unsigned char	*person_seed(const char *method, const char *token_sha256,
		    const char *cert_sha256, const char *idem, const cJSON *params,
		    size_t *len);

/*
 * Makes params of method (returnee.register, returnee.update, returnee.find) what its SQL
 * function takes: each personal value sealed into "$person" (or, for find, the index
 * values in "$find"), the plaintext removed. seed may be NULL (random keys and nonces).
 * 0, or -1 for params that must be refused (-32602: *field and *reason; params are left
 * as they were).
 */
int	person_params(const char *method, cJSON *params, const void *seed, size_t seedlen,
	    const char **field, const char **reason);

/*
 * Opens every sealed value in result ({"$sealed": field, "v": hex}) with keys, the data
 * keys api.call() handed over ({"<key id>": "<kek id>:<wrapped>"}) for the people the
 * answer is about (an erased person's values come as null, not sealed). -1 with *cause
 * (allocated; names a key id, never data) when a value does not open or keys lack its
 * key: it was altered, or moved from another person.
 */
int	person_open(cJSON *result, const cJSON *keys, char **cause);

/* [privacy] retention_years, as privacy.due reads it (ctx "retention_years"). */
void	person_retention_set(int years);
int	person_retention_years(void);

/* This year, in UTC. */
int	person_utc_year(void);
/* The statistics of a grant for api.grant_apply (ctx "stats"), from the opened returnee
 * r: {"gender": ..., "age_band": ...} with the age in year, into out. */
void	person_stats(const cJSON *r, int year, char out[PERSON_STATS_LEN]);

#endif
