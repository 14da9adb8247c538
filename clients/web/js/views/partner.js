// The partner pages of the console: what a partner's contributions paid for (#/use) and
// the programme's results (#/results). The dashboard (dashboard.js) is this part's too.

import { useView } from './partner-use.js';
import { resultsView } from './partner-results.js';

// The pages this module adds, in navigation order (main.js, SECTIONS).
export const views = [useView, resultsView];
