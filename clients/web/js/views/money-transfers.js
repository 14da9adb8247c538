// #/transfers (admin, approver, auditor): fund.transfer_list with fund and
// status filters, a page at a time. Admin: a new transfer (fund.transfer),
// cancel one (fund.transfer_cancel), record earnings, fees and losses
// (fund.record_earnings). Admin or approver: confirm a transfer someone else
// made (fund.transfer_confirm; the maker cannot: four eyes).

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { money, number, date, dateTime } from '../format.js';
import { errorPanel } from '../errors.js';
import { hasRole, referenceData } from '../session.js';
import { actionForm, field, filterForm, loadPage, loading, pageHeading, cursorPager, say, selectField, table } from '../ui.js';
import { actionButtons, code, fundOptions, myId, warning } from './money-common.js';

const PAGE_SIZE = 20;
const STATUSES = ['pending', 'confirmed', 'cancelled'];
const EARNING_KINDS = ['interest', 'dividend', 'realised_gain', 'fee', 'loss'];

const admin = () => hasRole('admin');

export function transferStatus(s) {
  return h('span', { class: 'badge money-transfer-' + s, dataset: { status: s } }, t('transfers.status.' + s));
}

function focusForm(test) {
  const form = document.querySelector('form[data-test="' + test + '"]');
  const first = form && form.querySelector('textarea, input, select, button');
  if (first) first.focus();
}

export const transfersView = {
  id: 'transfers',
  path: '/transfers',
  get titleKey() { return admin() ? 'transfers.titleAdmin' : 'transfers.title'; },
  navKey: () => (admin() ? 'transfers.navAdmin' : 'transfers.nav'),
  // fund.transfer_list
  roles: ['admin', 'approver', 'auditor'],
  create(ctx) {
    const q = ctx.params();
    const state = {
      loading: true, error: null, ref: null, rows: [], cursors: [null], nextCursor: null,
      filters: { fund: q.get('fund') || '', status: q.get('status') || '' }, filterError: null,
      form: null, action: null, last: null,
    };

    async function load(announce = false) {
      const res = await loadPage(state, PAGE_SIZE, async (params) => {
        if (!state.ref) state.ref = await referenceData(ctx.rpc);
        for (const [k, v] of Object.entries(state.filters)) if (v) params[k] = v;
        return ctx.rpc.call('fund.transfer_list', params);
      }, [-32602, -32004]);
      if (!res) return;
      state.rows = res.transfers || [];
      if (announce) say(t('transfers.loaded', { count: number(state.rows.length), page: number(state.cursors.length) }));
    }

    const fundOf = (c) => (state.ref ? state.ref.funds.find((f) => f.code === c) : null);
    const closeForm = () => { state.form = null; ctx.redraw(); };

    const transferForm = actionForm({
      test: 'transfer-create',
      title: () => t('transfers.createTitle'),
      intro: () => t('transfers.createIntro'),
      submitLabel: () => t('transfers.createSubmit'),
      fields: () => {
        const funds = state.ref ? state.ref.funds : [];
        return [
          field({ id: 'transfer-from', name: 'from', type: 'select', required: true, label: t('transfers.field.from'), options: fundOptions(funds), anyLabel: t('transfers.field.choose') }),
          field({
            id: 'transfer-to', name: 'to', type: 'select', required: true, label: t('transfers.field.to'),
            options: fundOptions(funds, (f) => f.kind !== 'endowment'), anyLabel: t('transfers.field.choose'), help: t('transfers.field.toHelp'),
          }),
          field({ id: 'transfer-amount', name: 'amount', money: true, required: true, label: t('transfers.field.amount'), help: t('transfers.field.amountHelp') }),
          field({ id: 'transfer-fx', name: 'fx_rate', money: true, label: t('transfers.field.fxRate'), help: t('transfers.field.fxRateHelp') }),
          field({ id: 'transfer-memo', name: 'memo', type: 'textarea', rows: 2, required: true, label: t('transfers.field.memo'), help: t('transfers.field.memoHelp') }),
        ];
      },
      run: (v, key) => ctx.rpc.call('fund.transfer', { ...v, idempotency_key: key }),
      success: (tr) => t('transfers.created', {
        id: tr.transfer_id, amount: money(tr.amount, tr.currency), from: tr.from, to: tr.to,
        toAmount: money(tr.to_amount, tr.to_currency),
      }),
      done: async (tr) => {
        state.form = null;
        state.last = tr;
        state.filters = { fund: tr.from, status: 'pending' };
        state.cursors = [null];
        await load();
      },
      redraw: () => ctx.redraw(),
      cancel: closeForm,
    });

    const earningsForm = actionForm({
      test: 'earnings-record',
      title: () => t('earnings.title'),
      intro: () => t('earnings.intro'),
      submitLabel: () => t('earnings.submit'),
      fields: () => [
        field({ id: 'earnings-fund', name: 'code', type: 'select', required: true, label: t('earnings.field.fund'), options: fundOptions(state.ref ? state.ref.funds : []), anyLabel: t('transfers.field.choose') }),
        field({
          id: 'earnings-kind', name: 'kind', type: 'select', label: t('earnings.field.kind'), value: 'interest',
          options: EARNING_KINDS.map((k) => ({ value: k, label: t('earnings.kind.' + k) })), help: t('earnings.field.kindHelp'),
        }),
        field({ id: 'earnings-amount', name: 'amount', money: true, required: true, label: t('earnings.field.amount'), help: t('earnings.field.amountHelp') }),
        field({ id: 'earnings-period', name: 'period', required: true, label: t('earnings.field.period'), help: t('earnings.field.periodHelp'), autocomplete: 'off' }),
        field({ id: 'earnings-date', name: 'value_date', type: 'date', label: t('earnings.field.valueDate'), help: t('earnings.field.valueDateHelp') }),
        field({ id: 'earnings-note', name: 'note', type: 'textarea', rows: 2, label: t('earnings.field.note') }),
      ],
      run: async (v, key) => {
        const res = await ctx.rpc.call('fund.record_earnings', { ...v, idempotency_key: key });
        const f = fundOf(v.code);
        return { ...res, params: v, currency: f ? f.currency : '' };
      },
      success: (r) => (r.kind === 'fee' || r.kind === 'loss'
        ? t('earnings.charged', {
          amount: money(r.params.amount, r.currency), fund: r.params.code,
          income: money(r.charged_to_income, r.currency), capital: money(r.capital_impaired, r.currency), entry: r.entry_id,
        })
        : t('earnings.recorded', { amount: money(r.params.amount, r.currency), fund: r.params.code, entry: r.entry_id })),
      done: () => { state.form = null; },
      redraw: () => ctx.redraw(),
      cancel: closeForm,
    });

    // confirm or cancel of one transfer: a form of its own (its key) per choice
    function openAction(kind, tr) {
      const again = () => { state.action = null; };
      // the decided transfer stays in sight: a status filter that would hide it goes
      const done = async (res) => {
        again();
        state.last = res;
        if (state.filters.status && state.filters.status !== res.status) {
          state.filters = { ...state.filters, status: '' };
          state.cursors = [null];
        }
        await load();
      };
      const form = kind === 'confirm'
        ? actionForm({
          test: 'transfer-confirm',
          title: () => t('transfers.confirmTitle', { id: tr.transfer_id }),
          intro: () => t('transfers.confirmIntro', {
            amount: money(tr.amount, tr.currency), from: tr.from, to: tr.to, toAmount: money(tr.to_amount, tr.to_currency),
          }),
          submitLabel: () => t('transfers.confirmSubmit'),
          fields: () => [],
          run: (v, key) => ctx.rpc.call('fund.transfer_confirm', { transfer_id: tr.transfer_id, idempotency_key: key }),
          success: (r) => t('transfers.confirmed', { id: r.transfer_id }),
          done,
          redraw: () => ctx.redraw(),
          cancel: () => { again(); ctx.redraw(); },
        })
        : actionForm({
          test: 'transfer-cancel',
          title: () => t('transfers.cancelTitle', { id: tr.transfer_id }),
          intro: () => t('transfers.cancelIntro', { amount: money(tr.amount, tr.currency), from: tr.from, to: tr.to }),
          submitLabel: () => t('transfers.cancelSubmit'),
          fields: () => [
            warning(t('transfers.cannotUndo')),
            field({ id: 'transfer-cancel-reason', name: 'reason', type: 'textarea', rows: 2, required: true, label: t('transfers.field.reason'), help: t('transfers.field.reasonHelp') }),
          ],
          run: (v, key) => ctx.rpc.call('fund.transfer_cancel', { ...v, transfer_id: tr.transfer_id, idempotency_key: key }),
          success: (r) => t('transfers.cancelled', { id: r.transfer_id }),
          done,
          redraw: () => ctx.redraw(),
          cancel: () => { again(); ctx.redraw(); },
        });
      state.action = { kind, id: tr.transfer_id, form };
      ctx.redraw();
      focusForm('transfer-' + kind);
    }

    function filters() {
      const ref = state.ref || { funds: [] };
      return filterForm({
        test: 'transfers-filters',
        error: state.filterError,
        onApply: (f) => {
          state.filters = { fund: f.namedItem('fund').value, status: f.namedItem('status').value };
          state.cursors = [null];
          state.last = null;
          ctx.refresh();
        },
        fields: [
          selectField({
            id: 'filter-fund', name: 'fund', label: t('filters.fund'), anyLabel: t('filters.any'),
            value: state.filters.fund, options: fundOptions(ref.funds),
          }),
          selectField({
            id: 'filter-status', name: 'status', label: t('filters.status'), anyLabel: t('filters.any'),
            value: state.filters.status, options: STATUSES.map((s) => ({ value: s, label: t('transfers.status.' + s) })),
          }),
        ],
      });
    }

    function who(pid) {
      if (!pid) return '';
      return pid === myId() ? t('transfers.you') : code(pid);
    }

    function rowActions(tr) {
      if (tr.status !== 'pending') return tr.cancel_reason ? h('span', { class: 'sub' }, tr.cancel_reason) : '';
      const out = [];
      if (tr.created_by === myId()) {
        out.push(h('span', { class: 'sub' }, t('transfers.needsOther')));
      } else if (hasRole('admin', 'approver')) {
        out.push(h('button', {
          type: 'button', class: 'button', id: 'confirm-' + tr.transfer_id, 'data-test': 'transfer-confirm-open',
          on: { click: () => openAction('confirm', tr) },
        }, t('transfers.confirmOpen')));
      }
      if (admin()) {
        out.push(h('button', {
          type: 'button', class: 'button secondary', id: 'cancel-' + tr.transfer_id, 'data-test': 'transfer-cancel-open',
          on: { click: () => openAction('cancel', tr) },
        }, t('transfers.cancelOpen')));
      }
      return h('div', { class: 'money-row-actions' }, out);
    }

    return {
      load,
      draw(root) {
        root.append(pageHeading(admin() ? t('transfers.titleAdmin') : t('transfers.title')));
        root.append(h('p', { class: 'intro' }, t('transfers.intro')));
        if (admin() && state.ref) {
          root.append(actionButtons([
            { id: 'transfer', test: 'transfer-create-open', label: t('transfers.createOpen') },
            { id: 'earnings', test: 'earnings-record-open', label: t('earnings.open') },
          ], state.form, (f) => { state.form = f; ctx.redraw(); }));
          if (state.form === 'transfer') root.append(transferForm.draw());
          if (state.form === 'earnings') root.append(earningsForm.draw());
        }
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (state.ref) root.append(filters());
        if (state.action) root.append(state.action.form.draw());
        if (state.loading && !state.rows.length) { root.append(loading()); return; }
        root.append(table({
          test: 'transfers-table',
          caption: t('transfers.caption'),
          empty: t('transfers.empty'),
          rows: state.rows,
          rowAttrs: (tr) => ({ 'data-test': 'transfer-row', dataset: { transferId: tr.transfer_id }, class: state.last && state.last.transfer_id === tr.transfer_id ? 'money-last' : null }),
          columns: [
            { key: 'transfer_id', label: t('transfers.col.id'), cell: (tr) => code(tr.transfer_id) },
            { key: 'created_at', label: t('transfers.col.made'), cell: (tr) => date(tr.created_at) },
            { key: 'from', label: t('transfers.col.from'), cell: (tr) => tr.from },
            { key: 'to', label: t('transfers.col.to'), cell: (tr) => tr.to },
            { key: 'amount', num: true, label: t('transfers.col.amount'), cell: (tr) => money(tr.amount, tr.currency) },
            { key: 'to_amount', num: true, label: t('transfers.col.toAmount'), cell: (tr) => money(tr.to_amount, tr.to_currency) },
            { key: 'memo', label: t('transfers.col.memo'), cell: (tr) => h('span', { class: 'purpose' }, tr.memo) },
            { key: 'status', label: t('transfers.col.status'), cell: (tr) => transferStatus(tr.status) },
            { key: 'created_by', label: t('transfers.col.by'), cell: (tr) => who(tr.created_by) },
            {
              key: 'decided', label: t('transfers.col.decided'),
              cell: (tr) => (tr.decided_at ? [who(tr.decided_by), ' ', h('span', { class: 'sub' }, dateTime(tr.decided_at))] : '—'),
            },
            { key: 'actions', label: t('transfers.col.actions'), cell: rowActions },
          ],
        }));
        root.append(cursorPager(state, () => ctx.refresh()));
      },
    };
  },
};
