// #/queue (approver): grant.queue, what waits for the caller's decision,
// oldest first, a page at a time with the method's next_cursor; its count as
// a badge. The filters' choices come from fund.list and region.list.

import { h } from '../dom.js';
import { t, lang } from '../i18n.js';
import { money, number, date } from '../format.js';
import { errorPanel } from '../errors.js';
import { referenceData } from '../session.js';
import { filterForm, link, loadPage, loading, pageHeading, cursorPager, say, selectField, table } from '../ui.js';

export const CATEGORIES = ['small_business', 'agriculture', 'requalification', 'employment', 'housing', 'other'];
const PAGE_SIZE = 20;

export function regionName(regions, code, fallback) {
  const r = regions && regions.find((x) => x.region_code === code);
  return (r && r.names && r.names[lang()]) || fallback || code || '';
}

export const queueView = {
  id: 'queue',
  path: '/queue',
  titleKey: 'queue.title',
  navKey: 'nav.queue',
  roles: ['approver'],
  create(ctx) {
    const state = {
      loading: true, error: null, ref: null, grants: [], count: null,
      cursors: [null], nextCursor: null, filters: { fund: '', region: '', category: '' },
      filterError: null,
    };

    // announce: say in #status what came (paging, filters, refresh), not on arrival
    async function load(announce = false) {
      const res = await loadPage(state, PAGE_SIZE, async (params) => {
        if (!state.ref) state.ref = await referenceData(ctx.rpc);
        for (const [k, v] of Object.entries(state.filters)) if (v) params[k] = v;
        return ctx.rpc.call('grant.queue', params);
      }, [-32602, -32004]);
      if (!res) return;
      state.grants = res.grants || [];
      state.count = res.count;
      if (announce) say(t('queue.loaded', { count: number(res.count), page: number(state.cursors.length) }));
    }

    function go(change) {
      change();
      ctx.refresh();
    }

    function filters() {
      const ref = state.ref || { funds: [], regions: [] };
      return filterForm({
        test: 'queue-filters',
        error: state.filterError,
        onApply: (f) => {
          state.filters = {
            fund: f.namedItem('fund').value,
            region: f.namedItem('region').value,
            category: f.namedItem('category').value,
          };
          go(() => { state.cursors = [null]; });
        },
        fields: [
          selectField({
            id: 'filter-fund', name: 'fund', label: t('filters.fund'), anyLabel: t('filters.any'),
            value: state.filters.fund,
            options: ref.funds.map((f) => ({ value: f.code, label: f.code + ' — ' + f.name })),
          }),
          selectField({
            id: 'filter-region', name: 'region', label: t('filters.region'), anyLabel: t('filters.any'),
            value: state.filters.region,
            options: ref.regions.map((r) => ({ value: r.region_code, label: regionName(ref.regions, r.region_code, r.region) })),
          }),
          selectField({
            id: 'filter-category', name: 'category', label: t('filters.category'), anyLabel: t('filters.any'),
            value: state.filters.category,
            options: CATEGORIES.map((c) => ({ value: c, label: t('category.' + c) })),
          }),
        ],
      });
    }

    function approvals(g) {
      const have = Array.isArray(g.approvals) ? g.approvals.length : 0;
      const need = g.approvals_needed;
      const missing = g.approvals_missing !== undefined ? g.approvals_missing : Math.max(need - have, 0);
      return [
        h('span', { class: 'approvals' }, t('queue.approvalsOf', { have: number(have), need: number(need) })),
        ' ',
        h('span', { class: 'sub' }, t('queue.stillNeeded', { count: number(missing) })),
      ];
    }

    return {
      load,
      draw(root) {
        // the badge shows the number; a screen reader hears "Waiting in all: n"
        const badge = state.count === null || state.count === undefined ? null : [
          ' ',
          h('span', { class: 'badge badge-count', 'data-test': 'queue-count', 'aria-hidden': 'true' }, number(state.count)),
          h('span', { class: 'sr-only' }, t('queue.badgeLabel', { count: number(state.count) })),
        ];
        root.append(pageHeading(t('queue.title'), badge));
        root.append(h('p', { class: 'intro' }, t('queue.intro')));
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (state.ref) root.append(filters());
        if (state.loading && !state.grants.length) { root.append(loading()); return; }
        const regions = state.ref ? state.ref.regions : [];
        root.append(table({
          test: 'queue-table',
          caption: t('queue.caption'),
          empty: t('queue.empty'),
          rows: state.grants,
          rowAttrs: (g) => ({ 'data-test': 'queue-row', dataset: { grantId: g.grant_id } }),
          columns: [
            { key: 'grant_id', label: t('queue.col.grant'), cell: (g) => link('/grant', { id: g.grant_id }, g.grant_id, { class: 'code', 'data-test': 'grant-link' }) },
            { key: 'created_at', label: t('queue.col.applied'), cell: (g) => date(g.created_at) },
            { key: 'fund', label: t('queue.col.fund'), cell: (g) => g.fund },
            { key: 'amount', num: true, label: t('queue.col.amount'), cell: (g) => money(g.amount, g.currency) },
            { key: 'purpose', label: t('queue.col.purpose'), cell: (g) => h('span', { class: 'purpose' }, g.purpose) },
            { key: 'region', label: t('queue.col.region'), cell: (g) => regionName(regions, g.region_code, g.region) },
            { key: 'category', label: t('queue.col.category'), cell: (g) => t('category.' + g.category) },
            { key: 'approvals', label: t('queue.col.approvals'), cell: approvals },
          ],
        }));
        root.append(cursorPager(state, () => ctx.refresh()));
      },
    };
  },
};
