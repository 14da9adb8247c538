// #/partners (admin, auditor): partner.list a page at a time, partner.find by
// name; admin: partner.create. #/partner?id= (hidden): partner.get, its
// contributions (contribution.list partner_id=), its corrections
// (partner.history); admin: partner.update.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { countryName, money, number, date, dateTime } from '../format.js';
import { describe, errorPanel, clearFields, markFields } from '../errors.js';
import {
  actionForm, details, field, link, loadPage, loading, pageHeading, cursorPager, say, section, statusBadge, table,
} from '../ui.js';
import { actionButtons, carry, code, isAdmin, sayCarried } from './money-common.js';

const PAGE_SIZE = 20;
const KINDS = ['individual', 'organisation'];

function kindOptions() {
  return KINDS.map((k) => ({ value: k, label: t('partners.kind.' + k) }));
}

function partnerFields(p, prefix) {
  return [
    field({ id: prefix + '-name', name: 'name', label: t('partners.field.name'), required: !p, value: p ? p.name : '', autocomplete: 'off' }),
    field({
      id: prefix + '-country', name: 'country', label: t('partners.field.country'), required: !p,
      help: t('partners.field.countryHelp'), value: p ? p.country : '', autocomplete: 'off',
    }),
    field({
      id: prefix + '-kind', name: 'kind', type: 'select', label: t('partners.field.kind'), required: !p,
      options: kindOptions(), value: p ? p.kind : 'individual',
    }),
    field({ id: prefix + '-email', name: 'email', type: 'email', label: t('partners.field.email'), value: p ? p.email : '', help: t('partners.field.emailHelp') }),
  ];
}

export const partnersView = {
  id: 'partners',
  path: '/partners',
  titleKey: 'partners.title',
  navKey: 'partners.nav',
  // partner.list, partner.find
  roles: ['admin', 'auditor'],
  create(ctx) {
    const state = {
      loading: true, error: null, rows: [], cursors: [null], nextCursor: null,
      search: '', searchError: null, found: null, form: null,
    };

    const createForm = actionForm({
      test: 'partner-create',
      title: () => t('partners.createTitle'),
      submitLabel: () => t('partners.createSubmit'),
      fields: () => partnerFields(null, 'new-partner'),
      run: (v, key) => ctx.rpc.call('partner.create', { ...v, idempotency_key: key }),
      done: (p) => {
        carry(t('partners.created', { name: p.name }));
        ctx.navigate('/partner', { id: p.partner_id });
      },
      cancel: () => { state.form = null; ctx.redraw(); },
    });

    async function load(announce = false) {
      if (state.search) {
        state.loading = true;
        state.error = null;
        try {
          const res = await ctx.rpc.call('partner.find', { name: state.search, limit: 50 });
          state.found = res.partners || [];
          state.searchError = null;
          if (announce) say(t('partners.foundCount', { count: number(state.found.length) }));
        } catch (err) {
          state.found = null;
          if (err.code === -32602) state.searchError = err;
          else state.error = err;
          if (!err.unauthenticated) say(describe(err), 'error');
        }
        state.loading = false;
        sayCarried();
        return;
      }
      state.found = null;
      const res = await loadPage(state, PAGE_SIZE, (params) => ctx.rpc.call('partner.list', params));
      if (res) {
        state.rows = res.partners || [];
        if (announce) say(t('partners.loaded', { count: number(state.rows.length), page: number(state.cursors.length) }));
      }
      sayCarried();
    }

    function searchForm() {
      const form = h('form', {
        class: 'filters', role: 'search', 'aria-labelledby': 'partner-search-title', 'data-test': 'partner-search',
        on: {
          submit: (ev) => {
            ev.preventDefault();
            state.search = ev.currentTarget.elements.namedItem('name').value.trim();
            state.cursors = [null];
            ctx.refresh();
          },
        },
      },
      h('h2', { id: 'partner-search-title', class: 'sr-only' }, t('partners.searchTitle')),
      field({ id: 'partner-search-name', name: 'name', label: t('partners.searchLabel'), value: state.search, help: t('partners.searchHelp') }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'button', 'data-test': 'partner-search-submit' }, t('partners.searchSubmit')),
        state.search ? h('button', {
          type: 'button', class: 'button secondary', 'data-test': 'partner-search-clear',
          on: { click: () => { state.search = ''; state.searchError = null; state.cursors = [null]; ctx.refresh(); } },
        }, t('partners.showAll')) : null));
      if (state.searchError) {
        clearFields(form);
        if (!markFields(form, state.searchError)) {
          form.append(h('p', { class: 'error-text', role: 'alert' }, describe(state.searchError)));
        }
      }
      return form;
    }

    function partnersTable(rows, caption) {
      return table({
        test: 'partners-table',
        caption,
        empty: state.search ? t('partners.noneFound') : t('partners.empty'),
        rows,
        rowAttrs: (p) => ({ 'data-test': 'partner-row', dataset: { partnerId: p.partner_id } }),
        columns: [
          { key: 'name', label: t('partners.col.name'), cell: (p) => link('/partner', { id: p.partner_id }, p.name) },
          { key: 'kind', label: t('partners.col.kind'), cell: (p) => t('partners.kind.' + p.kind) },
          { key: 'country', label: t('partners.col.country'), cell: (p) => countryName(p.country) },
          { key: 'email', label: t('partners.col.email'), cell: (p) => p.email || t('partners.noEmail') },
          { key: 'created_at', label: t('partners.col.created'), cell: (p) => date(p.created_at) },
          { key: 'partner_id', label: t('partners.col.id'), cell: (p) => code(p.partner_id) },
        ],
      });
    }

    return {
      load,
      draw(root) {
        root.append(pageHeading(t('partners.title')));
        root.append(h('p', { class: 'intro' }, t('partners.intro')));
        if (isAdmin()) {
          root.append(actionButtons([{ id: 'create', test: 'partner-create-open', label: t('partners.createOpen') }],
            state.form, (id) => { state.form = id; ctx.redraw(); }));
          if (state.form === 'create') root.append(createForm.draw());
        }
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        root.append(searchForm());
        if (state.loading && !state.rows.length && !state.found) { root.append(loading()); return; }
        if (state.search && state.found) {
          root.append(partnersTable(state.found, t('partners.foundCaption', { name: state.search })));
          return;
        }
        if (state.search) return;
        root.append(partnersTable(state.rows, t('partners.caption')));
        root.append(cursorPager(state, () => ctx.refresh()));
      },
    };
  },
};

const FIELDS = ['name', 'country', 'kind', 'email'];

function fieldValue(f, v) {
  if (v === null || v === undefined || v === '') return t('partnerRecord.empty');
  if (f === 'kind') return t('partners.kind.' + v);
  if (f === 'country') return countryName(v);
  return String(v);
}

export const partnerView = {
  id: 'partner',
  path: '/partner',
  titleKey: 'partnerRecord.title',
  navKey: 'partnerRecord.title',
  hidden: true,
  parent: 'partners',
  roles: ['admin', 'auditor'],
  create(ctx) {
    const id = ctx.params().get('id') || '';
    const state = { loading: true, error: null, partner: null, contributions: [], more: false, history: [], form: null };

    async function load(announce = false) {
      state.loading = true;
      state.error = null;
      try {
        const [p, c, hist] = await ctx.rpc.batch([
          { method: 'partner.get', params: { partner_id: id } },
          { method: 'contribution.list', params: { partner_id: id, limit: PAGE_SIZE } },
          { method: 'partner.history', params: { partner_id: id, limit: 100 } },
        ]);
        if (p.error) throw p.error;
        state.partner = p.result;
        if (c.error) throw c.error;
        state.contributions = c.result.contributions || [];
        state.more = !!c.result.next_cursor;
        if (hist.error) throw hist.error;
        state.history = hist.result.history || [];
        if (announce) say(t('partnerRecord.loaded', { name: state.partner.name }));
      } catch (err) {
        state.error = err;
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.loading = false;
      sayCarried();
    }

    const updateForm = actionForm({
      test: 'partner-update',
      title: () => t('partnerRecord.correctTitle'),
      intro: () => t('partnerRecord.correctIntro'),
      submitLabel: () => t('partnerRecord.correctSubmit'),
      fields: () => partnerFields(state.partner, 'edit-partner'),
      run: (v, key) => {
        const params = { partner_id: id, idempotency_key: key };
        for (const f of FIELDS) {
          if (v[f] !== undefined && v[f] !== (state.partner[f] ?? '')) params[f] = v[f];
        }
        return ctx.rpc.call('partner.update', params);
      },
      success: () => t('partnerRecord.corrected'),
      done: async () => { state.form = null; await load(); },
      redraw: () => ctx.redraw(),
      cancel: () => { state.form = null; ctx.redraw(); },
    });

    function historyRows() {
      const rows = [];
      state.history.forEach((e, i) => {
        for (const f of e.fields || []) {
          rows.push({ key: i + '-' + f, at: e.at, who: e.name, field: f, old: (e.old || {})[f], new: (e.new || {})[f] });
        }
      });
      return rows;
    }

    return {
      load,
      draw(root) {
        const p = state.partner;
        root.append(pageHeading(p ? p.name : t('partnerRecord.title')));
        root.append(h('p', null, link('/partners', null, t('partnerRecord.back'))));
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (!p) { root.append(loading()); return; }
        root.append(details([
          [t('partners.col.id'), code(p.partner_id), 'partner_id'],
          [t('partners.col.kind'), t('partners.kind.' + p.kind), 'kind'],
          [t('partners.col.country'), countryName(p.country), 'country'],
          [t('partners.col.email'), p.email || t('partners.noEmail'), 'email'],
          [t('partners.col.created'), dateTime(p.created_at), 'created_at'],
        ], 'partner-details'));
        if (isAdmin()) {
          root.append(actionButtons([{ id: 'update', test: 'partner-update-open', label: t('partnerRecord.correctOpen') }],
            state.form, (f) => { state.form = f; ctx.redraw(); }));
          if (state.form === 'update') root.append(updateForm.draw());
          root.append(h('p', { class: 'money-links' },
            link('/contributions', { partner: p.partner_id, form: 'receive' }, t('partnerRecord.recordReceipt'), { 'data-test': 'partner-record-receipt' }),
            ' · ',
            link('/contributions', { partner: p.partner_id, form: 'pledge' }, t('partnerRecord.recordPledge'), { 'data-test': 'partner-record-pledge' })));
        }
        root.append(section(t('partnerRecord.contributionsTitle'), 'partner-contributions',
          table({
            test: 'partner-contributions-table',
            caption: t('partnerRecord.contributionsCaption'),
            empty: t('partnerRecord.noContributions'),
            rows: state.contributions,
            rowAttrs: (c) => ({ 'data-test': 'contribution-row', dataset: { contributionId: c.contribution_id } }),
            columns: [
              { key: 'contribution_id', label: t('contributions.col.id'), cell: (c) => link('/contribution', { id: c.contribution_id }, c.contribution_id, { class: 'code' }) },
              { key: 'date', label: t('contributions.col.date'), cell: (c) => date(c.received_at || c.pledged_at || c.created_at) },
              { key: 'fund', label: t('contributions.col.fund'), cell: (c) => c.fund },
              { key: 'amount', num: true, label: t('contributions.col.amount'), cell: (c) => money(c.amount, c.currency) },
              { key: 'fund_amount', num: true, label: t('contributions.col.fundAmount'), cell: (c) => money(c.fund_amount, c.fund_currency) },
              { key: 'status', label: t('contributions.col.status'), cell: (c) => statusBadge('contributionStatus', c.status) },
            ],
          }),
          h('p', null, link('/contributions', { partner: p.partner_id },
            state.more ? t('partnerRecord.allContributionsMore') : t('partnerRecord.allContributions'), { 'data-test': 'partner-all-contributions' }))));
        root.append(section(t('partnerRecord.historyTitle'), 'partner-history',
          table({
            test: 'partner-history-table',
            caption: t('partnerRecord.historyCaption'),
            empty: t('partnerRecord.noHistory'),
            rows: historyRows(),
            rowAttrs: (r) => ({ 'data-test': 'history-row', dataset: { field: r.field } }),
            columns: [
              { key: 'at', label: t('partnerRecord.col.at'), cell: (r) => dateTime(r.at) },
              { key: 'by', label: t('partnerRecord.col.by'), cell: (r) => r.who || t('partnerRecord.bySystem') },
              { key: 'field', label: t('partnerRecord.col.field'), cell: (r) => t('partners.field.' + r.field) },
              { key: 'old', label: t('partnerRecord.col.old'), cell: (r) => fieldValue(r.field, r.old) },
              { key: 'new', label: t('partnerRecord.col.new'), cell: (r) => fieldValue(r.field, r.new) },
            ],
          })));
      },
    };
  },
};
