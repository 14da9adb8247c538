// The auditor's pages of the console: the ledger (trial balance and journal),
// the closed periods, and the audit trail with the downloads.

import { ledgerView } from './audit-ledger.js';
import { periodsView, periodView } from './audit-periods.js';
import { auditView } from './audit-trail.js';

// The pages this module adds, in navigation order (main.js, SECTIONS).
export const views = [ledgerView, periodsView, periodView, auditView];
