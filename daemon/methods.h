/*
 * methods.h: the method table. Each entry names the roles it needs, which `fundd migrate`
 * writes into the database's fl.method, where api.call() takes them from (and fundd
 * refuses to serve a database whose fl.method differs), and declares its params, which
 * are validated here before anything reaches PostgreSQL. The work itself is the SQL
 * function api.<name with dots as underscores> (migrations/). The HTTP endpoints that
 * need roles (/metrics, the exports) are in the same table of the database, under their
 * audit names.
 */
#ifndef FUND_METHODS_H
#define FUND_METHODS_H

#include <stddef.h>
#include <cjson/cJSON.h>

enum ptype {
	PT_TEXT,	/* free text, 1..max characters */
	PT_NAME,	/* a name: free text, not blank, no bidirectional controls */
	PT_ID,		/* opaque id */
	PT_ENUM,	/* one of choices "a|b|c" */
	PT_ENUMS,	/* an array of choices "a|b|c" */
	PT_ROLES,	/* non-empty array of role names */
	PT_MONEY,	/* decimal string > 0; scale checked against currency_param if given */
	PT_MONEY0,	/* the same, zero allowed */
	PT_CURRENCY,
	PT_COUNTRY,
	PT_DATE,
	PT_TIME,
	PT_WHEN,	/* RFC 3339 time, or a date meaning midnight UTC */
	PT_YEAR,	/* a JSON integer 1900..2100 */
	PT_SEQ,		/* a JSON integer 0..2^53-1 (an audit event's seq) */
	PT_EMAIL,
	PT_RATE,
	PT_LIMIT,
	PT_CURSOR,
	PT_REGION,	/* region name or ISO 3166-2 code; resolved in the database */
	PT_CODE,	/* short code [A-Z0-9_-]{1,max} */
	PT_BOOL,	/* a JSON true or false */
	PT_IDS,		/* a non-empty array of at most 20 distinct opaque ids */
	PT_ACCOUNT,	/* a bank account as written: letters, digits and spaces, up to 42
			 * (the database checks it: fl.account_in) */
};

struct param {
	const char	*name;
	enum ptype	 type;
	int		 required;
	size_t		 max;		/* PT_TEXT, PT_NAME, PT_EMAIL: characters;
					 * PT_CODE: bytes */
	const char	*choices;	/* PT_ENUM, PT_ENUMS */
	const char	*currency_param; /* PT_MONEY */
};

#define M_MUTATES	0x01	/* accepts idempotency_key */
#define M_NEW_TOKEN	0x02	/* may mint a bearer token (principal.create, .confirm) */
#define M_WHOAMI	0x04	/* its answer is the caller's principal: kept in and answered
				 * from the credentials cache (auth_cache.h) */
#define M_PRINCIPALS	0x08	/* changes principals: flushes that cache when it succeeds */
#define M_LOCAL		0x10	/* answered by the daemon (rpc.discover) once api.authorize
				 * accepts the caller */
#define M_PERSONAL	0x20	/* its answer may hold returnees' personal data: sealed values
				 * the daemon opens (person.h) */
#define M_SEALS		0x40	/* its params hold personal data, sealed or indexed by the
				 * daemon before they leave it (person.h) */
#define M_STATS		0x80	/* grant.apply: the returnee's gender and age band are read
				 * first, for the reports' statistics (person.h) */
#define M_RETENTION	0x100	/* privacy.due: ctx "retention_years" ([privacy]) */

#define ROLES_ANY	"{}"

struct method {
	const char		*name;
	const char		*roles;		/* PostgreSQL text[] literal */
	int			 flags;
	const struct param	*params;	/* terminated by a NULL name */
};

const struct method	*method_find(const char *name, int *idx);
/* Every method's and endpoint's roles as fl.method_set() takes them: a JSON object
 * {"<name>": "<text[] literal>"}; the caller frees it. */
char			*method_roles_json(void);
int			 method_count(void);
const char		*method_name(int idx);

/* Check params (a JSON object; idempotency_key already removed) against m. On failure
 * returns -1 with the first bad param's name in *field and a reason, and, with fields,
 * every problem as an allocated array of {field, reason} with each param's hint. */
int	method_check_params(const struct method *m, const cJSON *params,
	    const char **field, const char **reason, cJSON **fields);
/* What a param takes, added to o: "allowed" (an array) for a choice, or "expected" (a
 * sentence) for a format; params: the call's, for the scale of money (may be NULL). */
void	method_param_hint(const struct param *p, const cJSON *params, cJSON *o);
const struct method	*method_at(int idx);

#endif
