// The privacy pages of the console (docs/privacy.md): who is due for erasure,
// and one person's consent, access log, export and erasure. Each page is a
// module of its own (privacy-*.js).

import { dueView } from './privacy-due.js';
import { personView } from './privacy-person.js';

// The pages this module adds, in navigation order (main.js, SECTIONS).
export const views = [dueView, personView];
