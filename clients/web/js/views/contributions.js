// #/contributions (partner): contribution.list, which for a partner holds its
// own contributions only (partner scoping, docs/protocol.md), with their
// status; paged with next_cursor. Region names come from region.list.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { money, number, date } from '../format.js';
import { errorPanel } from '../errors.js';
import { referenceData } from '../session.js';
import { filterForm, loadPage, loading, pageHeading, pager, say, selectField, statusBadge, table } from '../ui.js';
import { regionName } from './queue.js';

// the values contribution.list takes as `status` (docs/protocol.md)
const STATUS_FILTER = ['pledged', 'received', 'cancelled', 'written_off', 'reversed'];
const PAGE_SIZE = 20;

export const contributionsView = {
  id: 'contributions',
  path: '/contributions',
  titleKey: 'contributions.title',
  navKey: 'nav.contributions',
  roles: ['partner'],
  create(ctx) {
    const state = {
      loading: true, error: null, ref: null, rows: [], cursors: [null], nextCursor: null,
      status: '', filterError: null,
    };

    // announce: say in #status what came (paging, filters, refresh), not on arrival
    async function load(announce = false) {
      const res = await loadPage(state, PAGE_SIZE, async (params) => {
        if (!state.ref) state.ref = await referenceData(ctx.rpc);
        if (state.status) params.status = state.status;
        return ctx.rpc.call('contribution.list', params);
      });
      if (!res) return;
      state.rows = res.contributions || [];
      if (announce) say(t('contributions.loaded', { count: number(state.rows.length), page: number(state.cursors.length) }));
    }

    function go(change) {
      change();
      ctx.refresh();
    }

    function filters() {
      return filterForm({
        test: 'contributions-filters',
        error: state.filterError,
        onApply: (f) => {
          state.status = f.namedItem('status').value;
          go(() => { state.cursors = [null]; });
        },
        fields: [
          selectField({
            id: 'filter-status', name: 'status', label: t('filters.status'), anyLabel: t('filters.any'),
            value: state.status,
            options: STATUS_FILTER.map((s) => ({ value: s, label: t('contributionStatus.' + s) })),
          }),
        ],
      });
    }

    function when(c) {
      return date(c.received_at || c.pledged_at || c.created_at);
    }

    return {
      load,
      draw(root) {
        root.append(pageHeading(t('contributions.title')));
        root.append(h('p', { class: 'intro' }, t('contributions.intro')));
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (state.ref) root.append(filters());
        if (state.loading && !state.rows.length) { root.append(loading()); return; }
        const regions = state.ref ? state.ref.regions : [];
        root.append(table({
          test: 'contributions-table',
          caption: t('contributions.caption'),
          empty: t('contributions.empty'),
          rows: state.rows,
          rowAttrs: (c) => ({ 'data-test': 'contribution-row', dataset: { contributionId: c.contribution_id } }),
          columns: [
            { key: 'contribution_id', label: t('contributions.col.id'), cell: (c) => h('span', { class: 'code' }, c.contribution_id) },
            { key: 'date', label: t('contributions.col.date'), cell: when },
            { key: 'fund', label: t('contributions.col.fund'), cell: (c) => c.fund },
            { key: 'amount', num: true, label: t('contributions.col.amount'), cell: (c) => money(c.amount, c.currency) },
            { key: 'fund_amount', num: true, label: t('contributions.col.fundAmount'), cell: (c) => money(c.fund_amount, c.fund_currency) },
            { key: 'received', num: true, label: t('contributions.col.received'), cell: (c) => money(c.received, c.currency) },
            { key: 'outstanding', num: true, label: t('contributions.col.outstanding'), cell: (c) => money(c.outstanding, c.currency) },
            { key: 'status', label: t('contributions.col.status'), cell: (c) => statusBadge('contributionStatus', c.status) },
            {
              key: 'earmark_region', label: t('contributions.col.earmark'),
              cell: (c) => (c.earmark_region_code || c.earmark_region
                ? regionName(regions, c.earmark_region_code, c.earmark_region)
                : t('contributions.noEarmark')),
            },
          ],
        }));
        root.append(pager({
          page: number(state.cursors.length),
          busy: state.loading,
          hasPrev: state.cursors.length > 1,
          hasNext: !!state.nextCursor,
          onPrev: () => go(() => { state.cursors.pop(); }),
          onNext: () => go(() => { state.cursors.push(state.nextCursor); }),
        }));
      },
    };
  },
};
