// #/contribution?id= (hidden; admin, auditor, partner: its own): contribution.get
// and contribution.status in one batch: the amounts in both currencies, the
// status, its receipts, and what it paid for (region, category, amount: never
// a person), as a table and a bar chart by region; for an endowment its
// capital, its share of the earnings and of transfers out. Admin: receive a
// part of a pledge (contribution.receive), cancel, write off, reverse.
//
// Also the admin's forms of #/contributions: record a pledge
// (contribution.pledge) and a receipt (contribution.receive, direct).

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { money, date, dateTime } from '../format.js';
import { describe, errorPanel } from '../errors.js';
import { referenceData } from '../session.js';
import { barChart } from '../chart.js';
import { sum } from '../decimal.js';
import { actionForm, details, field, link, loading, pageHeading, say, section, statusBadge, table } from '../ui.js';
import { regionName } from './queue.js';
import {
  actionButtons, carry, code, fundOptions, isAdmin, isStaff, regionOptions, sayCarried, warning,
} from './money-common.js';

// ---------------------------------------------------------------- the forms of the list

// When a fund is chosen and no currency typed yet, the fund's currency goes in.
function wireCurrency(list, funds) {
  const find = (name) => list.map((d) => d.querySelector('[name="' + name + '"]')).find(Boolean);
  const fund = find('fund');
  const currency = find('currency');
  if (!fund || !currency) return list;
  fund.addEventListener('change', () => {
    const f = funds.find((x) => x.code === fund.value);
    if (f && !currency.value.trim()) currency.value = f.currency;
  });
  return list;
}

function moneyFields(ref, prefill, prefix, dateName) {
  const funds = ref ? ref.funds : [];
  const regions = ref ? ref.regions : [];
  const list = [
    field({
      id: prefix + '-partner', name: 'partner_id', label: t('contribution.field.partner'), required: true,
      value: prefill.partner || '', help: t('contribution.field.partnerHelp'), autocomplete: 'off',
    }),
    field({
      id: prefix + '-fund', name: 'fund', type: 'select', label: t('contribution.field.fund'), required: true,
      options: fundOptions(funds), anyLabel: t('contribution.field.choose'), value: prefill.fund || '',
    }),
    field({ id: prefix + '-amount', name: 'amount', money: true, label: t('contribution.field.amount'), required: true, help: t('contribution.field.amountHelp') }),
    field({
      id: prefix + '-currency', name: 'currency', label: t('contribution.field.currency'), required: true,
      help: t('contribution.field.currencyHelp'), autocomplete: 'off',
    }),
    field({ id: prefix + '-fx', name: 'fx_rate', money: true, label: t('contribution.field.fxRate'), help: t('contribution.field.fxRateHelp') }),
  ];
  if (dateName === 'received_at') {
    list.push(field({ id: prefix + '-fee', name: 'fee', money: true, label: t('contribution.field.fee'), help: t('contribution.field.feeHelp') }));
  }
  list.push(field({
    id: prefix + '-earmark', name: 'earmark_region', type: 'select', label: t('contribution.field.earmark'),
    options: regionOptions(regions), anyLabel: t('contribution.field.noEarmark'), help: t('contribution.field.earmarkHelp'),
  }));
  list.push(field({
    id: prefix + '-date', name: dateName, type: 'date',
    label: dateName === 'received_at' ? t('contribution.field.receivedAt') : t('contribution.field.pledgedAt'),
    help: t('contribution.field.dateHelp'),
  }));
  if (dateName === 'received_at') {
    list.push(field({ id: prefix + '-bankref', name: 'bank_ref', label: t('contribution.field.bankRef'), help: t('contribution.field.bankRefHelp'), autocomplete: 'off' }));
  }
  return wireCurrency(list, funds);
}

function recorded(c) {
  return t('contribution.recorded', {
    id: c.contribution_id,
    amount: money(c.amount, c.currency),
    fundAmount: money(c.fund_amount, c.fund_currency),
    status: t('contributionStatus.' + c.status),
  });
}

// {pledge, receive}: the admin's two forms on #/contributions. state.ref: the
// reference data, prefill: {partner, fund}.
export function contributionForms(ctx, state, close) {
  const opened = (c) => {
    carry(recorded(c));
    ctx.navigate('/contribution', { id: c.contribution_id });
  };
  return {
    pledge: actionForm({
      test: 'contribution-pledge',
      title: () => t('contribution.pledgeTitle'),
      intro: () => t('contribution.pledgeIntro'),
      submitLabel: () => t('contribution.pledgeSubmit'),
      fields: () => moneyFields(state.ref, state.prefill, 'pledge', 'pledged_at'),
      run: (v, key) => ctx.rpc.call('contribution.pledge', { ...v, idempotency_key: key }),
      done: opened,
      cancel: close,
    }),
    receive: actionForm({
      test: 'contribution-receive',
      title: () => t('contribution.receiveTitle'),
      intro: () => t('contribution.receiveIntro'),
      submitLabel: () => t('contribution.receiveSubmit'),
      fields: () => moneyFields(state.ref, state.prefill, 'receive', 'received_at'),
      run: (v, key) => ctx.rpc.call('contribution.receive', { ...v, idempotency_key: key }),
      done: opened,
      cancel: close,
    }),
  };
}

// ---------------------------------------------------------------- the record's page

// [{label, value, text}] per region, in the order regions first appear.
function byRegion(allocations, regions, currency) {
  const groups = new Map();
  for (const a of allocations) {
    const key = a.region_code || a.region || '';
    if (!groups.has(key)) groups.set(key, { name: regionName(regions, a.region_code, a.region), amounts: [] });
    groups.get(key).amounts.push(a.amount);
  }
  return [...groups.values()].map((g) => {
    const total = sum(g.amounts);
    return { label: g.name, value: total, text: money(total, currency) };
  });
}

export const contributionView = {
  id: 'contribution',
  path: '/contribution',
  titleKey: 'contribution.pageTitle',
  navKey: 'contribution.pageTitle',
  hidden: true,
  parent: 'contributions',
  roles: ['admin', 'auditor', 'partner'],
  create(ctx) {
    const id = ctx.params().get('id') || '';
    const state = { loading: true, error: null, c: null, status: null, statusError: null, ref: null, action: null };

    async function load(announce = false) {
      state.loading = true;
      state.error = null;
      try {
        if (!state.ref) state.ref = await referenceData(ctx.rpc);
        const [c, s] = await ctx.rpc.batch([
          { method: 'contribution.get', params: { contribution_id: id } },
          { method: 'contribution.status', params: { contribution_id: id } },
        ]);
        if (c.error) throw c.error;
        state.c = c.result;
        state.status = s.error ? null : s.result;
        state.statusError = s.error || null;
        if (announce) say(t('contribution.loaded', { id, status: t('contributionStatus.' + state.c.status) }));
      } catch (err) {
        state.error = err;
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.loading = false;
      sayCarried();
    }

    const after = async () => { state.action = null; await load(); };
    const redraw = () => ctx.redraw();
    const close = () => { state.action = null; ctx.redraw(); };
    const changed = (c) => t('contribution.changed', { id: c.contribution_id, status: t('contributionStatus.' + c.status) });

    const forms = {
      receive: actionForm({
        test: 'contribution-receive-part',
        title: () => t('contribution.receivePartTitle'),
        intro: () => t('contribution.receivePartIntro', { outstanding: money(state.c.outstanding, state.c.currency) }),
        submitLabel: () => t('contribution.receivePartSubmit'),
        fields: () => [
          field({ id: 'part-amount', name: 'amount', money: true, label: t('contribution.field.partAmount', { currency: state.c.currency }), help: t('contribution.field.partAmountHelp') }),
          state.c.currency !== state.c.fund_currency
            ? field({
              id: 'part-fx', name: 'fx_rate', money: true, label: t('contribution.field.fxRate'),
              help: t('contribution.field.partFxHelp', { rate: state.c.fx_rate || '', from: state.c.currency, to: state.c.fund_currency }),
            }) : null,
          field({ id: 'part-fee', name: 'fee', money: true, label: t('contribution.field.fee'), help: t('contribution.field.feeHelp') }),
          field({ id: 'part-date', name: 'received_at', type: 'date', label: t('contribution.field.receivedAt'), help: t('contribution.field.dateHelp') }),
          field({ id: 'part-bankref', name: 'bank_ref', label: t('contribution.field.bankRef'), help: t('contribution.field.bankRefHelp'), autocomplete: 'off' }),
        ],
        run: (v, key) => ctx.rpc.call('contribution.receive', { ...v, contribution_id: id, idempotency_key: key }),
        success: (c) => t('contribution.partReceived', {
          received: money(c.received, c.currency), outstanding: money(c.outstanding, c.currency),
          status: t('contributionStatus.' + c.status),
        }),
        done: after,
        redraw,
        cancel: close,
      }),
      cancel: actionForm({
        test: 'contribution-cancel',
        title: () => t('contribution.cancelTitle'),
        intro: () => t('contribution.cancelWarning', { amount: money(state.c.amount, state.c.currency) }),
        submitLabel: () => t('contribution.cancelSubmit'),
        fields: () => [warning(t('contribution.cannotUndo')), reasonField('cancel-reason')],
        run: (v, key) => ctx.rpc.call('contribution.cancel', { ...v, contribution_id: id, idempotency_key: key }),
        success: changed,
        done: after,
        redraw,
        cancel: close,
      }),
      writeOff: actionForm({
        test: 'contribution-write-off',
        title: () => t('contribution.writeOffTitle'),
        intro: () => t('contribution.writeOffWarning', {
          outstanding: money(state.c.outstanding, state.c.currency), received: money(state.c.received, state.c.currency),
        }),
        submitLabel: () => t('contribution.writeOffSubmit'),
        fields: () => [warning(t('contribution.cannotUndo')), reasonField('write-off-reason')],
        run: (v, key) => ctx.rpc.call('contribution.write_off', { ...v, contribution_id: id, idempotency_key: key }),
        success: changed,
        done: after,
        redraw,
        cancel: close,
      }),
      reverse: actionForm({
        test: 'contribution-reverse',
        title: () => t('contribution.reverseTitle'),
        intro: () => t('contribution.reverseWarning', { amount: money(state.c.fund_amount, state.c.fund_currency) }),
        submitLabel: () => t('contribution.reverseSubmit'),
        fields: () => [
          warning(t('contribution.cannotUndo')),
          reasonField('reverse-reason'),
          field({ id: 'reverse-date', name: 'value_date', type: 'date', label: t('contribution.field.valueDate'), help: t('contribution.field.valueDateHelp') }),
        ],
        run: (v, key) => ctx.rpc.call('contribution.reverse', { ...v, contribution_id: id, idempotency_key: key }),
        success: changed,
        done: after,
        redraw,
        cancel: close,
      }),
    };

    function reasonField(fid) {
      return field({
        id: fid, name: 'reason', type: 'textarea', required: true, rows: 2,
        label: t('contribution.field.reason'), help: t('contribution.field.reasonHelp'),
      });
    }

    // the admin's actions that the contribution's state allows
    function actions(c) {
      if (!isAdmin()) return [];
      const direct = !c.pledged_at;
      const out = [];
      if (c.status === 'pledged') {
        out.push({ id: 'receive', test: 'contribution-receive-part-open', label: t('contribution.receivePartOpen') });
        if (!(c.receipts || []).length) out.push({ id: 'cancel', test: 'contribution-cancel-open', label: t('contribution.cancelOpen') });
        out.push({ id: 'writeOff', test: 'contribution-write-off-open', label: t('contribution.writeOffOpen') });
      }
      if (c.status === 'received' && direct) {
        out.push({ id: 'reverse', test: 'contribution-reverse-open', label: t('contribution.reverseOpen') });
      }
      return out;
    }

    function summary(c) {
      const regions = state.ref ? state.ref.regions : [];
      const other = c.currency !== c.fund_currency;
      return details([
        [t('contribution.label.status'), statusBadge('contributionStatus', c.status), 'status'],
        isStaff() ? [t('contribution.label.partner'), link('/partner', { id: c.partner_id }, c.partner_id, { class: 'code' }), 'partner_id'] : null,
        [t('contribution.label.fund'), c.fund, 'fund'],
        [c.pledged_at ? t('contribution.label.pledged') : t('contribution.label.amount'), money(c.amount, c.currency), 'amount'],
        other ? [t('contribution.label.fxRate'), t('contribution.rate', { rate: c.fx_rate, from: c.currency, to: c.fund_currency }), 'fx_rate'] : null,
        [t('contribution.label.fundAmount'), money(c.fund_amount, c.fund_currency), 'fund_amount'],
        c.pledged_at ? [t('contribution.label.received'), money(c.received, c.currency), 'received'] : null,
        c.status === 'pledged' ? [t('contribution.label.outstanding'), money(c.outstanding, c.currency), 'outstanding'] : null,
        [t('contribution.label.receivedFund'), money(c.received_fund_amount, c.fund_currency), 'received_fund_amount'],
        [t('contribution.label.fee'), money(c.fee, c.fund_currency), 'fee'],
        [t('contribution.label.earmark'), c.earmark_region_code || c.earmark_region
          ? regionName(regions, c.earmark_region_code, c.earmark_region) : t('contributions.noEarmark'), 'earmark_region'],
        c.pledged_at ? [t('contribution.label.pledgedAt'), dateTime(c.pledged_at), 'pledged_at'] : null,
        c.received_at ? [t('contribution.label.receivedAt'), dateTime(c.received_at), 'received_at'] : null,
        c.bank_ref ? [t('contribution.label.bankRef'), c.bank_ref, 'bank_ref'] : null,
        c.cancelled_at ? [t('contribution.label.cancelledAt'), dateTime(c.cancelled_at), 'cancelled_at'] : null,
        c.cancel_reason ? [t('contribution.label.reason'), c.cancel_reason, 'cancel_reason'] : null,
        c.written_off_at ? [t('contribution.label.writtenOffAt'), dateTime(c.written_off_at), 'written_off_at'] : null,
        c.write_off_reason ? [t('contribution.label.reason'), c.write_off_reason, 'write_off_reason'] : null,
        c.reversed_at ? [t('contribution.label.reversedAt'), dateTime(c.reversed_at), 'reversed_at'] : null,
        c.reverse_reason ? [t('contribution.label.reason'), c.reverse_reason, 'reverse_reason'] : null,
        c.reversal_entry_id ? [t('contribution.label.reversalEntry'), code(c.reversal_entry_id), 'reversal_entry_id'] : null,
      ].filter(Boolean), 'contribution-details');
    }

    function receipts(c) {
      if (!c.pledged_at) return null;
      return section(t('contribution.receiptsTitle'), 'contribution-receipts', table({
        test: 'receipts-table',
        caption: t('contribution.receiptsCaption'),
        empty: t('contribution.noReceipts'),
        rows: c.receipts || [],
        rowAttrs: (r) => ({ 'data-test': 'receipt-row', dataset: { receiptId: r.receipt_id } }),
        columns: [
          { key: 'received_at', label: t('contribution.col.receivedAt'), cell: (r) => date(r.received_at) },
          { key: 'amount', num: true, label: t('contribution.col.amount'), cell: (r) => money(r.amount, c.currency) },
          { key: 'fund_amount', num: true, label: t('contribution.col.fundAmount'), cell: (r) => money(r.fund_amount, c.fund_currency) },
          { key: 'fee', num: true, label: t('contribution.col.fee'), cell: (r) => money(r.fee, c.fund_currency) },
          { key: 'bank_ref', label: t('contribution.col.bankRef'), cell: (r) => r.bank_ref || '—' },
        ],
      }));
    }

    function grantCell(a) {
      // grants' pages are for staff; a partner sees the id only
      return isStaff() ? link('/grant', { id: a.grant_id }, a.grant_id, { class: 'code' }) : code(a.grant_id);
    }

    function allocationsTable(rows, currency, test, caption) {
      const regions = state.ref ? state.ref.regions : [];
      return table({
        test,
        caption,
        empty: t('contribution.noAllocations'),
        rows,
        rowAttrs: (a) => ({ 'data-test': 'allocation-row', dataset: { grantId: a.grant_id } }),
        columns: [
          { key: 'grant_id', label: t('contribution.col.grant'), cell: grantCell },
          { key: 'region', label: t('contribution.col.region'), cell: (a) => regionName(regions, a.region_code, a.region) },
          { key: 'category', label: t('contribution.col.category'), cell: (a) => t('category.' + a.category) },
          { key: 'amount', num: true, label: t('contribution.col.amount'), cell: (a) => money(a.amount, currency) },
        ],
      });
    }

    function paidFor(c) {
      if (state.statusError) {
        return section(t('contribution.paidForTitle'), 'contribution-paid-for', errorPanel(state.statusError, () => ctx.refresh()));
      }
      const s = state.status;
      if (!s) return null;
      const cur = c.fund_currency;
      const regions = state.ref ? state.ref.regions : [];
      const endowment = s.earnings_share !== undefined && s.earnings_share !== null;
      const allocations = s.allocations || [];
      const parts = [
        h('p', { class: 'help' }, endowment ? t('contribution.paidForEndowment') : t('contribution.paidForIntro')),
        details([
          endowment ? [t('contribution.label.capital'), money(s.capital, cur), 'capital'] : null,
          endowment ? [t('contribution.label.capitalKept'), money(s.capital_kept, cur), 'capital_kept'] : null,
          endowment ? [t('contribution.label.earningsShare'), money(s.earnings_share, cur), 'earnings_share'] : null,
          [t('contribution.label.used'), money(s.used, cur), 'used'],
          [t('contribution.label.unused'), money(s.unused, cur), 'unused'],
        ].filter(Boolean), 'paid-for-figures'),
        allocationsTable(allocations, cur, 'allocations-table', t('contribution.allocationsCaption')),
      ];
      if (allocations.length) {
        parts.push(barChart({
          title: t('contribution.chartTitle', { currency: cur }),
          test: 'allocations-chart',
          rows: byRegion(allocations, regions, cur),
          labelHead: t('contribution.col.region'),
          valueHead: t('contribution.col.amount'),
        }));
      }
      if (endowment) {
        const transfers = s.transfers || [];
        parts.push(h('h3', null, t('contribution.transfersTitle')));
        parts.push(table({
          test: 'share-transfers-table',
          caption: t('contribution.transfersCaption'),
          empty: t('contribution.noTransfers'),
          rows: transfers,
          rowAttrs: (x) => ({ 'data-test': 'share-transfer-row', dataset: { transferId: x.transfer_id } }),
          columns: [
            { key: 'transfer_id', label: t('contribution.col.transfer'), cell: (x) => code(x.transfer_id) },
            { key: 'to', label: t('contribution.col.to'), cell: (x) => x.to },
            { key: 'amount', num: true, label: t('contribution.col.amount'), cell: (x) => money(x.amount, x.currency) },
            { key: 'to_amount', num: true, label: t('contribution.col.toAmount'), cell: (x) => money(x.to_amount, x.to_currency) },
          ],
        }));
        for (const x of transfers) {
          if (!(x.allocations || []).length) continue;
          parts.push(allocationsTable(x.allocations, x.to_currency, 'transfer-allocations-table',
            t('contribution.transferAllocationsCaption', { id: x.transfer_id, to: x.to })));
        }
      }
      return section(t('contribution.paidForTitle'), 'contribution-paid-for', parts);
    }

    return {
      load,
      draw(root) {
        root.append(pageHeading(t('contribution.title', { id })));
        root.append(h('p', null, link('/contributions', null, t('contribution.back'))));
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        const c = state.c;
        if (!c) { root.append(loading()); return; }
        root.append(summary(c));
        const acts = actions(c);
        if (acts.length) {
          if (state.action && !acts.some((a) => a.id === state.action)) state.action = null;
          root.append(section(t('contribution.actionsTitle'), 'contribution-actions',
            actionButtons(acts, state.action, (a) => { state.action = a; ctx.redraw(); }),
            state.action ? forms[state.action].draw() : null));
        }
        const rc = receipts(c);
        if (rc) root.append(rc);
        const pf = paidFor(c);
        if (pf) root.append(pf);
      },
    };
  },
};
