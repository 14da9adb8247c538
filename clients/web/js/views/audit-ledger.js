// #/ledger (admin, auditor): the trial balance (ledger.trial_balance) at a date
// or over a period, per fund and account, with its totals per currency showing
// that debits equal credits; and the journal (ledger.entries), filtered by an
// account of a fund, by dates and basis, a page at a time.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { number, date, dateTime, money } from '../format.js';
import { errorPanel, clearFields, markFields, describe } from '../errors.js';
import { referenceData } from '../session.js';
import { field, loading, pageHeading, cursorPager, say, section, table } from '../ui.js';
import {
  ACCOUNTS, accountCell, amountSpan, localError, markLocal, netBalance, splitAccount,
} from './audit-util.js';
import { same } from '../decimal.js';

const KINDS = [
  'pledge', 'receipt', 'receipt_reversal', 'pledge_cancel', 'pledge_write_off', 'earnings', 'fee',
  'loss', 'commitment', 'disbursement', 'refund', 'commitment_release', 'transfer_out', 'transfer_in',
];
const PAGE_SIZES = ['10', '20', '50', '100'];

export const ledgerView = {
  id: 'ledger',
  path: '/ledger',
  titleKey: 'ledger.title',
  navKey: 'ledger.nav',
  roles: ['admin', 'auditor'],
  create(ctx) {
    const q = ctx.params();
    const state = {
      ref: null,
      refError: null,
      // the trial balance: what was asked, what came
      tb: {
        mode: q.get('as_of') || !(q.get('from') || q.get('to')) ? 'as_of' : 'period',
        fund: q.get('fund') || null, // null: not chosen yet (the first fund)
        as_of: q.get('as_of') || '', from: q.get('from') || '', to: q.get('to') || '',
        basis: 'value', currency: '',
      },
      tbResult: null,
      tbError: null,
      tbLoading: false,
      // the journal
      jn: { fund: '', account: '', from: '', to: '', basis: 'value', limit: '20' },
      entries: [],
      cursors: [null],
      nextCursor: null,
      jnError: null,
      jnLoading: false,
      loaded: false,
      only: null, // 'trial' | 'journal': what the next load() fetches
    };

    function tbParams() {
      const s = state.tb;
      const p = {};
      if (s.fund) p.fund = s.fund;
      if (s.currency) p.currency = s.currency;
      if (s.basis && s.basis !== 'value') p.basis = s.basis;
      if (s.mode === 'as_of') {
        // a date alone would mean its midnight: the end of the day is what is asked
        if (s.as_of) p.as_of = /^\d{4}-\d{2}-\d{2}$/.test(s.as_of) ? s.as_of + 'T23:59:59.999999Z' : s.as_of;
      } else {
        if (s.from) p.from = s.from;
        if (s.to) p.to = s.to;
      }
      return p;
    }

    async function loadTrial() {
      state.tbLoading = true;
      try {
        const params = tbParams();
        state.tbResult = await ctx.rpc.call('ledger.trial_balance', params);
        state.tbQuery = new URLSearchParams(params).toString();
        state.tbError = null;
      } catch (err) {
        state.tbError = err;
        state.tbResult = null;
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.tbLoading = false;
    }

    async function loadJournal() {
      state.jnLoading = true;
      const s = state.jn;
      const p = { limit: Number(s.limit) };
      const cursor = state.cursors[state.cursors.length - 1];
      if (cursor) p.cursor = cursor;
      if (s.fund && s.account) p.account = s.fund + ':' + s.account;
      if (s.from) p.from = s.from;
      if (s.to) p.to = s.to;
      if (s.basis && s.basis !== 'value') p.basis = s.basis;
      try {
        const res = await ctx.rpc.call('ledger.entries', p);
        state.entries = res.entries || [];
        state.nextCursor = res.next_cursor || null;
        state.jnError = null;
        // what the rows shown answer, for whoever waits on them
        state.jnShown = { account: p.account || '', page: String(state.cursors.length) };
      } catch (err) {
        if (err.reason === 'bad_cursor') state.cursors = [null];
        state.jnError = err;
        state.entries = [];
        state.nextCursor = null;
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.jnLoading = false;
    }

    async function load(announce = false) {
      const only = state.only;
      state.only = null;
      if (!state.ref) {
        try {
          state.ref = await referenceData(ctx.rpc);
          state.refError = null;
        } catch (err) {
          state.refError = err;
          return;
        }
        if (state.tb.fund === null) state.tb.fund = state.ref.funds.length ? state.ref.funds[0].code : '';
      }
      if (only === 'trial') await loadTrial();
      else if (only === 'journal') await loadJournal();
      else await Promise.all([loadTrial(), loadJournal()]);
      state.loaded = true;
      if (!announce) return;
      if (only !== 'journal' && state.tbResult) {
        say(t('trial.loaded', { count: number(state.tbResult.accounts.length) }));
      } else if (only === 'journal' && !state.jnError) {
        say(t('journal.loaded', { count: number(state.entries.length), page: number(state.cursors.length) }));
      }
    }

    function go(what, change = () => {}) {
      change();
      state.only = what;
      ctx.refresh();
    }

    // ------------------------------------------------------------ the trial balance

    function fundOptions() {
      return (state.ref ? state.ref.funds : []).map((f) => ({ value: f.code, label: f.code + ' — ' + f.name }));
    }

    function currencyOptions() {
      const set = new Set((state.ref ? state.ref.funds : []).map((f) => f.currency));
      return [...set].sort().map((c) => ({ value: c, label: c }));
    }

    function trialForm() {
      const s = state.tb;
      const form = h('form', {
        class: 'filters trial-form', 'data-test': 'trial-form', novalidate: true,
        'aria-labelledby': 'trial-form-title',
        on: {
          submit: (ev) => {
            ev.preventDefault();
            const f = ev.currentTarget.elements;
            const v = (n) => (f.namedItem(n) ? f.namedItem(n).value.trim() : '');
            go('trial', () => {
              s.fund = v('fund');
              s.currency = v('currency');
              s.basis = v('basis') || 'value';
              if (s.mode === 'as_of') s.as_of = v('as_of');
              else { s.from = v('from'); s.to = v('to'); }
            });
          },
        },
      },
      h('h3', { id: 'trial-form-title', class: 'sr-only' }, t('trial.formTitle')),
      field({
        id: 'trial-mode', name: 'mode', type: 'select', label: t('trial.mode'), value: s.mode,
        options: [{ value: 'as_of', label: t('trial.modeAsOf') }, { value: 'period', label: t('trial.modePeriod') }],
      }),
      s.mode === 'as_of'
        ? field({ id: 'trial-as-of', name: 'as_of', type: 'date', label: t('trial.asOf'), value: s.as_of, help: t('trial.asOfHelp') })
        : [
          field({ id: 'trial-from', name: 'from', type: 'date', label: t('trial.from'), value: s.from, help: t('trial.fromHelp') }),
          field({ id: 'trial-to', name: 'to', type: 'date', label: t('trial.to'), value: s.to, help: t('trial.toHelp') }),
        ],
      field({
        id: 'trial-fund', name: 'fund', type: 'select', label: t('trial.fund'), value: s.fund,
        anyLabel: t('trial.allFunds'), options: fundOptions(),
      }),
      field({
        id: 'trial-currency', name: 'currency', type: 'select', label: t('trial.currency'), value: s.currency,
        anyLabel: t('trial.anyCurrency'), options: currencyOptions(), help: t('trial.currencyHelp'),
      }),
      field({
        id: 'trial-basis', name: 'basis', type: 'select', label: t('trial.basis'), value: s.basis,
        options: [{ value: 'value', label: t('trial.basisValue') }, { value: 'recorded', label: t('trial.basisRecorded') }],
        help: t('trial.basisHelp'),
      }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'button', 'data-test': 'trial-apply' }, t('trial.show'))));
      // the period's kind changes which dates are asked: redraw with what was typed
      form.elements.namedItem('mode').addEventListener('change', (ev) => {
        const f = form.elements;
        const v = (n) => (f.namedItem(n) ? f.namedItem(n).value.trim() : undefined);
        s.fund = v('fund'); s.currency = v('currency'); s.basis = v('basis');
        if (s.mode === 'as_of') s.as_of = v('as_of') || '';
        else { s.from = v('from') || ''; s.to = v('to') || ''; }
        s.mode = ev.target.value;
        ctx.redraw();
      });
      if (state.tbError) {
        clearFields(form);
        if (!markFields(form, state.tbError)) {
          form.append(h('p', { class: 'error-text', role: 'alert', 'data-test': 'trial-error' }, describe(state.tbError)));
        }
      }
      return form;
    }

    function trialWhat() {
      const s = state.tb;
      const r = state.tbResult;
      const fund = s.fund ? s.fund : t('trial.allFunds');
      let when;
      if (s.mode === 'as_of') when = s.as_of ? t('trial.whenAsOf', { date: date(s.as_of) }) : t('trial.whenAll');
      else if (s.from && s.to) when = t('trial.whenPeriod', { from: date(s.from), to: date(s.to) });
      else if (s.from) when = t('trial.whenFrom', { from: date(s.from) });
      else if (s.to) when = t('trial.whenTo', { to: date(s.to) });
      else when = t('trial.whenAll');
      return t('trial.caption', { fund, when, currency: (r && r.currency) || t('trial.severalCurrencies') });
    }

    function trialTable() {
      const r = state.tbResult;
      return table({
        test: 'trial-table',
        caption: trialWhat(),
        empty: t('trial.empty'),
        rows: r.accounts || [],
        rowAttrs: (a) => ({ 'data-test': 'trial-row', dataset: { account: a.account, fund: a.fund } }),
        columns: [
          { key: 'account', label: t('trial.col.account'), cell: (a) => accountCell(a.account) },
          { key: 'currency', label: t('trial.col.currency'), cell: (a) => a.currency },
          { key: 'opening', num: true, label: t('trial.col.opening'), cell: (a) => netBalance(a.opening, a.currency) },
          { key: 'debit', num: true, label: t('trial.col.debit'), cell: (a) => amountSpan(a.debit, a.currency) },
          { key: 'credit', num: true, label: t('trial.col.credit'), cell: (a) => amountSpan(a.credit, a.currency) },
          { key: 'closing', num: true, label: t('trial.col.closing'), cell: (a) => netBalance(a.closing, a.currency) },
        ],
      });
    }

    function balanced(row) {
      return same(row.opening_debit, row.opening_credit) && same(row.debit, row.credit) &&
        same(row.closing_debit, row.closing_credit);
    }

    function totalsTable() {
      const r = state.tbResult;
      const rows = r.totals_by_currency || [];
      if (!rows.length) return null;
      const m = (key) => (row) => amountSpan(row[key], row.currency);
      return table({
        test: 'trial-totals',
        caption: t('trial.totalsCaption'),
        empty: t('trial.empty'),
        rows,
        rowAttrs: (row) => ({ 'data-test': 'trial-total-row', dataset: { currency: row.currency, balanced: String(balanced(row)) } }),
        columns: [
          { key: 'currency', label: t('trial.col.currency'), cell: (row) => row.currency },
          { key: 'opening_debit', num: true, label: t('trial.col.openingDebit'), cell: m('opening_debit') },
          { key: 'opening_credit', num: true, label: t('trial.col.openingCredit'), cell: m('opening_credit') },
          { key: 'debit', num: true, label: t('trial.col.debit'), cell: m('debit') },
          { key: 'credit', num: true, label: t('trial.col.credit'), cell: m('credit') },
          { key: 'closing_debit', num: true, label: t('trial.col.closingDebit'), cell: m('closing_debit') },
          { key: 'closing_credit', num: true, label: t('trial.col.closingCredit'), cell: m('closing_credit') },
          {
            key: 'balanced', label: t('trial.col.balanced'),
            cell: (row) => (balanced(row)
              ? h('span', { class: 'badge badge-audit-ok', dataset: { status: 'balanced' } }, t('trial.balanced'))
              : h('span', { class: 'badge badge-audit-bad', dataset: { status: 'unbalanced' } }, t('trial.unbalanced'))),
          },
        ],
      });
    }

    function trialPart() {
      const parts = [h('p', { class: 'help' }, t('trial.intro')), trialForm()];
      if (state.tbLoading && !state.tbResult) parts.push(loading());
      else if (state.tbResult) {
        const r = state.tbResult;
        const all = (r.totals_by_currency || []);
        const ok = all.every(balanced);
        parts.push(h('p', { class: ok ? 'notice' : 'notice notice-error', 'data-test': 'trial-summary' },
          all.length === 0 ? t('trial.nothing') : (ok ? t('trial.allBalanced') : t('trial.notBalanced'))));
        // data-query: what the figures shown answer (fund=..&from=..)
        parts.push(h('div', { class: 'trial-result', 'data-test': 'trial-result', dataset: { query: state.tbQuery } },
          totalsTable(),
          h('h3', null, t('trial.accountsTitle')),
          trialTable()));
      } else if (state.tbError && !state.tbError.data.field) {
        parts.push(errorPanel(state.tbError, () => go('trial', () => {})));
      }
      return section(t('trial.title'), 'trial', parts);
    }

    // ------------------------------------------------------------ the journal

    function journalForm() {
      const s = state.jn;
      const form = h('form', {
        class: 'filters journal-form', 'data-test': 'journal-filters', novalidate: true,
        'aria-labelledby': 'journal-form-title',
        on: {
          submit: (ev) => {
            ev.preventDefault();
            const f = ev.currentTarget.elements;
            const v = (n) => f.namedItem(n).value.trim();
            const next = {
              fund: v('fund'), account: v('account'), from: v('from'), to: v('to'),
              basis: v('basis') || 'value', limit: v('limit') || '20',
            };
            state.jnLocal = null;
            if (next.account && !next.fund) state.jnLocal = localError('fund', 'journal.needFund');
            else if (next.fund && !next.account) state.jnLocal = localError('account', 'journal.needAccount');
            if (state.jnLocal) {
              Object.assign(s, next);
              say(state.jnLocal.localSentence, 'error');
              ctx.redraw();
              return;
            }
            go('journal', () => { Object.assign(s, next); state.cursors = [null]; });
          },
        },
      },
      h('h3', { id: 'journal-form-title', class: 'sr-only' }, t('journal.formTitle')),
      h('p', { class: 'help' }, t('journal.filterHelp')),
      field({
        id: 'journal-fund', name: 'fund', type: 'select', label: t('journal.fund'), value: s.fund,
        anyLabel: t('journal.anyFund'), options: fundOptions(),
      }),
      field({
        id: 'journal-account', name: 'account', type: 'select', label: t('journal.account'), value: s.account,
        anyLabel: t('journal.anyAccount'),
        options: ACCOUNTS.map((a) => ({ value: a, label: t('trial.account.' + a) + ' (' + a + ')' })),
      }),
      field({ id: 'journal-from', name: 'from', type: 'date', label: t('journal.from'), value: s.from }),
      field({ id: 'journal-to', name: 'to', type: 'date', label: t('journal.to'), value: s.to, help: t('journal.toHelp') }),
      field({
        id: 'journal-basis', name: 'basis', type: 'select', label: t('trial.basis'), value: s.basis,
        options: [{ value: 'value', label: t('trial.basisValue') }, { value: 'recorded', label: t('trial.basisRecorded') }],
      }),
      field({
        id: 'journal-limit', name: 'limit', type: 'select', label: t('journal.pageSize'), value: s.limit,
        options: PAGE_SIZES.map((n) => ({ value: n, label: number(Number(n)) })),
      }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'button', 'data-test': 'journal-apply' }, t('journal.show'))));
      const err = state.jnLocal || (state.jnError && state.jnError.data.field ? state.jnError : null);
      if (err) {
        clearFields(form);
        if (err.localSentence) markLocal(form, err);
        else if (!markFields(form, err)) {
          form.append(h('p', { class: 'error-text', role: 'alert' }, describe(err)));
        }
      }
      return form;
    }

    function postings(e) {
      return h('ul', { class: 'postings' }, (e.postings || []).map((p) => {
        const debit = !String(p.amount).startsWith('-');
        const { short } = splitAccount(p.account);
        return h('li', { dataset: { account: p.account, amount: p.amount } },
          h('span', { class: 'posting-side' }, t(debit ? 'journal.dr' : 'journal.cr')), ' ',
          h('span', { class: 'posting-account' },
            ACCOUNTS.includes(short) ? t('trial.account.' + short) : p.account,
            ' ', h('span', { class: 'code' }, '(' + p.account + ')')), ' ',
          h('span', { class: 'posting-amount' }, money(debit ? p.amount : String(p.amount).slice(1), p.currency)));
      }));
    }

    function journalTable() {
      const s = state.jn;
      const caption = s.fund && s.account
        ? t('journal.captionAccount', { account: s.fund + ':' + s.account })
        : t('journal.caption');
      return table({
        test: 'journal-table',
        caption,
        empty: t('journal.empty'),
        rows: state.entries,
        rowAttrs: (e) => ({ 'data-test': 'journal-row', dataset: { entryId: e.entry_id, fund: e.fund, kind: e.kind } }),
        columns: [
          { key: 'entry_id', label: t('journal.col.entry'), cell: (e) => h('span', { class: 'code' }, e.entry_id) },
          { key: 'value_date', label: t('journal.col.valueDate'), cell: (e) => date(e.value_date) },
          { key: 'at', label: t('journal.col.recorded'), cell: (e) => dateTime(e.at) },
          { key: 'kind', label: t('journal.col.kind'), cell: (e) => (KINDS.includes(e.kind) ? t('journal.kind.' + e.kind) : e.kind) },
          { key: 'fund', label: t('journal.col.fund'), cell: (e) => e.fund },
          { key: 'memo', label: t('journal.col.memo'), cell: (e) => h('span', { class: 'memo' }, e.memo || '') },
          { key: 'postings', label: t('journal.col.postings'), cell: postings },
        ],
      });
    }

    function journalPart() {
      const parts = [h('p', { class: 'help' }, t('journal.intro')), journalForm()];
      if (state.jnError && !state.jnError.data.field) {
        parts.push(errorPanel(state.jnError, () => go('journal', () => {})));
      } else if (state.jnLoading && !state.entries.length) {
        parts.push(loading());
      } else {
        const shown = state.jnShown || { account: '', page: '' };
        parts.push(h('div', {
          class: 'journal-result', 'data-test': 'journal-result',
          dataset: { account: shown.account, page: shown.page, loading: String(state.jnLoading) },
        }, journalTable()));
        parts.push(cursorPager(state, () => go('journal'), state.jnLoading));
      }
      return section(t('journal.title'), 'journal', parts);
    }

    return {
      load,
      draw(root) {
        root.append(pageHeading(t('ledger.title')));
        root.append(h('p', { class: 'intro' }, t('ledger.intro')));
        if (state.refError) { root.append(errorPanel(state.refError, () => ctx.refresh())); return; }
        if (!state.loaded) { root.append(loading()); return; }
        root.append(trialPart(), journalPart());
      },
    };
  },
};
