// #/payments (admin): the payments (tranches of grants) that wait for the
// caller as checker (disbursement.queue: those it did not create), a page at a
// time, with each one's grant, beneficiary and fund (grant.get, one batch), who
// created it (principal.list role=admin); confirming one as paid
// (disbursement.confirm) or marking it failed (disbursement.fail). Below, the
// caller's own pending payments (disbursement.list status=pending, those it
// created), which another administrator must confirm.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { money, number, date, todayUtc } from '../format.js';
import { describe, errorPanel } from '../errors.js';
import { principal as me } from '../session.js';
import { actionForm, details, field, filterForm, link, loadPage, loading, pageHeading, cursorPager, personName, say, section, selectField, table } from '../ui.js';
import { badge, loadAll, whoName } from './people-common.js';

const PAGE_SIZE = 20;

export const paymentsView = {
  id: 'payments',
  path: '/payments',
  titleKey: 'payments.title',
  navKey: 'payments.nav',
  roles: ['admin'],
  create(ctx) {
    const state = {
      loading: true, error: null, ref: null, rows: [], count: null, cursors: [null], nextCursor: null,
      fund: '', filterError: null, grants: new Map(), names: null,
      own: [], ownMore: false, ownError: null,
      action: null,          // {kind: 'confirm'|'fail', d, from, form}
    };

    async function grantsOf(rows) {
      const ids = [...new Set(rows.map((d) => d.grant_id))].filter((id) => !state.grants.has(id));
      if (!ids.length) return;
      const answers = await ctx.rpc.batch(ids.map((id) => ({ method: 'grant.get', params: { grant_id: id } })));
      answers.forEach((a, i) => { if (a.result) state.grants.set(ids[i], a.result); });
    }

    async function load(announce = false) {
      const res = await loadPage(state, PAGE_SIZE, async (params) => {
        // fund.list afresh (not the session's cached copy): a fund made since sign-in
        // is in the filter too
        if (!state.ref) state.ref = { funds: (await ctx.rpc.call('fund.list')).funds || [] };
        if (!state.names) {
          const admins = await loadAll(ctx.rpc, 'principal.list', { role: 'admin' }, 'principals', 5);
          state.names = new Map(admins.rows.map((p) => [p.principal_id, p]));
        }
        if (state.fund) params.fund = state.fund;
        return ctx.rpc.call('disbursement.queue', params);
      }, [-32602, -32004]);
      if (!res) return;
      state.rows = res.disbursements || [];
      state.count = res.count;
      // the caller's own, waiting for someone else
      try {
        const mine = await loadAll(ctx.rpc, 'disbursement.list', { status: 'pending' }, 'disbursements', 5);
        const myId = me() ? me().principal_id : null;
        state.own = mine.rows.filter((d) => d.created_by === myId);
        state.ownMore = mine.more;
        state.ownError = null;
      } catch (err) {
        state.ownError = err;
      }
      try {
        await grantsOf([...state.rows, ...state.own]);
      } catch (err) { /* grants shown by id only */ }
      if (state.action) {
        const again = state.rows.find((d) => d.disbursement_id === state.action.d.disbursement_id);
        if (!again) state.action = null;
      }
      if (announce) say(t('payments.loaded', { count: number(res.count), page: number(state.cursors.length) }));
    }

    function go(change) {
      change();
      ctx.refresh();
    }

    function grantOf(d) {
      return state.grants.get(d.grant_id) || null;
    }

    // ------------------------------------------------------------ actions

    function summary(d) {
      const g = grantOf(d);
      return details([
        [t('payments.col.payment'), h('span', { class: 'code' }, d.disbursement_id), 'disbursement_id'],
        [t('payments.col.amount'), money(d.amount, d.currency), 'amount'],
        [t('payments.col.beneficiary'), g ? personName(g.beneficiary_name) : null, 'beneficiary'],
        [t('payments.col.grant'), link('/grant', { id: d.grant_id }, d.grant_id, { class: 'code' }), 'grant_id'],
        [t('payments.col.fund'), g ? g.fund : null, 'fund'],
        [t('payments.col.account'), d.payee_account ? h('span', { class: 'code' }, d.payee_account) : t('payments.noAccount'), 'payee_account'],
        [t('payments.col.reference'), d.reference, 'reference'],
        [t('payments.col.createdBy'), whoName(state.names, d.created_by, me()), 'created_by'],
      ], 'action-summary');
    }

    function formFor(kind, d) {
      const after = async () => { state.action = null; await load(); };
      const redraw = () => { ctx.redraw(); const el = document.getElementById('page-title'); if (el) el.focus(); };
      if (kind === 'confirm') {
        return actionForm({
          test: 'confirm-payment-form',
          submitLabel: () => t('payments.confirm.submit'),
          fields: () => [
            summary(d),
            h('p', { class: 'notice people-gap' }, t('payments.confirm.warn')),
            field({ id: 'pay-bank-ref', name: 'bank_ref', label: t('payments.confirm.bankRef'), required: true, help: t('payments.confirm.bankRefHelp'), autocomplete: 'off' }),
            field({ id: 'pay-paid-at', name: 'paid_at', type: 'date', label: t('payments.confirm.paidAt'), help: t('payments.confirm.paidAtHelp'), max: todayUtc() }),
          ],
          run: (v, key) => ctx.rpc.call('disbursement.confirm', { ...v, disbursement_id: d.disbursement_id, idempotency_key: key }),
          success: (r) => t('payments.confirm.done', { id: r.disbursement_id, amount: money(r.amount, r.currency) }),
          done: after,
          redraw,
          cancel: closeAction,
        });
      }
      return actionForm({
        test: 'fail-payment-form',
        submitLabel: () => t('payments.fail.submit'),
        fields: () => [
          summary(d),
          h('p', { class: 'notice notice-error people-gap' }, t('payments.fail.warn')),
          field({ id: 'pay-reason', name: 'reason', label: t('payments.fail.reason'), required: true, help: t('payments.fail.reasonHelp'), autocomplete: 'off' }),
        ],
        run: (v, key) => ctx.rpc.call('disbursement.fail', { ...v, disbursement_id: d.disbursement_id, idempotency_key: key }),
        success: (r) => t('payments.fail.done', { id: r.disbursement_id, amount: money(r.amount, r.currency) }),
        done: after,
        redraw,
        cancel: closeAction,
      });
    }

    function openAction(kind, d, from) {
      state.action = { kind, d, from, form: formFor(kind, d) };
      ctx.redraw();
      const el = document.querySelector('[data-test="payment-action"] input');
      if (el) el.focus();
    }

    function closeAction() {
      const from = state.action && state.action.from;
      state.action = null;
      ctx.redraw();
      const back = from && document.getElementById(from);
      if (back) back.focus();
    }

    function actions(d) {
      const btn = (kind, label, test) => {
        const id = kind + '-' + d.disbursement_id;
        return h('button', {
          type: 'button', id, class: 'button secondary people-small', 'data-test': test,
          dataset: { disbursementId: d.disbursement_id },
          on: { click: () => openAction(kind, d, id) },
        }, label, h('span', { class: 'sr-only' }, ' ', d.disbursement_id));
      };
      return h('div', { class: 'people-row-actions' },
        btn('confirm', t('payments.confirm.button'), 'confirm-payment'),
        btn('fail', t('payments.fail.button'), 'fail-payment'));
    }

    function columns(withActions) {
      const cols = [
        {
          key: 'disbursement_id', label: t('payments.col.payment'),
          cell: (d) => [h('span', { class: 'code' }, d.disbursement_id), h('span', { class: 'sub' }, t('payments.preparedOn', { date: date(d.created_at) }))],
        },
        {
          key: 'beneficiary', label: t('payments.col.beneficiary'),
          cell: (d) => [grantOf(d) ? personName(grantOf(d).beneficiary_name) : '', h('span', { class: 'sub' },
            link('/grant', { id: d.grant_id }, d.grant_id, { class: 'code', 'data-test': 'grant-link' }))],
        },
        { key: 'fund', label: t('payments.col.fund'), cell: (d) => (grantOf(d) ? grantOf(d).fund : '') },
        { key: 'amount', num: true, label: t('payments.col.amount'), cell: (d) => money(d.amount, d.currency) },
        {
          key: 'payee_account', label: t('payments.col.account'),
          cell: (d) => [d.payee_account ? h('span', { class: 'code' }, d.payee_account) : t('payments.noAccount'),
            d.reference ? h('span', { class: 'sub' }, t('payments.referenceIs', { reference: d.reference })) : null],
        },
        { key: 'created_by', label: t('payments.col.createdBy'), cell: (d) => whoName(state.names, d.created_by, me()) },
      ];
      if (withActions) cols.push({ key: 'actions', label: t('payments.col.actions'), cell: actions });
      else cols.push({ key: 'status', label: t('payments.col.status'), cell: (d) => [badge('disbursementStatus', d.status), h('span', { class: 'sub' }, t('payments.own.waiting'))] });
      return cols;
    }

    return {
      load,
      draw(root) {
        const badgeEl = state.count === null || state.count === undefined ? null : [
          ' ',
          h('span', { class: 'badge badge-count', 'data-test': 'payments-count', 'aria-hidden': 'true' }, number(state.count)),
          h('span', { class: 'sr-only' }, t('payments.badgeLabel', { count: number(state.count) })),
        ];
        root.append(pageHeading(t('payments.title'), badgeEl));
        root.append(h('p', { class: 'intro' }, t('payments.intro')));
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (state.loading && !state.ref) { root.append(loading()); return; }

        if (state.action) {
          const a = state.action;
          root.append(section(t('payments.' + a.kind + '.title', { id: a.d.disbursement_id }), 'payment-action', a.form.draw()));
        }

        const filters = filterForm({
          test: 'payments-filters',
          error: state.filterError,
          onApply: (f) => {
            state.fund = f.namedItem('fund').value;
            state.action = null;
            go(() => { state.cursors = [null]; });
          },
          fields: [
            selectField({
              id: 'filter-fund', name: 'fund', label: t('filters.fund'), anyLabel: t('filters.any'), value: state.fund,
              options: (state.ref ? state.ref.funds : []).map((f) => ({ value: f.code, label: f.code + ' — ' + f.name })),
            }),
          ],
        });
        root.append(section(t('payments.queueTitle'), 'queue-part',
          filters,
          state.loading && !state.rows.length ? loading() : table({
            test: 'payments-table',
            caption: t('payments.caption'),
            empty: t('payments.empty'),
            rows: state.rows,
            rowAttrs: (d) => ({ 'data-test': 'payment-row', dataset: { disbursementId: d.disbursement_id } }),
            columns: columns(true),
          }),
          cursorPager(state, () => ctx.refresh())));

        root.append(section(t('payments.own.title'), 'own-payments',
          h('p', { class: 'help' }, t('payments.own.intro')),
          state.ownError ? h('p', { class: 'error-text', role: 'alert' }, describe(state.ownError)) : table({
            test: 'own-payments-table',
            caption: t('payments.own.caption'),
            empty: t('payments.own.empty'),
            rows: state.own,
            rowAttrs: (d) => ({ 'data-test': 'own-payment-row', dataset: { disbursementId: d.disbursement_id } }),
            columns: columns(false),
          }),
          state.ownMore ? h('p', { class: 'help' }, t('payments.own.more')) : null));
      },
    };
  },
};
