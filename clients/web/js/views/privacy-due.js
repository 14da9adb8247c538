// #/privacy (admin, auditor): who is due for erasure (privacy.due, a page at a
// time: no personal data, each row a link to the person's #/privacy-person),
// the retention period in words, and finding a person's privacy page by the
// whole full name or national id (returnee.find, returnee-find.js) or by the
// record's id.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { date, number } from '../format.js';
import { errorPanel } from '../errors.js';
import { referenceData } from '../session.js';
import { cursorPager, link, loadPage, loading, pageHeading, personName, say, section, table } from '../ui.js';
import { regionName } from './queue.js';
import { basisWords, kindWords, yearsText } from './privacy-common.js';
import { returneeFinder } from './returnee-find.js';

const PAGE_SIZE = 20;
export const ROLES = ['admin', 'auditor'];

export function personLink(id, text, attrs = {}) {
  return link('/privacy-person', { id }, text, attrs);
}

export const dueView = {
  id: 'privacy',
  path: '/privacy',
  titleKey: 'privacy.title',
  navKey: 'privacy.nav',
  roles: ROLES,
  create(ctx) {
    const state = {
      loading: true, error: null, ref: null, rows: [], cursors: [null], nextCursor: null, years: null,
    };

    async function load(announce = false) {
      const res = await loadPage(state, PAGE_SIZE, async (params) => {
        if (!state.ref) state.ref = await referenceData(ctx.rpc);
        return ctx.rpc.call('privacy.due', params);
      });
      if (!res) return;
      state.rows = res.due || [];
      state.years = res.retention_years;
      if (announce) say(t('privacy.due.loaded', { count: number(state.rows.length), page: number(state.cursors.length) }));
    }

    // ------------------------------------------------------------ find

    // by the whole full name or national id, or the record's id, which opens
    // the person's page
    const finder = returneeFinder({
      rpc: ctx.rpc,
      redraw: ctx.redraw,
      ids: 'privacy-find',
      test: {
        form: 'privacy-find', submit: 'privacy-find-submit', clear: 'privacy-find-clear', error: 'privacy-find-error',
        table: 'privacy-found-table', row: 'privacy-found-row',
      },
      title: () => t('privacy.find.title'),
      help: () => t('privacy.find.help'),
      needOne: () => t('privacy.find.needOne'),
      fields: () => [
        { id: 'privacy-find-name', name: 'name', label: t('returneeFind.name') },
        { id: 'privacy-find-national_id', name: 'national_id', label: t('returneeFind.nationalId') },
        { id: 'privacy-find-returnee_id', name: 'returnee_id', label: t('privacy.find.id') },
      ],
      before: (terms) => {
        if (!terms.returnee_id) return false;
        ctx.navigate('/privacy-person', { id: terms.returnee_id });
        return true;
      },
    });

    function foundTable() {
      return finder.results({
        caption: t('privacy.find.caption'),
        columns: [
          { key: 'full_name', label: t('privacy.find.colName'), cell: (r) => personLink(r.returnee_id, personName(r.full_name)) },
          { key: 'returnee_id', label: t('privacy.find.colId'), cell: (r) => h('span', { class: 'code' }, r.returnee_id) },
          { key: 'region', label: t('privacy.due.col.region'), cell: (r) => regionName(state.ref ? state.ref.regions : [], r.region_code, r.region) },
          { key: 'kind', label: t('privacy.due.col.kind'), cell: (r) => kindWords(r.kind) },
        ],
      });
    }

    return {
      load,
      draw(root) {
        root.append(pageHeading(t('privacy.title')));
        root.append(h('p', { class: 'intro' }, t('privacy.intro')));
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (state.loading && !state.ref) { root.append(loading()); return; }
        const regions = state.ref ? state.ref.regions : [];

        const rules = state.years !== null && state.years !== undefined
          ? h('p', { 'data-test': 'retention', dataset: { years: state.years } }, t('privacy.due.rules', { years: yearsText(state.years) }))
          : null;
        const list = state.loading && !state.rows.length ? loading() : table({
          test: 'due-table',
          caption: t('privacy.due.caption'),
          empty: t('privacy.due.empty'),
          rows: state.rows,
          rowAttrs: (r) => ({ 'data-test': 'due-row', dataset: { returneeId: r.returnee_id, basis: r.basis } }),
          columns: [
            {
              key: 'returnee_id', label: t('privacy.due.col.person'),
              cell: (r) => personLink(r.returnee_id, h('span', { class: 'code' }, r.returnee_id), { 'data-test': 'due-link' }),
            },
            { key: 'region', label: t('privacy.due.col.region'), cell: (r) => regionName(regions, r.region_code, r.region) },
            { key: 'kind', label: t('privacy.due.col.kind'), cell: (r) => kindWords(r.kind) },
            { key: 'basis', label: t('privacy.due.col.basis'), cell: (r) => basisWords(r.basis) },
            { key: 'due_since', label: t('privacy.due.col.dueSince'), cell: (r) => date(r.due_since) },
            {
              key: 'last_grant_closed_at', label: t('privacy.due.col.lastClosed'),
              cell: (r) => (r.last_grant_closed_at ? date(r.last_grant_closed_at) : t('privacy.due.noGrant')),
            },
            {
              key: 'erasure_pending', label: t('privacy.due.col.pending'),
              cell: (r) => (r.erasure_pending
                ? h('span', { class: 'badge badge-pending', dataset: { erasureId: r.erasure_pending } }, t('privacy.due.pending'))
                : t('privacy.due.notAsked')),
            },
          ],
        });
        root.append(section(t('privacy.due.title'), 'due', rules,
          h('p', { class: 'help' }, t('privacy.due.auto')),
          list, cursorPager(state, () => ctx.refresh())));

        root.append(section(t('privacy.find.title'), 'privacy-find-part', finder.form(), foundTable()));
      },
    };
  },
};
