/* methods.c: the declarative method table and param validation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "methods.h"
#include "util.h"
#include "validate.h"

#define ROLES_A		"{admin}"
#define ROLES_APU	"{admin,approver,auditor}"
#define ROLES_AU	"{admin,auditor}"
#define ROLES_P		"{approver}"
#define ROLES_AUR	"{admin,auditor,partner}"
#define ROLES_AP	"{admin,approver}"
#define ROLES_U		"{auditor}"
#define ROLES_APUR	"{admin,approver,auditor,partner}"

#define P_END		{ NULL, 0, 0, 0, NULL, NULL }
#define P_LIST		{ "limit", PT_LIMIT, 0, 0, NULL, NULL }, \
			{ "cursor", PT_CURSOR, 0, 0, NULL, NULL }

static const struct param p_none[] = { { NULL, 0, 0, 0, NULL, NULL } };

static const struct param p_principal_create[] = {
	{ "name", PT_NAME, 1, 200, NULL, NULL },
	{ "roles", PT_ROLES, 1, 0, NULL, NULL },
	{ "partner_id", PT_ID, 0, 0, NULL, NULL },
	{ "expires_at", PT_WHEN, 0, 0, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static const struct param p_principal_rotate[] = {
	{ "principal_id", PT_ID, 0, 0, NULL, NULL },
	{ "expires_at", PT_WHEN, 0, 0, NULL, NULL },
	P_END
};

static const struct param p_principal_list[] = {
	{ "state", PT_ENUM, 0, 0, "active|pending|revoked|expired", NULL },
	{ "role", PT_ENUM, 0, 0, "admin|approver|auditor|partner", NULL },
	P_LIST,
	P_END
};

static const struct param p_principal_id[] = {
	{ "principal_id", PT_ID, 1, 0, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static const struct param p_fund_create[] = {
	{ "code", PT_CODE, 1, 32, NULL, NULL },
	{ "name", PT_NAME, 1, 200, NULL, NULL },
	{ "currency", PT_CURRENCY, 1, 0, NULL, NULL },
	{ "kind", PT_ENUM, 1, 0, "pass_through|endowment", NULL },
	{ "dual_approval_above", PT_MONEY0, 1, 0, NULL, "currency" },
	P_END
};

/* basis: which time ledger readings select by, the value date or the recording time. */
#define P_BASIS		{ "basis", PT_ENUM, 0, 0, "value|recorded", NULL }
/* what a call that returns personal data reads it for (docs/privacy.md) */
#define P_PURPOSE	{ "purpose", PT_ENUM, 0, 0, \
			    "case_management|payment|audit|data_subject_request", NULL }
/* the consent a returnee gave (returnee.register, returnee.update) */
#define P_CONSENT	{ "consent_for", PT_ENUMS, 0, 0, "case_management|payment", NULL }, \
			{ "consent_given_on", PT_DATE, 0, 0, NULL, NULL }, \
			{ "consent_given_by", PT_ENUM, 0, 0, "self|guardian|representative", \
			    NULL }, \
			{ "consent_until", PT_DATE, 0, 0, NULL, NULL }

static const struct param p_fund_balance[] = {
	{ "code", PT_CODE, 1, 32, NULL, NULL },
	{ "as_of", PT_WHEN, 0, 0, NULL, NULL },
	P_BASIS,
	P_END
};

static const struct param p_fund_history[] = {
	{ "code", PT_CODE, 1, 32, NULL, NULL },
	{ "from", PT_DATE, 1, 0, NULL, NULL },
	{ "to", PT_DATE, 1, 0, NULL, NULL },
	{ "grain", PT_ENUM, 0, 0, "day|week|month", NULL },
	P_END
};

static const struct param p_fund_record_earnings[] = {
	{ "code", PT_CODE, 1, 32, NULL, NULL },
	{ "amount", PT_MONEY, 1, 0, NULL, NULL },
	{ "period", PT_TEXT, 1, 64, NULL, NULL },
	{ "note", PT_TEXT, 0, 500, NULL, NULL },
	{ "kind", PT_ENUM, 0, 0, "interest|dividend|realised_gain|fee|loss", NULL },
	{ "value_date", PT_WHEN, 0, 0, NULL, NULL },
	P_END
};

static const struct param p_fund_transfer[] = {
	{ "from", PT_CODE, 1, 32, NULL, NULL },
	{ "to", PT_CODE, 1, 32, NULL, NULL },
	{ "amount", PT_MONEY, 1, 0, NULL, NULL },
	{ "fx_rate", PT_RATE, 0, 0, NULL, NULL },
	{ "memo", PT_TEXT, 1, 500, NULL, NULL },
	P_END
};

static const struct param p_transfer_id[] = {
	{ "transfer_id", PT_ID, 1, 0, NULL, NULL },
	P_END
};

static const struct param p_transfer_cancel[] = {
	{ "transfer_id", PT_ID, 1, 0, NULL, NULL },
	{ "reason", PT_TEXT, 1, 500, NULL, NULL },
	P_END
};

static const struct param p_transfer_list[] = {
	{ "fund", PT_CODE, 0, 32, NULL, NULL },
	{ "status", PT_ENUM, 0, 0, "pending|confirmed|cancelled", NULL },
	P_LIST,
	P_END
};

static const struct param p_partner_create[] = {
	{ "name", PT_NAME, 1, 200, NULL, NULL },
	{ "country", PT_COUNTRY, 1, 0, NULL, NULL },
	{ "kind", PT_ENUM, 1, 0, "individual|organisation", NULL },
	{ "email", PT_EMAIL, 0, 254, NULL, NULL },
	P_END
};

static const struct param p_partner_get[] = {
	{ "partner_id", PT_ID, 1, 0, NULL, NULL },
	P_END
};

static const struct param p_list[] = { P_LIST, P_END };

static const struct param p_contribution_pledge[] = {
	{ "partner_id", PT_ID, 1, 0, NULL, NULL },
	{ "fund", PT_CODE, 1, 32, NULL, NULL },
	{ "amount", PT_MONEY, 1, 0, NULL, "currency" },
	{ "currency", PT_CURRENCY, 1, 0, NULL, NULL },
	{ "fx_rate", PT_RATE, 0, 0, NULL, NULL },
	{ "earmark_region", PT_REGION, 0, 0, NULL, NULL },
	{ "pledged_at", PT_WHEN, 0, 0, NULL, NULL },
	P_END
};

/* A pledge's contribution_id with what of it came (amount, fx_rate, fee, received_at,
 * bank_ref), or the fields of a direct receipt (checked in SQL). */
static const struct param p_contribution_receive[] = {
	{ "contribution_id", PT_ID, 0, 0, NULL, NULL },
	{ "partner_id", PT_ID, 0, 0, NULL, NULL },
	{ "fund", PT_CODE, 0, 32, NULL, NULL },
	{ "amount", PT_MONEY, 0, 0, NULL, "currency" },
	{ "currency", PT_CURRENCY, 0, 0, NULL, NULL },
	{ "fx_rate", PT_RATE, 0, 0, NULL, NULL },
	{ "earmark_region", PT_REGION, 0, 0, NULL, NULL },
	{ "received_at", PT_WHEN, 0, 0, NULL, NULL },
	{ "bank_ref", PT_TEXT, 0, 200, NULL, NULL },
	{ "fee", PT_MONEY0, 0, 0, NULL, NULL },
	P_END
};

static const struct param p_contribution_cancel[] = {
	{ "contribution_id", PT_ID, 1, 0, NULL, NULL },
	{ "reason", PT_TEXT, 1, 500, NULL, NULL },
	P_END
};

static const struct param p_contribution_get[] = {
	{ "contribution_id", PT_ID, 1, 0, NULL, NULL },
	P_END
};

static const struct param p_contribution_list[] = {
	{ "partner_id", PT_ID, 0, 0, NULL, NULL },
	{ "fund", PT_CODE, 0, 32, NULL, NULL },
	{ "status", PT_ENUM, 0, 0, "pledged|received|cancelled|written_off|reversed", NULL },
	P_LIST,
	P_END
};

static const struct param p_ledger_entries[] = {
	{ "from", PT_WHEN, 0, 0, NULL, NULL },
	{ "to", PT_WHEN, 0, 0, NULL, NULL },
	{ "account", PT_TEXT, 0, 100, NULL, NULL },
	P_BASIS,
	P_LIST,
	P_END
};

static const struct param p_ledger_trial_balance[] = {
	{ "as_of", PT_WHEN, 0, 0, NULL, NULL },
	{ "from", PT_WHEN, 0, 0, NULL, NULL },
	{ "to", PT_WHEN, 0, 0, NULL, NULL },
	{ "currency", PT_CURRENCY, 0, 0, NULL, NULL },
	{ "fund", PT_CODE, 0, 32, NULL, NULL },
	P_BASIS,
	P_END
};

#define BENEFICIARY_KINDS "returnee|displaced|refugee|asylum_seeker"

static const struct param p_returnee_register[] = {
	{ "full_name", PT_NAME, 1, 200, NULL, NULL },
	{ "region", PT_REGION, 1, 0, NULL, NULL },
	{ "returned_from", PT_COUNTRY, 1, 0, NULL, NULL },
	{ "returned_on", PT_DATE, 1, 0, NULL, NULL },
	{ "gender", PT_ENUM, 0, 0, "female|male|other|undisclosed", NULL },
	{ "birth_year", PT_YEAR, 0, 0, NULL, NULL },
	{ "national_id", PT_TEXT, 0, 64, NULL, NULL },
	{ "contact", PT_TEXT, 0, 500, NULL, NULL },
	{ "notes", PT_TEXT, 0, 2000, NULL, NULL },
	{ "kind", PT_ENUM, 0, 0, BENEFICIARY_KINDS, NULL },
	P_CONSENT,
	P_PURPOSE,
	P_END
};

static const struct param p_returnee_get[] = {
	{ "returnee_id", PT_ID, 1, 0, NULL, NULL },
	P_PURPOSE,
	P_END
};

static const struct param p_returnee_list[] = {
	{ "region", PT_REGION, 0, 0, NULL, NULL },
	{ "kind", PT_ENUM, 0, 0, BENEFICIARY_KINDS, NULL },
	P_LIST,
	P_PURPOSE,
	P_END
};

#define GRANT_CATEGORIES "small_business|agriculture|requalification|employment|housing|other"
#define GRANT_STATES	"submitted|approved|rejected|withdrawn|completed|cancelled"

static const struct param p_grant_apply[] = {
	{ "returnee_id", PT_ID, 1, 0, NULL, NULL },
	{ "fund", PT_CODE, 1, 32, NULL, NULL },
	{ "amount", PT_MONEY, 1, 0, NULL, NULL },
	{ "category", PT_ENUM, 1, 0, GRANT_CATEGORIES, NULL },
	{ "purpose", PT_TEXT, 1, 1000, NULL, NULL },
	P_END
};

static const struct param p_grant_id[] = {
	{ "grant_id", PT_ID, 1, 0, NULL, NULL },
	P_PURPOSE,
	P_END
};

static const struct param p_grant_reason[] = {
	{ "grant_id", PT_ID, 1, 0, NULL, NULL },
	{ "reason", PT_TEXT, 1, 500, NULL, NULL },
	P_PURPOSE,
	P_END
};

static const struct param p_grant_approve[] = {
	{ "grant_id", PT_ID, 1, 0, NULL, NULL },
	{ "comment", PT_TEXT, 0, 1000, NULL, NULL },
	P_PURPOSE,
	P_END
};

static const struct param p_returnee_find[] = {
	{ "national_id", PT_TEXT, 0, 64, NULL, NULL },
	{ "name", PT_NAME, 0, 200, NULL, NULL },
	{ "limit", PT_LIMIT, 0, 0, NULL, NULL },
	P_PURPOSE,
	P_END
};

static const struct param p_partner_find[] = {
	{ "name", PT_NAME, 1, 200, NULL, NULL },
	{ "limit", PT_LIMIT, 0, 0, NULL, NULL },
	P_END
};

static const struct param p_grant_list[] = {
	{ "status", PT_ENUM, 0, 0, GRANT_STATES, NULL },
	{ "fund", PT_CODE, 0, 32, NULL, NULL },
	{ "region", PT_REGION, 0, 0, NULL, NULL },
	{ "category", PT_ENUM, 0, 0, GRANT_CATEGORIES, NULL },
	{ "returnee_id", PT_ID, 0, 0, NULL, NULL },
	{ "created_from", PT_DATE, 0, 0, NULL, NULL },
	{ "created_to", PT_DATE, 0, 0, NULL, NULL },
	{ "decided_from", PT_DATE, 0, 0, NULL, NULL },
	{ "decided_to", PT_DATE, 0, 0, NULL, NULL },
	P_LIST,
	P_PURPOSE,
	P_END
};

static const struct param p_disbursement_create[] = {
	{ "grant_id", PT_ID, 1, 0, NULL, NULL },
	{ "amount", PT_MONEY, 1, 0, NULL, NULL },
	{ "reference", PT_TEXT, 0, 200, NULL, NULL },
	{ "payee_account", PT_ACCOUNT, 0, 0, NULL, NULL },
	{ "retry_of", PT_ID, 0, 0, NULL, NULL },
	{ "milestone_id", PT_ID, 0, 0, NULL, NULL },
	P_END
};

/* Milestones and their evidence */
static const struct param p_grant_add_milestone[] = {
	{ "grant_id", PT_ID, 1, 0, NULL, NULL },
	{ "due_on", PT_DATE, 1, 0, NULL, NULL },
	{ "evidence_required", PT_TEXT, 1, 1000, NULL, NULL },
	{ "amount", PT_MONEY, 1, 0, NULL, NULL },
	P_END
};

static const struct param p_milestone_submit[] = {
	{ "milestone_id", PT_ID, 1, 0, NULL, NULL },
	{ "document_ids", PT_IDS, 1, 0, NULL, NULL },
	{ "note", PT_TEXT, 0, 1000, NULL, NULL },
	P_END
};

static const struct param p_milestone_accept[] = {
	{ "milestone_id", PT_ID, 1, 0, NULL, NULL },
	{ "comment", PT_TEXT, 0, 1000, NULL, NULL },
	P_END
};

static const struct param p_milestone_reject[] = {
	{ "milestone_id", PT_ID, 1, 0, NULL, NULL },
	{ "reason", PT_TEXT, 1, 1000, NULL, NULL },
	P_END
};

static const struct param p_milestone_id[] = {
	{ "milestone_id", PT_ID, 1, 0, NULL, NULL },
	P_END
};

static const struct param p_milestone_list[] = {
	{ "grant_id", PT_ID, 0, 0, NULL, NULL },
	{ "status", PT_ENUM, 0, 0, "open|submitted|accepted", NULL },
	{ "overdue", PT_BOOL, 0, 0, NULL, NULL },
	P_LIST,
	P_END
};

static const struct param p_document_id[] = {
	{ "document_id", PT_ID, 1, 0, NULL, NULL },
	P_END
};

static const struct param p_disbursement_confirm[] = {
	{ "disbursement_id", PT_ID, 1, 0, NULL, NULL },
	{ "bank_ref", PT_TEXT, 1, 200, NULL, NULL },
	{ "paid_at", PT_WHEN, 0, 0, NULL, NULL },
	P_END
};

static const struct param p_disbursement_refund[] = {
	{ "disbursement_id", PT_ID, 1, 0, NULL, NULL },
	{ "amount", PT_MONEY, 0, 0, NULL, NULL },
	{ "refunded_at", PT_WHEN, 0, 0, NULL, NULL },
	{ "bank_ref", PT_TEXT, 0, 200, NULL, NULL },
	{ "reason", PT_TEXT, 1, 500, NULL, NULL },
	P_END
};

static const struct param p_disbursement_fail[] = {
	{ "disbursement_id", PT_ID, 1, 0, NULL, NULL },
	{ "reason", PT_TEXT, 1, 500, NULL, NULL },
	P_END
};

static const struct param p_disbursement_list[] = {
	{ "grant_id", PT_ID, 0, 0, NULL, NULL },
	{ "status", PT_ENUM, 0, 0, "pending|paid|failed", NULL },
	P_LIST,
	P_END
};

/* Queues and conflicts of interest */
static const struct param p_grant_queue[] = {
	{ "fund", PT_CODE, 0, 32, NULL, NULL },
	{ "region", PT_REGION, 0, 0, NULL, NULL },
	{ "category", PT_ENUM, 0, 0, GRANT_CATEGORIES, NULL },
	P_LIST,
	P_PURPOSE,
	P_END
};

static const struct param p_disbursement_queue[] = {
	{ "fund", PT_CODE, 0, 32, NULL, NULL },
	P_LIST,
	P_END
};

static const struct param p_grant_recuse[] = {
	{ "grant_id", PT_ID, 1, 0, NULL, NULL },
	{ "reason", PT_TEXT, 1, 1000, NULL, NULL },
	P_PURPOSE,
	P_END
};

static const struct param p_declare_conflict[] = {
	{ "returnee_id", PT_ID, 1, 0, NULL, NULL },
	{ "reason", PT_TEXT, 1, 1000, NULL, NULL },
	{ "principal_id", PT_ID, 0, 0, NULL, NULL },
	P_END
};

static const struct param p_conflicts[] = {
	{ "principal_id", PT_ID, 0, 0, NULL, NULL },
	{ "returnee_id", PT_ID, 0, 0, NULL, NULL },
	P_LIST,
	P_END
};

/* Corrections and their history */
static const struct param p_contribution_reverse[] = {
	{ "contribution_id", PT_ID, 1, 0, NULL, NULL },
	{ "reason", PT_TEXT, 1, 500, NULL, NULL },
	{ "value_date", PT_WHEN, 0, 0, NULL, NULL },
	P_END
};

static const struct param p_partner_update[] = {
	{ "partner_id", PT_ID, 1, 0, NULL, NULL },
	{ "name", PT_NAME, 0, 200, NULL, NULL },
	{ "country", PT_COUNTRY, 0, 0, NULL, NULL },
	{ "kind", PT_ENUM, 0, 0, "individual|organisation", NULL },
	{ "email", PT_EMAIL, 0, 254, NULL, NULL },
	P_END
};

static const struct param p_returnee_update[] = {
	{ "returnee_id", PT_ID, 1, 0, NULL, NULL },
	{ "full_name", PT_NAME, 0, 200, NULL, NULL },
	{ "region", PT_REGION, 0, 0, NULL, NULL },
	{ "returned_from", PT_COUNTRY, 0, 0, NULL, NULL },
	{ "returned_on", PT_DATE, 0, 0, NULL, NULL },
	{ "gender", PT_ENUM, 0, 0, "female|male|other|undisclosed", NULL },
	{ "birth_year", PT_YEAR, 0, 0, NULL, NULL },
	{ "national_id", PT_TEXT, 0, 64, NULL, NULL },
	{ "contact", PT_TEXT, 0, 500, NULL, NULL },
	{ "notes", PT_TEXT, 0, 2000, NULL, NULL },
	{ "kind", PT_ENUM, 0, 0, BENEFICIARY_KINDS, NULL },
	P_CONSENT,
	P_PURPOSE,
	P_END
};

static const struct param p_grant_update[] = {
	{ "grant_id", PT_ID, 1, 0, NULL, NULL },
	{ "amount", PT_MONEY, 0, 0, NULL, NULL },
	{ "category", PT_ENUM, 0, 0, GRANT_CATEGORIES, NULL },
	{ "purpose", PT_TEXT, 0, 1000, NULL, NULL },
	P_END
};

static const struct param p_partner_history[] = {
	{ "partner_id", PT_ID, 1, 0, NULL, NULL },
	P_LIST,
	P_END
};

static const struct param p_returnee_history[] = {
	{ "returnee_id", PT_ID, 1, 0, NULL, NULL },
	P_LIST,
	P_PURPOSE,
	P_END
};

static const struct param p_returnee_access_log[] = {
	{ "returnee_id", PT_ID, 1, 0, NULL, NULL },
	P_LIST,
	P_END
};

static const struct param p_returnee_export[] = {
	{ "returnee_id", PT_ID, 1, 0, NULL, NULL },
	P_PURPOSE,
	P_END
};

static const struct param p_returnee_erase[] = {
	{ "returnee_id", PT_ID, 1, 0, NULL, NULL },
	{ "reason", PT_TEXT, 1, 500, NULL, NULL },
	P_END
};

static const struct param p_erasure_id[] = {
	{ "erasure_id", PT_ID, 1, 0, NULL, NULL },
	P_END
};

static const struct param p_privacy_due[] = {
	P_LIST,
	P_END
};

static const struct param p_grant_history[] = {
	{ "grant_id", PT_ID, 1, 0, NULL, NULL },
	P_LIST,
	P_END
};

static const struct param p_audit_events[] = {
	{ "from_seq", PT_SEQ, 0, 0, NULL, NULL },
	{ "limit", PT_LIMIT, 0, 0, NULL, NULL },
	P_END
};

static const struct param p_audit_verify[] = {
	{ "from_seq", PT_SEQ, 0, 0, NULL, NULL },
	{ "to_seq", PT_SEQ, 0, 0, NULL, NULL },
	P_END
};

static const struct param p_period_close[] = {
	{ "until", PT_DATE, 1, 0, NULL, NULL },
	P_END
};

static const struct param p_period_id[] = {
	{ "period_id", PT_ID, 1, 0, NULL, NULL },
	P_END
};

/* Reports: a date range (both days included), dimensions to group by, a fund. */
static const struct param p_report_grants[] = {
	{ "from", PT_DATE, 1, 0, NULL, NULL },
	{ "to", PT_DATE, 1, 0, NULL, NULL },
	{ "by", PT_ENUMS, 0, 0, "fund|region|category|status|kind|gender|age_band|year|quarter|month", NULL },
	{ "fund", PT_CODE, 0, 32, NULL, NULL },
	{ "dated", PT_ENUM, 0, 0, "applied|decided", NULL },
	P_END
};

static const struct param p_report_contributions[] = {
	{ "from", PT_DATE, 1, 0, NULL, NULL },
	{ "to", PT_DATE, 1, 0, NULL, NULL },
	{ "by", PT_ENUMS, 0, 0, "fund|partner_country|partner_kind|currency|year|quarter|month", NULL },
	{ "fund", PT_CODE, 0, 32, NULL, NULL },
	P_END
};

static const struct param p_report_pipeline[] = {
	{ "from", PT_DATE, 1, 0, NULL, NULL },
	{ "to", PT_DATE, 1, 0, NULL, NULL },
	{ "by", PT_ENUMS, 0, 0, "fund|region|category|kind|year|quarter|month", NULL },
	{ "fund", PT_CODE, 0, 32, NULL, NULL },
	P_END
};

static const struct method methods[] = {
	{ "system.version", ROLES_ANY, 0, p_none },
	{ "system.whoami", ROLES_ANY, M_WHOAMI, p_none },
	{ "region.list", ROLES_ANY, 0, p_none },
	{ "principal.create", ROLES_A, M_MUTATES | M_NEW_TOKEN | M_PRINCIPALS,
	  p_principal_create },
	{ "principal.confirm", ROLES_A, M_MUTATES | M_NEW_TOKEN | M_PRINCIPALS,
	  p_principal_id },
	{ "principal.revoke", ROLES_A, M_MUTATES | M_PRINCIPALS, p_principal_id },
	{ "principal.rotate_token", ROLES_ANY, M_MUTATES | M_NEW_TOKEN | M_PRINCIPALS,
	    p_principal_rotate },
	{ "principal.list", ROLES_A, 0, p_principal_list },
	{ "fund.create", ROLES_A, M_MUTATES, p_fund_create },
	{ "fund.list", ROLES_ANY, 0, p_none },
	{ "fund.balance", ROLES_APU, 0, p_fund_balance },
	{ "fund.history", ROLES_APU, 0, p_fund_history },
	{ "fund.record_earnings", ROLES_A, M_MUTATES, p_fund_record_earnings },
	{ "fund.transfer", ROLES_A, M_MUTATES, p_fund_transfer },
	{ "fund.transfer_confirm", ROLES_AP, M_MUTATES, p_transfer_id },
	{ "fund.transfer_cancel", ROLES_A, M_MUTATES, p_transfer_cancel },
	{ "fund.transfer_get", ROLES_APU, 0, p_transfer_id },
	{ "fund.transfer_list", ROLES_APU, 0, p_transfer_list },
	{ "partner.create", ROLES_A, M_MUTATES, p_partner_create },
	{ "partner.get", ROLES_AUR, 0, p_partner_get },
	{ "partner.list", ROLES_AU, 0, p_list },
	{ "partner.find", ROLES_AU, 0, p_partner_find },
	{ "partner.update", ROLES_A, M_MUTATES, p_partner_update },
	{ "partner.history", ROLES_AUR, 0, p_partner_history },
	{ "contribution.pledge", ROLES_A, M_MUTATES, p_contribution_pledge },
	{ "contribution.receive", ROLES_A, M_MUTATES, p_contribution_receive },
	{ "contribution.cancel", ROLES_A, M_MUTATES, p_contribution_cancel },
	{ "contribution.write_off", ROLES_A, M_MUTATES, p_contribution_cancel },
	{ "contribution.reverse", ROLES_A, M_MUTATES, p_contribution_reverse },
	{ "contribution.get", ROLES_AUR, 0, p_contribution_get },
	{ "contribution.list", ROLES_AUR, 0, p_contribution_list },
	{ "contribution.status", ROLES_AUR, 0, p_contribution_get },
	{ "ledger.entries", ROLES_AU, 0, p_ledger_entries },
	{ "ledger.trial_balance", ROLES_AU, 0, p_ledger_trial_balance },
	{ "returnee.register", ROLES_A, M_MUTATES | M_PERSONAL | M_SEALS,
	    p_returnee_register },
	{ "returnee.get", ROLES_APU, M_PERSONAL, p_returnee_get },
	{ "returnee.list", ROLES_APU, M_PERSONAL, p_returnee_list },
	{ "returnee.find", ROLES_APU, M_PERSONAL | M_SEALS, p_returnee_find },
	{ "returnee.update", ROLES_A, M_MUTATES | M_PERSONAL | M_SEALS,
	    p_returnee_update },
	{ "returnee.history", ROLES_APU, M_PERSONAL, p_returnee_history },
	{ "returnee.access_log", ROLES_AU, 0, p_returnee_access_log },
	{ "returnee.export", ROLES_A, M_PERSONAL, p_returnee_export },
	{ "returnee.erase", ROLES_A, M_MUTATES, p_returnee_erase },
	{ "returnee.erase_confirm", ROLES_A, M_MUTATES, p_erasure_id },
	{ "returnee.erase_cancel", ROLES_A, M_MUTATES, p_erasure_id },
	{ "privacy.due", ROLES_AU, M_RETENTION, p_privacy_due },
	{ "grant.apply", ROLES_A, M_MUTATES | M_PERSONAL | M_STATS, p_grant_apply },
	{ "grant.get", ROLES_APU, M_PERSONAL, p_grant_id },
	{ "grant.list", ROLES_APU, M_PERSONAL, p_grant_list },
	{ "grant.update", ROLES_A, M_MUTATES | M_PERSONAL, p_grant_update },
	{ "grant.history", ROLES_APU, 0, p_grant_history },
	{ "grant.withdraw", ROLES_A, M_MUTATES | M_PERSONAL, p_grant_reason },
	{ "grant.approve", ROLES_P, M_MUTATES | M_PERSONAL, p_grant_approve },
	{ "grant.reject", ROLES_P, M_MUTATES | M_PERSONAL, p_grant_reason },
	{ "grant.cancel", ROLES_A, M_MUTATES | M_PERSONAL, p_grant_reason },
	{ "grant.queue", ROLES_P, M_PERSONAL, p_grant_queue },
	{ "grant.recuse", ROLES_P, M_MUTATES | M_PERSONAL, p_grant_recuse },
	{ "principal.declare_conflict", ROLES_AP, M_MUTATES, p_declare_conflict },
	{ "principal.conflicts", ROLES_APU, 0, p_conflicts },
	{ "disbursement.create", ROLES_A, M_MUTATES, p_disbursement_create },
	{ "disbursement.confirm", ROLES_A, M_MUTATES, p_disbursement_confirm },
	{ "disbursement.fail", ROLES_A, M_MUTATES, p_disbursement_fail },
	{ "disbursement.refund", ROLES_A, M_MUTATES, p_disbursement_refund },
	{ "disbursement.list", ROLES_APU, 0, p_disbursement_list },
	{ "disbursement.queue", ROLES_A, 0, p_disbursement_queue },
	{ "grant.add_milestone", ROLES_A, M_MUTATES, p_grant_add_milestone },
	{ "milestone.submit", ROLES_A, M_MUTATES, p_milestone_submit },
	{ "milestone.accept", ROLES_AP, M_MUTATES, p_milestone_accept },
	{ "milestone.reject", ROLES_AP, M_MUTATES, p_milestone_reject },
	{ "milestone.get", ROLES_APU, 0, p_milestone_id },
	{ "milestone.list", ROLES_APU, 0, p_milestone_list },
	{ "document.get", ROLES_APU, 0, p_document_id },
	{ "period.close", ROLES_A, M_MUTATES, p_period_close },
	{ "period.close_confirm", ROLES_U, M_MUTATES, p_period_id },
	{ "period.close_drop", ROLES_AU, M_MUTATES, p_period_id },
	{ "period.closes", ROLES_AU, 0, p_none },
	{ "period.close_get", ROLES_AU, 0, p_period_id },
	{ "audit.events", ROLES_AU, 0, p_audit_events },
	{ "audit.checkpoint", ROLES_AU, 0, p_none },
	{ "audit.verify", ROLES_AU, 0, p_audit_verify },
	{ "rpc.discover", ROLES_ANY, M_LOCAL, p_none },
	{ "report.grants", ROLES_APUR, 0, p_report_grants },
	{ "report.contributions", ROLES_AU, 0, p_report_contributions },
	{ "report.pipeline", ROLES_APU, 0, p_report_pipeline },
};

/* The HTTP endpoints api.authorize checks, by the name of their audit events (h_auth.h);
 * http.rpc is a request to /rpc refused before any of its calls reached the database. */
static const struct {
	const char	*name;
	const char	*roles;
} endpoints[] = {
	{ "http.document_get", ROLES_APU },
	{ "http.document_put", ROLES_A },
	{ "http.export_audit", ROLES_AU },
	{ "http.export_ledger", ROLES_AU },
	{ "http.export_report", ROLES_ANY },
	{ "http.metrics", ROLES_AU },
	{ "http.rpc", ROLES_ANY },
};

char *
method_roles_json(void)
{
	cJSON	*o = cJSON_CreateObject();
	char	*s;
	size_t	 i;

	if (o == NULL)
		fatalx("out of memory");
	for (i = 0; i < nitems(methods); i++)
		if (cJSON_AddStringToObject(o, methods[i].name, methods[i].roles) == NULL)
			fatalx("out of memory");
	for (i = 0; i < nitems(endpoints); i++)
		if (cJSON_AddStringToObject(o, endpoints[i].name, endpoints[i].roles) == NULL)
			fatalx("out of memory");
	if ((s = cJSON_PrintUnformatted(o)) == NULL)
		fatalx("out of memory");
	cJSON_Delete(o);
	return s;
}

const struct method *
method_find(const char *name, int *idx)
{
	size_t	i;

	for (i = 0; i < nitems(methods); i++) {
		if (strcmp(methods[i].name, name) == 0) {
			*idx = (int)i;
			return &methods[i];
		}
	}
	*idx = -1;
	return NULL;
}

int
method_count(void)
{
	return (int)nitems(methods);
}

const char *
method_name(int idx)
{
	return methods[idx].name;
}

static int
enum_has(const char *choices, const char *v)
{
	size_t		 n = strlen(v);
	const char	*p = choices;

	for (;;) {
		const char	*e = strchr(p, '|');
		size_t		 len = e != NULL ? (size_t)(e - p) : strlen(p);

		if (len == n && strncmp(p, v, n) == 0)
			return 1;
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

static int
check_code(const char *s, size_t max, const char **reason)
{
	size_t	n = strlen(s), i;

	if (n == 0) {
		*reason = "empty";
		return -1;
	}
	if (n > max) {
		*reason = "too_long";
		return -1;
	}
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
			*reason = "bad_format";
			return -1;
		}
	}
	return 0;
}

/* The money scale a PT_MONEY param is checked at: its currency param's, else 4 (the
 * largest ISO 4217 minor unit; the database knows the fund's). */
static int
money_scale(const struct param *p, const cJSON *params)
{
	const cJSON	*c;
	int		 cs;

	if (p->currency_param != NULL && params != NULL) {
		c = cJSON_GetObjectItemCaseSensitive(params, p->currency_param);
		if (cJSON_IsString(c) && (cs = v_currency_minor(c->valuestring, NULL)) >= 0)
			return cs;
	}
	return 4;
}

/* One param value against its spec. */
static int
check_one(const struct param *p, const cJSON *v, const cJSON *params, const char **reason)
{
	const char	*s;
	int64_t		 minor;
	int		 lim, scale;

	if (p->type == PT_LIMIT) {
		if (!cJSON_IsNumber(v)) {
			*reason = "not_a_number";
			return -1;
		}
		return v_limit(v->valuedouble, &lim, reason);
	}
	if (p->type == PT_YEAR || p->type == PT_SEQ) {
		double	d = cJSON_IsNumber(v) ? v->valuedouble : 0.5;
		double	lo = p->type == PT_YEAR ? 1900 : 0;
		double	hi = p->type == PT_YEAR ? 2100 : 9007199254740991.0;	/* 2^53 - 1 */

		/* range first: converting a double outside long long's range is undefined */
		if (!cJSON_IsNumber(v) || !(d >= -9e15 && d <= 9e15) ||
		    d != (double)(long long)d) {
			*reason = "not_an_integer";
			return -1;
		}
		if (d < lo || d > hi) {
			*reason = "out_of_range";
			return -1;
		}
		return 0;
	}
	if (p->type == PT_ROLES) {
		const cJSON	*e;

		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
			*reason = "not_a_nonempty_array";
			return -1;
		}
		cJSON_ArrayForEach(e, v) {
			if (!cJSON_IsString(e) ||
			    !enum_has("admin|approver|auditor|partner", e->valuestring)) {
				*reason = "unknown_role";
				return -1;
			}
		}
		return 0;
	}
	if (p->type == PT_BOOL) {
		if (!cJSON_IsBool(v)) {
			*reason = "not_a_boolean";
			return -1;
		}
		return 0;
	}
	if (p->type == PT_IDS) {
		const cJSON	*e, *f;

		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0 ||
		    cJSON_GetArraySize(v) > 20) {
			*reason = "not_an_array_of_1_to_20";
			return -1;
		}
		cJSON_ArrayForEach(e, v) {
			if (!cJSON_IsString(e) || v_id(e->valuestring, reason) != 0) {
				*reason = "bad_id";
				return -1;
			}
			for (f = v->child; f != e; f = f->next)
				if (strcmp(f->valuestring, e->valuestring) == 0) {
					*reason = "repeated";
					return -1;
				}
		}
		return 0;
	}
	if (p->type == PT_ENUMS) {
		const cJSON	*e;

		if (!cJSON_IsArray(v)) {
			*reason = "not_an_array";
			return -1;
		}
		cJSON_ArrayForEach(e, v) {
			if (!cJSON_IsString(e) || !enum_has(p->choices, e->valuestring)) {
				*reason = "not_one_of_allowed_values";
				return -1;
			}
		}
		return 0;
	}
	if (!cJSON_IsString(v)) {
		*reason = p->type == PT_MONEY && cJSON_IsNumber(v) ?
		    "money_must_be_a_string" : "not_a_string";
		return -1;
	}
	s = v->valuestring;
	switch (p->type) {
	case PT_TEXT:
		return v_text(s, p->max, reason);
	case PT_NAME:
		return v_name(s, p->max, reason);
	case PT_ID:
		return v_id(s, reason);
	case PT_ENUM:
		if (!enum_has(p->choices, s)) {
			*reason = "not_one_of_allowed_values";
			return -1;
		}
		return 0;
	case PT_MONEY:
	case PT_MONEY0:
		scale = money_scale(p, params);
		return v_money_parse(s, scale, p->type == PT_MONEY0, &minor, reason);
	case PT_CURRENCY:
		return v_currency_minor(s, reason) < 0 ? -1 : 0;
	case PT_COUNTRY:
		return v_country(s, reason);
	case PT_DATE:
		return v_date(s, reason);
	case PT_TIME:
		return v_time(s, reason);
	case PT_WHEN:
		if (strlen(s) == 10)
			return v_date(s, reason);
		return v_time(s, reason);
	case PT_EMAIL:
		if (v_text(s, p->max, reason) != 0)
			return -1;
		if (strchr(s, '@') == NULL || s[0] == '@' || s[strlen(s) - 1] == '@' ||
		    strchr(strchr(s, '@') + 1, '@') != NULL || v_uspace(s)) {
			*reason = "bad_email";
			return -1;
		}
		return 0;
	case PT_RATE:
		return v_rate(s, reason);
	case PT_CURSOR:
		if (v_cursor(s, reason) != 0) {
			*reason = "bad_cursor";	/* one reason, whoever finds it malformed */
			return -1;
		}
		return 0;
	case PT_REGION:
		return v_text(s, 100, reason);
	case PT_CODE:
		return check_code(s, p->max, reason);
	case PT_ACCOUNT:
		if (*s == '\0' || strlen(s) > 42 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789 ") != strlen(s)) {
			*reason = "bad_account";
			return -1;
		}
		return 0;
	case PT_LIMIT:
	case PT_ROLES:
	case PT_ENUMS:
	case PT_BOOL:
	case PT_IDS:
	case PT_YEAR:
	case PT_SEQ:
		break;
	}
	*reason = "bad_type";
	return -1;
}

/* The choices "a|b|c" as a JSON array of strings. */
static cJSON *
choices_array(const char *choices)
{
	cJSON		*a = cJSON_CreateArray();
	const char	*p = choices, *e;

	for (;;) {
		char	*one;

		e = strchr(p, '|');
		one = e != NULL ? xstrndup(p, (size_t)(e - p)) : xstrdup(p);
		cJSON_AddItemToArray(a, cJSON_CreateString(one));
		free(one);
		if (e == NULL)
			break;
		p = e + 1;
	}
	return a;
}

void
method_param_hint(const struct param *p, const cJSON *params, cJSON *o)
{
	char	buf[160];

	switch (p->type) {
	case PT_ENUM:
	case PT_ENUMS:
		cJSON_AddItemToObject(o, "allowed", choices_array(p->choices));
		return;
	case PT_ROLES:
		cJSON_AddItemToObject(o, "allowed",
		    choices_array("admin|approver|auditor|partner"));
		return;
	case PT_MONEY:
	case PT_MONEY0:
		snprintf(buf, sizeof(buf), "a decimal string such as \"12.50\", %s0, with at "
		    "most %d decimals", p->type == PT_MONEY ? "above " : "", money_scale(p,
		    params));
		break;
	case PT_DATE:
		snprintf(buf, sizeof(buf), "a date, YYYY-MM-DD");
		break;
	case PT_TIME:
		snprintf(buf, sizeof(buf), "an RFC 3339 UTC time, YYYY-MM-DDTHH:MM:SSZ");
		break;
	case PT_WHEN:
		snprintf(buf, sizeof(buf), "a date, YYYY-MM-DD, or an RFC 3339 UTC time, "
		    "YYYY-MM-DDTHH:MM:SSZ");
		break;
	case PT_CURRENCY:
		snprintf(buf, sizeof(buf), "an ISO 4217 currency code, such as EUR");
		break;
	case PT_COUNTRY:
		snprintf(buf, sizeof(buf), "an ISO 3166-1 alpha-2 country code, such as AM");
		break;
	case PT_RATE:
		snprintf(buf, sizeof(buf), "a positive decimal string, such as \"1.0825\"");
		break;
	case PT_YEAR:
		snprintf(buf, sizeof(buf), "an integer from 1900 to 2100");
		break;
	case PT_LIMIT:
		snprintf(buf, sizeof(buf), "an integer from 1 to %d", V_LIMIT_MAX);
		break;
	case PT_CODE:
		snprintf(buf, sizeof(buf), "up to %zu of A-Z, 0-9, _ and -", p->max);
		break;
	case PT_BOOL:
		snprintf(buf, sizeof(buf), "true or false");
		break;
	case PT_ACCOUNT:
		snprintf(buf, sizeof(buf), "an IBAN (spaces allowed) or an Armenian bank account "
		    "of 11 to 16 digits");
		break;
	case PT_IDS:
		snprintf(buf, sizeof(buf), "an array of 1 to 20 different ids");
		break;
	case PT_TEXT:
	case PT_NAME:
	case PT_EMAIL:
		snprintf(buf, sizeof(buf), "%s of 1 to %zu characters",
		    p->type == PT_EMAIL ? "an email address" : "text", p->max);
		break;
	default:
		return;
	}
	cJSON_AddStringToObject(o, "expected", buf);
}

/* One problem: {field, reason} and the param's hint. */
static void
add_problem(cJSON *fields, const struct param *p, const char *field, const char *reason,
    const cJSON *params)
{
	cJSON	*o = cJSON_CreateObject();

	/* a field is a key of the request: one that is not UTF-8 is not echoed */
	if (v_utf8(field, strlen(field)) == 0)
		cJSON_AddStringToObject(o, "field", field);
	cJSON_AddStringToObject(o, "reason", reason);
	if (p != NULL)
		method_param_hint(p, params, o);
	cJSON_AddItemToArray(fields, o);
}

int
method_check_params(const struct method *m, const cJSON *params, const char **field,
    const char **reason, cJSON **fields)
{
	const struct param	*p;
	const cJSON		*v;
	const char		*why;
	cJSON			*all = cJSON_CreateArray();
	int			 bad = 0;

	cJSON_ArrayForEach(v, params) {
		for (p = m->params; p->name != NULL; p++)
			if (strcmp(p->name, v->string) == 0)
				break;
		why = NULL;
		if (p->name == NULL) {
			why = "unknown_param";
			p = NULL;
		} else if (cJSON_IsNull(v)) {
			if (p->required)
				why = "missing";	/* an optional one given as null is absent */
		} else if (check_one(p, v, params, &why) != 0 && why == NULL)
			why = "bad_type";
		if (why == NULL)
			continue;
		if (bad++ == 0) {
			*field = p != NULL ? p->name : v->string;
			*reason = why;
		}
		add_problem(all, p, p != NULL ? p->name : v->string, why, params);
	}
	for (p = m->params; p->name != NULL; p++) {
		v = cJSON_GetObjectItemCaseSensitive(params, p->name);
		if (p->required && v == NULL) {
			if (bad++ == 0) {
				*field = p->name;
				*reason = "missing";
			}
			add_problem(all, p, p->name, "missing", params);
		}
	}
	if (bad == 0 || fields == NULL)
		cJSON_Delete(all);
	else
		*fields = all;
	return bad > 0 ? -1 : 0;
}

const struct method *
method_at(int idx)
{
	return idx >= 0 && idx < (int)nitems(methods) ? &methods[idx] : NULL;
}
