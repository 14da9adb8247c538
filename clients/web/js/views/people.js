// The people pages of the console: the beneficiaries (returnees), the
// principals who use the API, and the payments waiting for a checker.
// Each page is a module of its own (people-*.js).

import { returneesView, returneeView } from './people-returnees.js';
import { principalsView } from './people-principals.js';
import { paymentsView } from './people-payments.js';

// The pages this module adds, in navigation order (main.js, SECTIONS).
export const views = [paymentsView, returneesView, returneeView, principalsView];
