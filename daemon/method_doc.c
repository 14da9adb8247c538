/*
 * method_doc.c: rpc.discover's OpenRPC document (method_doc.h), built from the method
 * table (methods.h) and, per method, what its answer is and the errors particular to it,
 * as docs/protocol.md says them (tests/integration/test_docs.py holds the two together).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "method_doc.h"
#include "methods.h"
#include "util.h"

static const struct {
	const char	*name;
	const char	*result;	/* what the answer is */
	const char	*errors;	/* "CODE reason CODE reason ..." */
} docs[] = {
	{ "audit.checkpoint",
	  "the latest signed checkpoint, `{seq, head_hash, signed_at, signature, public_key}`: the chain's hash at `seq`, signed with the signing key of that `seq` (`signature` in hex, `public_key` in PEM; [audit.md](audit.md), \"Signing keys\")",
	  "-32004 no_checkpoint_yet" },
	{ "audit.events",
	  "`{events: [audit event], next_cursor}`, in sequence order; `next_cursor` is the `from_seq` of the next page (a number), or `null`",
	  "" },
	{ "audit.verify",
	  "`{ok, verified, first_bad_seq, reason, head_seq, unchained, oldest_unchained_at}`: whether every chained event in the range still hashes to its chain, every checkpoint matches it and names the signing key of its `seq`, and the signing keys follow each other; how many events were checked; and otherwise the first bad `seq` and why (`hash_mismatch`, `prev_hash_mismatch`, `missing_event`, `unchained_below_head`, `checkpoint_mismatch`, `key_chain_broken`, `key_mismatch`: [audit.md](audit.md), \"Verifying\"); then the last event the chain covers, how many events (of the whole trail) it does not cover yet, and when the oldest of those was recorded (null when none): `ok` speaks of what is chained, and a chain that has stopped advancing shows here.",
	  "-32602 to_seq_before_from_seq" },
	{ "contribution.cancel",
	  "the contribution, `cancelled`",
	  "-32004 contribution_not_found -32009 wrong_state -32009 partly_received" },
	{ "contribution.get",
	  "the contribution",
	  "" },
	{ "contribution.list",
	  "`{contributions: [contribution], next_cursor}`",
	  "-32004 partner_not_found -32004 fund_not_found" },
	{ "contribution.pledge",
	  "the contribution, `pledged`",
	  "-32004 fund_not_found -32004 partner_not_found -32602 required_for_another_currency -32602 not_for_the_fund_currency -32602 rounds_to_zero -32602 unknown_region -32602 in_the_future" },
	{ "contribution.receive",
	  "the contribution: direct, `received`; a pledge, `received` once its receipts make up the pledged amount (more is allowed), else still `pledged` with the receipt in `receipts` and `outstanding` lowered ([ledger.md](ledger.md), \"Pledges received in parts\")",
	  "-32004 contribution_not_found -32009 wrong_state -32602 not_with_contribution_id -32602 missing -32602 in_the_future -32602 fee_not_below_amount -32010 insufficient_funds -32009 period_closed" },
	{ "contribution.reverse",
	  "the contribution, `reversed`",
	  "-32004 contribution_not_found -32009 wrong_state -32009 pledge_reversal -32010 already_used -32010 insufficient_funds -32602 in_the_future -32009 period_closed" },
	{ "contribution.status",
	  "the contribution and what it paid for, in the fund's currency: `used`, `unused`, and `allocations: [{grant_id, region, region_code, category, amount}]`",
	  "-32004 contribution_not_found" },
	{ "contribution.write_off",
	  "the contribution, `written_off`: what its receipts did not clear of its receivable is reversed (a `pledge_write_off` entry), what was received stays",
	  "-32004 contribution_not_found -32009 wrong_state" },
	{ "disbursement.confirm",
	  "the disbursement, `paid`",
	  "-32004 disbursement_not_found -32009 wrong_state -32011 same_maker_and_checker -32602 in_the_future -32009 period_closed" },
	{ "disbursement.create",
	  "the disbursement, `pending`",
	  "-32004 grant_not_found -32009 wrong_state -32009 exceeds_grant -32602 bad_account -32004 disbursement_not_found -32009 not_failed -32009 already_retried -32004 milestone_not_found -32009 milestone_not_accepted -32009 milestone_released -32009 exceeds_milestone" },
	{ "disbursement.fail",
	  "the disbursement, `failed`; its amount is free again for another disbursement",
	  "-32004 disbursement_not_found -32009 wrong_state" },
	{ "disbursement.list",
	  "`{disbursements: [disbursement], next_cursor}`",
	  "" },
	{ "disbursement.queue",
	  "`{disbursements: [disbursement], next_cursor, count}`, `count` being how many wait in all",
	  "" },
	{ "disbursement.refund",
	  "the disbursement, still `paid`, with `refunded` and the refund in `refunds`",
	  "-32004 disbursement_not_found -32009 wrong_state -32009 exceeds_paid -32602 in_the_future" },
	{ "document.get",
	  "the document (its description; the bytes are `GET /documents/{id}`'s)",
	  "-32004 document_not_found" },
	{ "fund.balance",
	  "the fund's balance (see [Objects](#objects)): `available` is `received - capital_impaired + earnings + transferred_in - transferred_out - charges - committed - disbursed` for a pass-through fund and `earnings - transferred_out - charges - committed - disbursed` for an endowment (which takes no transfers in) ([ledger.md](ledger.md), \"Balances\", \"Fees and losses\")",
	  "-32004 fund_not_found" },
	{ "fund.create",
	  "the fund",
	  "-32009 duplicate_fund" },
	{ "fund.history",
	  "`{code, currency, grain, from, to, points: [{period, until, as_of, received, earnings, pledged, committed, disbursed, transferred_in, transferred_out, charges, capital_impaired, available}]}`: one point per day, week or month that meets the range, in order, each with the fund's figures at the end of its period (the last clipped to `to`): `fund.balance` with `as_of` its last instant, `as_of` (`until` at 23:59:59.999999Z), gives the same figures",
	  "-32004 fund_not_found -32602 end_before_start -32602 range_too_long" },
	{ "fund.list",
	  "`{funds: [fund]}`, every fund, by code",
	  "" },
	{ "fund.record_earnings",
	  "`{entry_id}` of the `earnings` journal entry; for a `fee` or `loss`, `{entry_id, kind, charged_to_income, capital_impaired}` of its `fee` or `loss` entry",
	  "-32004 fund_not_found -32010 insufficient_funds -32602 not_one_of_allowed_values -32009 period_closed" },
	{ "fund.transfer",
	  "the transfer, `pending`",
	  "-32004 fund_not_found -32602 same_fund -32602 to_endowment -32602 required_for_another_currency -32602 not_for_the_fund_currency -32602 rounds_to_zero" },
	{ "fund.transfer_cancel",
	  "the transfer, `cancelled`; nothing was posted",
	  "" },
	{ "fund.transfer_confirm",
	  "the transfer, `confirmed`, with its two entries: `transfer_out` in the source fund and `transfer_in` in the destination ([ledger.md](ledger.md), \"Transfers between funds\")",
	  "-32004 transfer_not_found -32009 wrong_state -32011 same_maker_and_checker -32010 insufficient_funds" },
	{ "fund.transfer_get",
	  "the transfer",
	  "" },
	{ "fund.transfer_list",
	  "`{transfers: [transfer], next_cursor}`, in the order they were made",
	  "" },
	{ "grant.add_milestone",
	  "the milestone, `open`",
	  "-32004 grant_not_found -32009 wrong_state -32009 milestones_exceed_grant" },
	{ "grant.apply",
	  "the grant, `submitted`, in the returnee's region",
	  "-32004 returnee_not_found -32004 fund_not_found -32009 erased" },
	{ "grant.approve",
	  "the grant with the approval added",
	  "-32004 grant_not_found -32011 self_approval -32011 already_approved -32011 recused -32011 conflict_of_interest -32009 wrong_state -32010 insufficient_funds" },
	{ "grant.cancel",
	  "the grant, `cancelled`; what was committed and not paid is released",
	  "-32004 grant_not_found -32009 wrong_state -32009 disbursement_pending" },
	{ "grant.get",
	  "the grant",
	  "" },
	{ "grant.history",
	  "`{history: [{at, principal_id, name, fields, old, new}], next_cursor, grant_id}`, the corrections oldest first: who made each (`principal_id` and `name`; both `null` for a change made outside the API by the schema's owner), the fields it changed, and their values before (`old`) and after (`new`), each an object keyed by field",
	  "-32004 grant_not_found" },
	{ "grant.list",
	  "`{grants: [grant], next_cursor, count}`, oldest first; `count` is how many grants the filters select in all, over every page",
	  "-32004 fund_not_found -32004 returnee_not_found -32602 unknown_region -32602 end_before_start" },
	{ "grant.queue",
	  "`{grants: [grant], next_cursor, count}`; each grant also has `approvals_missing`, the approvals it still needs; `count` is how many wait in all with these filters (for a badge), whatever the page",
	  "-32004 fund_not_found -32602 unknown_region" },
	{ "grant.recuse",
	  "the grant, the recusal among its `recusals`",
	  "-32004 grant_not_found -32011 already_approved -32009 wrong_state" },
	{ "grant.reject",
	  "the grant, `rejected`; the rejection is among its `decisions`",
	  "-32004 grant_not_found -32011 self_approval -32011 already_approved -32011 recused -32011 conflict_of_interest -32009 wrong_state" },
	{ "grant.update",
	  "the grant",
	  "" },
	{ "grant.withdraw",
	  "the grant, `withdrawn`",
	  "" },
	{ "ledger.entries",
	  "`{entries: [entry], next_cursor}`, in journal order",
	  "-32004 account_not_found" },
	{ "ledger.trial_balance",
	  "`{currency, accounts: [{account, fund, currency, opening, debit, credit, closing}], totals: {opening_debit, opening_credit, debit, credit, closing_debit, closing_credit}, totals_by_currency: [{currency, opening_debit, ...}]}`",
	  "-32602 not_with_as_of -32602 to_before_from -32004 fund_not_found" },
	{ "milestone.accept",
	  "the milestone, `accepted`: its tranche may be paid",
	  "-32004 milestone_not_found -32009 wrong_state -32011 same_maker_and_checker" },
	{ "milestone.get",
	  "the milestone",
	  "-32004 milestone_not_found" },
	{ "milestone.list",
	  "`{milestones: [milestone], next_cursor}`, in the order they were added",
	  "-32004 grant_not_found -32602 not_a_boolean" },
	{ "milestone.reject",
	  "the milestone, `open` again with its `reason`, for another submission",
	  "-32004 milestone_not_found -32009 wrong_state -32011 same_maker_and_checker" },
	{ "milestone.submit",
	  "the milestone, `submitted`",
	  "-32004 milestone_not_found -32009 wrong_state -32004 document_not_found -32602 no_documents" },
	{ "partner.create",
	  "the partner",
	  "" },
	{ "partner.find",
	  "`{partners: [partner]}`, by name",
	  "-32602 blank" },
	{ "partner.get",
	  "the partner",
	  "" },
	{ "partner.history",
	  "`{history: [{at, principal_id, name, fields, old, new}], next_cursor, partner_id}`, the corrections oldest first: who made each (`principal_id` and `name`; both `null` for a change made outside the API by the schema's owner), the fields it changed, and their values before (`old`) and after (`new`), each an object keyed by field",
	  "-32004 partner_not_found" },
	{ "partner.list",
	  "`{partners: [partner], next_cursor}`",
	  "" },
	{ "partner.update",
	  "the partner",
	  "" },
	{ "period.close",
	  "the pending close",
	  "-32602 day_not_ended -32009 already_closed -32009 close_pending" },
	{ "period.close_confirm",
	  "the confirmed close, with its `record`",
	  "-32004 period_not_found -32009 wrong_state -32009 already_closed -32011 own_close" },
	{ "period.close_drop",
	  "the dropped close; dropping it again answers the same",
	  "-32004 period_not_found -32009 wrong_state" },
	{ "period.close_get",
	  "the close and `proof`: for a confirmed close whose record a signed checkpoint covers, `{prev_hash, events: [audit event], checkpoint, keys: [key line]}`, the chain hash before the record's event, every event from it to the first checkpoint at or after it, that checkpoint (as `audit.checkpoint` answers it), and the lines of the signing keys from key 1 to the key of the checkpoint's `seq`, as the audit export has them (no `keys` while no key is registered); else `null` (wait for the next checkpoint)",
	  "-32004 period_not_found" },
	{ "period.closes",
	  "`{closes: [close]}`, newest request first",
	  "" },
	{ "principal.confirm",
	  "the principal, `created_at`, `confirmed_at`, `confirmed_by` (the caller), `pending: false`, and `token`: its bearer token, shown only in this answer (`null` when the call is replayed by its idempotency key; a lost token means revoking the principal and creating another)",
	  "-32004 principal_not_found -32011 own_principal -32009 already_confirmed -32009 principal_revoked" },
	{ "principal.conflicts",
	  "`{conflicts: [conflict], next_cursor}`",
	  "-32003 role_required" },
	{ "principal.create",
	  "the principal, `created_at`, `pending`, and `token`: the new bearer token, shown only here (`null` when the call is replayed by its idempotency key)",
	  "-32602 partner_id_required -32602 partner_id_needs_partner_role -32004 partner_not_found" },
	{ "principal.declare_conflict",
	  "the conflict",
	  "-32003 role_required -32004 principal_not_found -32004 returnee_not_found -32602 not_an_approver" },
	{ "principal.list",
	  "`{principals: [{principal_id, name, roles, partner_id, token_expires_at, state, login, created_at, created_by, confirmed_at, confirmed_by, revoked_at, last_used_at}], next_cursor}`, in the order they were created",
	  "" },
	{ "principal.revoke",
	  "`{principal_id, revoked: true}`, also when it was revoked already",
	  "-32004 principal_not_found -32009 cannot_revoke_self" },
	{ "principal.rotate_token",
	  "the principal with `token`, the new token, shown only here (`null` on a replay), and `token_expires_at`",
	  "-32004 principal_not_found -32003 role_required -32011 own_token_only -32009 principal_revoked -32009 principal_pending -32602 in_the_past" },
	{ "privacy.due",
	  "`{due: [{returnee_id, region, region_code, kind, basis, due_since, last_grant_closed_at, erasure_pending}], next_cursor, retention_years}`, oldest registration first; `erasure_pending` is the `erasure_id` of an erasure that waits for confirmation, or `null`",
	  "" },
	{ "region.list",
	  "`{regions: [{region, region_code, country, names: {en, hy, ru}}]}`, by country and name; `names` has the region's name in English, Armenian and Russian",
	  "" },
	{ "report.contributions",
	  "the report",
	  "-32602 unknown_dimension -32602 repeated_dimension -32602 end_before_start -32602 too_many_rows -32004 fund_not_found" },
	{ "report.grants",
	  "the report",
	  "-32602 unknown_dimension -32602 repeated_dimension -32602 end_before_start -32602 identifying_dimensions -32602 too_many_rows -32004 fund_not_found" },
	{ "report.pipeline",
	  "the report",
	  "-32602 unknown_dimension -32602 repeated_dimension -32602 end_before_start -32602 too_many_rows -32004 fund_not_found" },
	{ "returnee.access_log",
	  "`{accesses: [{seq, at, principal_id, name, method, purpose}], next_cursor, returnee_id}`, oldest first: who read the returnee's personal data, when, with which method and what for (the audit events with a `purpose`, `seq` theirs)",
	  "-32004 returnee_not_found" },
	{ "returnee.erase",
	  "the erasure, `{erasure_id, returnee_id, basis, reason, status, requested_by, requested_at, decided_by, decided_at}`: `basis` `request`, `status` `pending`",
	  "-32004 returnee_not_found -32009 erased -32009 grant_open -32009 erasure_pending" },
	{ "returnee.erase_cancel",
	  "the erasure, `cancelled`",
	  "-32004 erasure_not_found -32009 wrong_state" },
	{ "returnee.erase_confirm",
	  "the erasure, `done`, with `decided_by` and `decided_at`",
	  "-32004 erasure_not_found -32009 wrong_state -32011 own_erasure -32009 erased -32009 grant_open" },
	{ "returnee.export",
	  "`{exported_at, returnee, consents, history, grants, erasures, accesses}`: the returnee; every consent recorded (`[{for, given_on, given_by, until, recorded_by, recorded_at}]`, oldest first); every correction of the record (as `returnee.history`); their grants, each with its `disbursements` (`[{disbursement_id, amount, status, paid_at, created_at}]`); their erasures (as `returnee.erase` answers them); and every access to their personal data (as `returnee.access_log`) before this one",
	  "-32004 returnee_not_found" },
	{ "returnee.find",
	  "`{returnees: [returnee with grants: [{grant_id, status, amount, currency, fund, category, created_at}]]}`, oldest first: each beneficiary found with its grants, in one call",
	  "-32602 national_id_or_name -32602 blank" },
	{ "returnee.get",
	  "the returnee",
	  "" },
	{ "returnee.history",
	  "`{history: [{at, principal_id, name, fields, old, new}], next_cursor, returnee_id}`, the corrections oldest first: who made each (`principal_id` and `name`; both `null` for a change made outside the API by the schema's owner), the fields it changed, and their values before (`old`) and after (`new`), each an object keyed by field",
	  "-32004 returnee_not_found" },
	{ "returnee.list",
	  "`{returnees: [returnee], next_cursor}`",
	  "" },
	{ "returnee.register",
	  "the returnee, with `consent` (the consent recorded: `{for, given_on, given_by, until, recorded_by, recorded_at}`, or `null`)",
	  "-32602 in_the_future -32602 unknown_region -32602 blank -32602 consent_incomplete -32602 end_before_start -32009 duplicate_returnee" },
	{ "returnee.update",
	  "the returnee",
	  "-32004 returnee_not_found -32602 in_the_future -32602 unknown_region -32602 blank -32602 consent_incomplete -32602 end_before_start -32009 duplicate_returnee -32009 erased" },
	{ "rpc.discover",
	  "the OpenRPC document (1.2.6) of every method, built from the daemon's method table: `{openrpc, info: {title, version}, methods: [{name, x-roles, x-mutation, paramStructure, params: [{name, required, schema}], result: {name, description, schema}, errors: [{code, message, data: {reason}}]}]}`",
	  "" },
	{ "system.version",
	  "`{version, protocol}`: the daemon's version and the interface's, `1`",
	  "" },
	{ "system.whoami",
	  "the calling principal: `{principal_id, name, roles, partner_id}`",
	  "" },
};

static const char *kinds[] = {
	[PT_TEXT] = "text", [PT_NAME] = "name", [PT_ID] = "id", [PT_ENUM] = "enum",
	[PT_ENUMS] = "enums", [PT_ROLES] = "roles", [PT_MONEY] = "money",
	[PT_MONEY0] = "money", [PT_CURRENCY] = "currency", [PT_COUNTRY] = "country",
	[PT_DATE] = "date", [PT_TIME] = "time", [PT_WHEN] = "when", [PT_YEAR] = "year",
	[PT_SEQ] = "seq", [PT_EMAIL] = "email", [PT_RATE] = "rate", [PT_LIMIT] = "limit",
	[PT_CURSOR] = "cursor", [PT_REGION] = "region", [PT_CODE] = "code",
	[PT_BOOL] = "boolean", [PT_IDS] = "ids", [PT_ACCOUNT] = "account",
};

/* The JSON Schema of a param's value. */
static cJSON *
param_schema(const struct param *p)
{
	cJSON	*s = cJSON_CreateObject(), *items, *hint = cJSON_CreateObject(), *h;
	char	 pat[48];

	switch (p->type) {
	case PT_YEAR:
	case PT_SEQ:
	case PT_LIMIT:
		cJSON_AddStringToObject(s, "type", "integer");
		cJSON_AddNumberToObject(s, "minimum", p->type == PT_YEAR ? 1900 :
		    p->type == PT_LIMIT ? 1 : 0);
		if (p->type != PT_SEQ)
			cJSON_AddNumberToObject(s, "maximum", p->type == PT_YEAR ? 2100 : 1000);
		break;
	case PT_BOOL:
		cJSON_AddStringToObject(s, "type", "boolean");
		break;
	case PT_IDS:
		cJSON_AddStringToObject(s, "type", "array");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(s, "items"), "type", "string");
		cJSON_AddNumberToObject(s, "minItems", 1);
		cJSON_AddNumberToObject(s, "maxItems", 20);
		break;
	case PT_ENUMS:
	case PT_ROLES:
		cJSON_AddStringToObject(s, "type", "array");
		items = cJSON_AddObjectToObject(s, "items");
		cJSON_AddStringToObject(items, "type", "string");
		method_param_hint(p, NULL, hint);
		if ((h = cJSON_DetachItemFromObjectCaseSensitive(hint, "allowed")) != NULL)
			cJSON_AddItemToObject(items, "enum", h);
		if (p->type == PT_ROLES)
			cJSON_AddNumberToObject(s, "minItems", 1);
		break;
	default:
		cJSON_AddStringToObject(s, "type", "string");
		break;
	}
	cJSON_AddStringToObject(s, "x-kind", kinds[p->type] != NULL ? kinds[p->type] : "text");
	switch (p->type) {
	case PT_ENUM:
		method_param_hint(p, NULL, hint);
		if ((h = cJSON_DetachItemFromObjectCaseSensitive(hint, "allowed")) != NULL)
			cJSON_AddItemToObject(s, "enum", h);
		break;
	case PT_TEXT:
	case PT_NAME:
	case PT_EMAIL:
		cJSON_AddNumberToObject(s, "maxLength", (double)p->max);
		break;
	case PT_REGION:
		cJSON_AddNumberToObject(s, "maxLength", 100);
		break;
	case PT_CODE:
		snprintf(pat, sizeof(pat), "^[A-Z0-9_-]{1,%zu}$", p->max);
		cJSON_AddStringToObject(s, "pattern", pat);
		break;
	case PT_MONEY:
	case PT_MONEY0:
		cJSON_AddStringToObject(s, "pattern", "^[0-9]+(\\.[0-9]{1,4})?$");
		break;
	case PT_CURRENCY:
		cJSON_AddStringToObject(s, "pattern", "^[A-Z]{3}$");
		break;
	case PT_COUNTRY:
		cJSON_AddStringToObject(s, "pattern", "^[A-Z]{2}$");
		break;
	case PT_DATE:
		cJSON_AddStringToObject(s, "format", "date");
		break;
	case PT_TIME:
		cJSON_AddStringToObject(s, "format", "date-time");
		break;
	default:
		break;
	}
	cJSON_Delete(hint);
	hint = cJSON_CreateObject();
	method_param_hint(p, NULL, hint);
	if ((h = cJSON_GetObjectItemCaseSensitive(hint, "expected")) != NULL)
		cJSON_AddStringToObject(s, "description", h->valuestring);
	cJSON_Delete(hint);
	return s;
}

static void
add_error(cJSON *errors, int code, const char *reason)
{
	cJSON	*e = cJSON_CreateObject();

	cJSON_AddNumberToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", reason);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(e, "data"), "reason", reason);
	cJSON_AddItemToArray(errors, e);
}

/* The errors of m: its own, as docs/protocol.md lists them, then those any call of its
 * kind may get. */
static cJSON *
method_errors(const struct method *m, const char *own)
{
	cJSON		*errors = cJSON_CreateArray();
	const char	*p = own;
	char		 reason[64];
	int		 code, n;

	while (p != NULL && sscanf(p, "%d %63s%n", &code, reason, &n) == 2) {
		add_error(errors, code, reason);
		p += n;
	}
	if (m->params[0].name != NULL)
		add_error(errors, -32602, "invalid_params");
	add_error(errors, -32001, "bad_credentials");
	if (strcmp(m->roles, "{}") != 0)
		add_error(errors, -32003, "role_required");
	if (m->flags & M_MUTATES) {
		add_error(errors, -32009, "idempotency_mismatch");
		add_error(errors, -32051, "outcome_unknown");
	}
	add_error(errors, -32029, "overloaded");
	add_error(errors, -32050, "database_unavailable");
	return errors;
}

/* "{admin,auditor}" as ["admin", "auditor"]. */
static cJSON *
roles_array(const char *lit)
{
	cJSON		*a = cJSON_CreateArray();
	const char	*p = lit + 1, *e;
	char		*one;

	while (*p != '}' && *p != '\0') {
		e = p + strcspn(p, ",}");
		one = xstrndup(p, (size_t)(e - p));
		cJSON_AddItemToArray(a, cJSON_CreateString(one));
		free(one);
		p = *e == ',' ? e + 1 : e;
	}
	return a;
}

cJSON *
method_discover(const char *version)
{
	cJSON			*doc = cJSON_CreateObject(), *info, *ms, *o, *ps, *po, *res;
	const struct method	*m;
	const struct param	*p;
	const char		*result, *errors;
	int			 i;
	size_t			 k;

	cJSON_AddStringToObject(doc, "openrpc", "1.2.6");
	info = cJSON_AddObjectToObject(doc, "info");
	cJSON_AddStringToObject(info, "title", "fundd");
	cJSON_AddStringToObject(info, "version", version);
	ms = cJSON_AddArrayToObject(doc, "methods");
	for (i = 0; (m = method_at(i)) != NULL; i++) {
		result = "";
		errors = "";
		for (k = 0; k < nitems(docs); k++)
			if (strcmp(docs[k].name, m->name) == 0) {
				result = docs[k].result;
				errors = docs[k].errors;
			}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", m->name);
		cJSON_AddItemToObject(o, "x-roles", roles_array(m->roles));
		cJSON_AddBoolToObject(o, "x-mutation", (m->flags & M_MUTATES) != 0);
		cJSON_AddStringToObject(o, "paramStructure", "by-name");
		ps = cJSON_AddArrayToObject(o, "params");
		for (p = m->params; p->name != NULL; p++) {
			po = cJSON_CreateObject();
			cJSON_AddStringToObject(po, "name", p->name);
			cJSON_AddBoolToObject(po, "required", p->required != 0);
			cJSON_AddItemToObject(po, "schema", param_schema(p));
			cJSON_AddItemToArray(ps, po);
		}
		if (m->flags & M_MUTATES) {
			po = cJSON_CreateObject();
			cJSON_AddStringToObject(po, "name", "idempotency_key");
			cJSON_AddBoolToObject(po, "required", 0);
			cJSON_AddStringToObject(cJSON_AddObjectToObject(po, "schema"), "type",
			    "string");
			cJSON_AddItemToArray(ps, po);
		} else {
			po = cJSON_CreateObject();
			cJSON_AddStringToObject(po, "name", "consistent");
			cJSON_AddBoolToObject(po, "required", 0);
			cJSON_AddStringToObject(cJSON_AddObjectToObject(po, "schema"), "type",
			    "boolean");
			cJSON_AddItemToArray(ps, po);
		}
		res = cJSON_AddObjectToObject(o, "result");
		cJSON_AddStringToObject(res, "name", "result");
		cJSON_AddStringToObject(res, "description", result);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(res, "schema"), "type", "object");
		cJSON_AddItemToObject(o, "errors", method_errors(m, errors));
		cJSON_AddItemToArray(ms, o);
	}
	return doc;
}
