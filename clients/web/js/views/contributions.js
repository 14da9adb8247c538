// #/contributions (admin, auditor, partner): contribution.list with its status
// and, for staff, fund and partner filters (a partner sees its own only:
// partner scoping, docs/protocol.md); paged with next_cursor. Region names
// come from region.list. Admin: record a pledge (contribution.pledge) or a
// receipt (contribution.receive), each opening the new contribution's page.
// The hash may carry partner=, fund=, status= (filters) and form=pledge|receive.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { money, number, date } from '../format.js';
import { errorPanel } from '../errors.js';
import { hasRole, referenceData } from '../session.js';
import {
  field, filterForm, link, loadPage, loading, pageHeading, cursorPager, say, selectField, statusBadge, table,
} from '../ui.js';
import { regionName } from './queue.js';
import { actionButtons, fundOptions, sayCarried } from './money-common.js';
import { contributionForms } from './money-contribution.js';

// the values contribution.list takes as `status` (docs/protocol.md)
const STATUS_FILTER = ['pledged', 'received', 'cancelled', 'written_off', 'reversed'];
const PAGE_SIZE = 20;

const staff = () => hasRole('admin', 'auditor');

export const contributionsView = {
  id: 'contributions',
  path: '/contributions',
  get titleKey() { return staff() ? 'contributions.titleAll' : 'contributions.title'; },
  navKey: () => (staff() ? 'contributions.navAll' : 'nav.contributions'),
  // contribution.list
  roles: ['admin', 'auditor', 'partner'],
  create(ctx) {
    const q = ctx.params();
    const state = {
      loading: true, error: null, ref: null, rows: [], cursors: [null], nextCursor: null,
      status: q.get('status') || '', fund: staff() ? q.get('fund') || '' : '',
      partner: staff() ? q.get('partner') || '' : '', filterError: null,
      form: hasRole('admin') && ['pledge', 'receive'].includes(q.get('form')) ? q.get('form') : null,
      prefill: { partner: q.get('partner') || '', fund: q.get('fund') || '' },
    };
    const forms = contributionForms(ctx, state, () => { state.form = null; ctx.redraw(); });

    // announce: say in #status what came (paging, filters, refresh), not on arrival
    async function load(announce = false) {
      const res = await loadPage(state, PAGE_SIZE, async (params) => {
        if (!state.ref) state.ref = await referenceData(ctx.rpc);
        if (state.status) params.status = state.status;
        if (state.fund) params.fund = state.fund;
        if (state.partner) params.partner_id = state.partner;
        return ctx.rpc.call('contribution.list', params);
      }, [-32602, -32004]);
      if (res) {
        state.rows = res.contributions || [];
        if (announce) say(t('contributions.loaded', { count: number(state.rows.length), page: number(state.cursors.length) }));
      }
      sayCarried();
    }

    function go(change) {
      change();
      ctx.refresh();
    }

    function filters() {
      const fields = [
        selectField({
          id: 'filter-status', name: 'status', label: t('filters.status'), anyLabel: t('filters.any'),
          value: state.status,
          options: STATUS_FILTER.map((s) => ({ value: s, label: t('contributionStatus.' + s) })),
        }),
      ];
      if (staff()) {
        fields.push(selectField({
          id: 'filter-fund', name: 'fund', label: t('filters.fund'), anyLabel: t('filters.any'),
          value: state.fund, options: fundOptions(state.ref.funds),
        }));
        fields.push(field({
          id: 'filter-partner', name: 'partner_id', label: t('contributions.filterPartner'),
          value: state.partner, help: t('contributions.filterPartnerHelp'), autocomplete: 'off',
        }));
      }
      return filterForm({
        test: 'contributions-filters',
        error: state.filterError,
        onApply: (f) => {
          state.status = f.namedItem('status').value;
          if (staff()) {
            state.fund = f.namedItem('fund').value;
            state.partner = f.namedItem('partner_id').value.trim();
          }
          go(() => { state.cursors = [null]; });
        },
        fields,
      });
    }

    function when(c) {
      return date(c.received_at || c.pledged_at || c.created_at);
    }

    return {
      load,
      draw(root) {
        root.append(pageHeading(staff() ? t('contributions.titleAll') : t('contributions.title')));
        root.append(h('p', { class: 'intro' }, staff() ? t('contributions.introAll') : t('contributions.intro')));
        if (hasRole('admin') && state.ref) {
          root.append(actionButtons([
            { id: 'receive', test: 'contribution-receive-open', label: t('contributions.receiveOpen') },
            { id: 'pledge', test: 'contribution-pledge-open', label: t('contributions.pledgeOpen') },
          ], state.form, (f) => { state.form = f; ctx.redraw(); }));
          if (state.form) root.append(forms[state.form].draw());
        }
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (state.ref) root.append(filters());
        if (state.loading && !state.rows.length) { root.append(loading()); return; }
        const regions = state.ref ? state.ref.regions : [];
        const columns = [
          {
            key: 'contribution_id', label: t('contributions.col.id'),
            cell: (c) => link('/contribution', { id: c.contribution_id }, c.contribution_id, { class: 'code' }),
          },
          { key: 'date', label: t('contributions.col.date'), cell: when },
        ];
        if (staff()) {
          columns.push({
            key: 'partner_id', label: t('contributions.col.partner'),
            cell: (c) => link('/partner', { id: c.partner_id }, c.partner_id, { class: 'code' }),
          });
        }
        columns.push(
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
        );
        root.append(table({
          test: 'contributions-table',
          caption: staff() ? t('contributions.captionAll') : t('contributions.caption'),
          empty: t('contributions.empty'),
          rows: state.rows,
          rowAttrs: (c) => ({ 'data-test': 'contribution-row', dataset: { contributionId: c.contribution_id } }),
          columns,
        }));
        root.append(cursorPager(state, () => ctx.refresh()));
      },
    };
  },
};
