/*
 * fundctl_ledger.h: the ledger's views for people (`fundctl ledger ...`).
 */
#ifndef FUNDCTL_LEDGER_H
#define FUNDCTL_LEDGER_H

#include <stdio.h>

#include <cjson/cJSON.h>

/*
 * Print a ledger.trial_balance result as a table on f, under title (when
 * not NULL): one row per account (opening and closing balances as "AMOUNT
 * Dr" or "AMOUNT Cr", debit and credit turnover), then the totals of each
 * currency shown, their debit side and their credit side. Returns -1 with
 * *cause set when the result does not have the shape of a trial balance.
 */
int	 fc_print_trial_balance(FILE *f, const char *title, const cJSON *res,
	    char **cause);

#endif /* FUNDCTL_LEDGER_H */
