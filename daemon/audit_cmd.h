/* audit_cmd.h: `fundd -c FILE audit rotate-key NEWKEY` and `fundd -c FILE audit keys`. */
#ifndef FUND_AUDIT_CMD_H
#define FUND_AUDIT_CMD_H

struct cfg;

/* argv[0..argc) after "audit": the subcommand and its arguments. Returns the exit status
 * (0, 1 on a refusal or database error, 2 on bad usage or an unreadable key), with one
 * line on stderr when it is not 0. */
int	audit_cmd(const struct cfg *, int argc, char **argv);

#endif
