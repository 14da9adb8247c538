// The grants pages of the console.
//
// #/grants (admin, approver, auditor): grant.list with filters (status, fund,
// region, category; also from the hash: #/grants?fund=CODE&apply=1), a page at a time; each id opens #/grant?id=. An admin
// also gets "Apply for a grant" (grant.apply), with a lookup of the
// beneficiary (returnee.find, returnee-find.js: the whole full name or the
// whole national id, never a part of a name). #/grant is in grants-record.js.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { money, number, date } from '../format.js';
import { errorPanel } from '../errors.js';
import { hasRole, referenceData } from '../session.js';
import {
  actionForm, field, filterForm, link, loadPage, loading, pageHeading, cursorPager, personName, say, section,
  selectField, table,
} from '../ui.js';
import { CATEGORIES, regionName } from './queue.js';
import { GRANT_STATES, grantBadge } from './grants-util.js';
import { grantView, flash } from './grants-record.js';
import { returneeFinder } from './returnee-find.js';

const PAGE_SIZE = 20;

export function fundOptions(funds) {
  return funds.map((f) => ({ value: f.code, label: t('grants.fundOption', { code: f.code, name: f.name, currency: f.currency }) }));
}

const grantsView = {
  id: 'grants',
  path: '/grants',
  titleKey: 'grants.title',
  navKey: 'grants.nav',
  roles: ['admin', 'approver', 'auditor'],
  create(ctx) {
    const state = {
      loading: true, error: null, ref: null, rows: [], count: null,
      cursors: [null], nextCursor: null, filterError: null,
      // #/grants?status=submitted&fund=CODE opens the list so filtered
      filters: Object.fromEntries(['status', 'fund', 'region', 'category'].map((k) => [k, ctx.params().get(k) || ''])),
      applyOpen: ctx.params().get('apply') === '1',
      picked: null,
    };
    const isAdmin = hasRole('admin');

    async function load(announce = false) {
      const res = await loadPage(state, PAGE_SIZE, async (params) => {
        if (!state.ref) state.ref = await referenceData(ctx.rpc);
        for (const [k, v] of Object.entries(state.filters)) if (v) params[k] = v;
        return ctx.rpc.call('grant.list', params);
      }, [-32602, -32004]);
      if (!res) return;
      state.rows = res.grants || [];
      state.count = res.count;
      if (announce) say(t('grants.loaded', { count: number(res.count), page: number(state.cursors.length) }));
    }

    function go(change) {
      change();
      ctx.refresh();
    }

    function filters() {
      const ref = state.ref || { funds: [], regions: [] };
      return filterForm({
        test: 'grants-filters',
        error: state.filterError,
        onApply: (f) => {
          for (const k of Object.keys(state.filters)) state.filters[k] = f.namedItem(k).value;
          go(() => { state.cursors = [null]; });
        },
        fields: [
          selectField({
            id: 'filter-status', name: 'status', label: t('filters.status'), anyLabel: t('filters.any'),
            value: state.filters.status,
            options: GRANT_STATES.map((s) => ({ value: s, label: t('grantStatus.' + s) })),
          }),
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

    // ------------------------------------------------------------ apply (admin)

    // the beneficiary: by the whole full name or the whole national id, one
    // field searched both ways
    const finder = returneeFinder({
      rpc: ctx.rpc,
      redraw: ctx.redraw,
      ids: 'lookup',
      test: { form: 'returnee-lookup', submit: 'returnee-find', clear: 'lookup-clear', error: 'lookup-error', table: 'returnee-results', row: 'returnee-row' },
      shownTitle: true,
      formClass: 'form gr-lookup',
      buttonClass: 'button secondary',
      title: () => t('grants.apply.lookupTitle'),
      help: () => t('grants.apply.lookupHelp'),
      empty: () => t('grants.apply.noneFound'),
      fields: () => [{ id: 'lookup-query', name: 'query', label: t('grants.apply.lookupLabel') }],
    });

    function pick(r) {
      state.picked = r;
      const input = document.getElementById('apply-returnee');
      if (input) input.value = r.returnee_id;
      say(t('grants.apply.picked', { name: r.full_name }));
      ctx.redraw();
      const again = document.getElementById('apply-fund');
      if (again) again.focus();
    }

    function lookupPart() {
      const regions = state.ref ? state.ref.regions : [];
      return [finder.form(), finder.results({
        caption: (terms) => t('grants.apply.resultsCaption', { query: terms.query }),
        columns: [
          { key: 'full_name', label: t('grants.apply.col.name'), cell: (r) => r.full_name },
          { key: 'returnee_id', label: t('grants.apply.col.id'), cell: (r) => h('span', { class: 'code' }, r.returnee_id) },
          { key: 'region', label: t('grants.apply.col.region'), cell: (r) => regionName(regions, r.region_code, r.region) },
          { key: 'returned_on', label: t('grants.apply.col.returned'), cell: (r) => date(r.returned_on) },
          { key: 'grants', label: t('grants.apply.col.grants'), num: true, cell: (r) => number((r.grants || []).length) },
          {
            key: 'pick', label: t('grants.apply.col.pick'), cell: (r) => h('button', {
              type: 'button', class: 'button secondary', 'data-test': 'returnee-pick',
              'aria-label': t('grants.apply.pickNamed', { name: r.full_name }),
              on: { click: () => pick(r) },
            }, t('grants.apply.pick')),
          },
        ],
      })];
    }

    const applyForm = actionForm({
      test: 'apply-form',
      submitLabel: () => t('grants.apply.submit'),
      intro: () => t('grants.apply.intro'),
      redraw: ctx.redraw,
      fields: () => {
        const ref = state.ref || { funds: [] };
        const returnee = field({
          id: 'apply-returnee', name: 'returnee_id', label: t('grants.apply.returnee'), required: true,
          help: t('grants.apply.returneeHelp'), value: state.picked ? state.picked.returnee_id : '', autocomplete: 'off',
        });
        const input = returnee.querySelector('input');
        const chosen = state.picked
          ? h('p', { class: 'help gr-picked', 'data-test': 'picked-returnee' }, t('grants.apply.chosen', { name: state.picked.full_name }))
          : null;
        input.addEventListener('input', () => {
          if (state.picked && input.value.trim() !== state.picked.returnee_id && chosen) chosen.hidden = true;
          else if (chosen) chosen.hidden = false;
        });
        return [
          returnee, chosen,
          field({
            id: 'apply-fund', name: 'fund', label: t('grants.apply.fund'), type: 'select', required: true,
            anyLabel: t('grants.apply.chooseFund'), options: fundOptions(ref.funds),
          }),
          field({ id: 'apply-amount', name: 'amount', label: t('grants.apply.amount'), money: true, required: true, help: t('grants.apply.amountHelp') }),
          field({
            id: 'apply-category', name: 'category', label: t('grants.apply.category'), type: 'select', required: true,
            anyLabel: t('grants.apply.chooseCategory'), options: CATEGORIES.map((c) => ({ value: c, label: t('category.' + c) })),
          }),
          field({ id: 'apply-purpose', name: 'purpose', label: t('grants.apply.purpose'), type: 'textarea', required: true, help: t('grants.apply.purposeHelp') }),
        ];
      },
      run: (values, key) => ctx.rpc.call('grant.apply', { ...values, idempotency_key: key }),
      done: (g) => {
        state.picked = null;
        flash(t('grants.apply.done', { id: g.grant_id, amount: money(g.amount, g.currency) }));
        ctx.navigate('/grant', { id: g.grant_id });
      },
    });

    function applyPart() {
      const toggle = h('button', {
        type: 'button', class: 'button' + (state.applyOpen ? ' secondary' : ''), 'data-test': 'show-apply',
        'aria-expanded': state.applyOpen ? 'true' : 'false', 'aria-controls': 'apply-part',
        on: { click: () => { state.applyOpen = !state.applyOpen; ctx.redraw(); } },
      }, state.applyOpen ? t('grants.apply.close') : t('grants.apply.open'));
      return h('div', { class: 'gr-apply' }, toggle,
        state.applyOpen ? h('div', { id: 'apply-part' },
          section(t('grants.apply.title'), 'apply-section', lookupPart(), applyForm.draw())) : null);
    }

    return {
      load,
      draw(root) {
        const wrap = h('div', { class: 'gr-page' });
        root.append(wrap);
        const badge = state.count === null || state.count === undefined ? null : [
          ' ',
          h('span', { class: 'badge badge-count', 'data-test': 'grants-count', 'aria-hidden': 'true' }, number(state.count)),
          h('span', { class: 'sr-only' }, t('grants.countLabel', { count: number(state.count) })),
        ];
        wrap.append(pageHeading(t('grants.title'), badge));
        wrap.append(h('p', { class: 'intro' }, t('grants.intro')));
        if (isAdmin && state.ref) wrap.append(applyPart());
        if (state.error) { wrap.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (state.ref) wrap.append(filters());
        if (state.loading && !state.rows.length) { wrap.append(loading()); return; }
        const regions = state.ref ? state.ref.regions : [];
        wrap.append(table({
          test: 'grants-table',
          caption: t('grants.caption'),
          empty: t('grants.empty'),
          rows: state.rows,
          rowAttrs: (g) => ({ 'data-test': 'grant-row', dataset: { grantId: g.grant_id } }),
          columns: [
            { key: 'grant_id', label: t('grants.col.grant'), cell: (g) => link('/grant', { id: g.grant_id }, g.grant_id, { class: 'code', 'data-test': 'grant-link' }) },
            { key: 'created_at', label: t('grants.col.applied'), cell: (g) => date(g.created_at) },
            { key: 'beneficiary', label: t('grants.col.beneficiary'), cell: (g) => personName(g.beneficiary_name) },
            { key: 'fund', label: t('grants.col.fund'), cell: (g) => g.fund },
            { key: 'amount', num: true, label: t('grants.col.amount'), cell: (g) => money(g.amount, g.currency) },
            { key: 'purpose', label: t('grants.col.purpose'), cell: (g) => h('span', { class: 'purpose' }, g.purpose) },
            { key: 'region', label: t('grants.col.region'), cell: (g) => regionName(regions, g.region_code, g.region) },
            { key: 'category', label: t('grants.col.category'), cell: (g) => t('category.' + g.category) },
            { key: 'status', label: t('grants.col.status'), cell: (g) => grantBadge(g.status) },
          ],
        }));
        wrap.append(cursorPager(state, () => ctx.refresh()));
      },
    };
  },
};

// The pages this module adds, in navigation order (main.js, SECTIONS).
export const views = [grantsView, grantView];
