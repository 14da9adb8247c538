// The money pages of the console: partners, a contribution's own page,
// transfers between funds and earnings. The list of contributions is
// contributions.js (main.js lists it after these).

import { partnersView, partnerView } from './money-partners.js';
import { contributionView } from './money-contribution.js';
import { transfersView } from './money-transfers.js';

// The pages this module adds, in navigation order (main.js, SECTIONS).
export const views = [partnersView, partnerView, contributionView, transfersView];
