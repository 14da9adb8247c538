// #/privacy (admin, auditor): who is due for erasure (privacy.due, a page at a
// time: no personal data, each row a link to the person's #/privacy-person),
// the retention period in words, and finding a person's privacy page by the
// whole full name or national id (returnee.find) or by the record's id.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { date, number } from '../format.js';
import { clearFields, describe, errorPanel, markFields } from '../errors.js';
import { referenceData } from '../session.js';
import { cursorPager, field, link, loadPage, loading, pageHeading, personName, say, section, table } from '../ui.js';
import { regionName } from './queue.js';
import { basisWords, kindWords, yearsText } from './privacy-common.js';

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
      find: { name: '', national_id: '', returnee_id: '' }, found: null, findError: null, finding: false,
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

    async function find(form) {
      const value = (name) => form.elements.namedItem(name).value.trim();
      state.find = { name: value('name'), national_id: value('national_id'), returnee_id: value('returnee_id') };
      if (state.find.returnee_id) {
        ctx.navigate('/privacy-person', { id: state.find.returnee_id });
        return;
      }
      const params = {};
      if (state.find.name) params.name = state.find.name;
      if (state.find.national_id) params.national_id = state.find.national_id;
      if (!params.name && !params.national_id) {
        state.found = null;
        state.findError = { needOne: true };
        say(t('privacy.find.needOne'), 'error');
        ctx.redraw();
        return;
      }
      state.finding = true;
      state.findError = null;
      ctx.redraw();
      try {
        const res = await ctx.rpc.call('returnee.find', params);
        state.found = res.returnees || [];
        say(state.found.length ? t('privacy.find.done', { count: number(state.found.length) }) : t('privacy.find.empty'));
      } catch (err) {
        state.found = null;
        state.findError = err;
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.finding = false;
      ctx.redraw();
    }

    function findForm() {
      const f = state.find;
      const form = h('form', {
        class: 'filters', 'data-test': 'privacy-find', novalidate: true, 'aria-labelledby': 'privacy-find-title',
        on: { submit: (ev) => { ev.preventDefault(); if (!state.finding) find(ev.currentTarget); } },
      },
      h('h2', { id: 'privacy-find-title', class: 'sr-only' }, t('privacy.find.title')),
      h('p', { id: 'privacy-find-help', class: 'help' }, t('privacy.find.help')),
      field({ id: 'privacy-find-name', name: 'name', label: t('privacy.find.name'), value: f.name, autocomplete: 'off' }),
      field({ id: 'privacy-find-national_id', name: 'national_id', label: t('privacy.find.nationalId'), value: f.national_id, autocomplete: 'off' }),
      field({ id: 'privacy-find-returnee_id', name: 'returnee_id', label: t('privacy.find.id'), value: f.returnee_id, autocomplete: 'off' }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'button', 'data-test': 'privacy-find-submit', 'aria-disabled': state.finding ? 'true' : null },
          state.finding ? t('forms.working') : t('privacy.find.submit')),
        state.found || state.findError ? h('button', {
          type: 'button', class: 'button secondary', 'data-test': 'privacy-find-clear',
          on: {
            click: () => {
              state.find = { name: '', national_id: '', returnee_id: '' };
              state.found = null;
              state.findError = null;
              ctx.redraw();
            },
          },
        }, t('privacy.find.clear')) : null));
      for (const input of form.querySelectorAll('input')) input.setAttribute('aria-describedby', 'privacy-find-help');
      clearFields(form);
      const err = state.findError;
      if (err && (err.needOne || !markFields(form, err))) {
        form.append(h('p', { class: 'error-text', role: 'alert', 'data-test': 'privacy-find-error' },
          err.needOne ? t('privacy.find.needOne') : describe(err)));
      }
      return form;
    }

    function foundTable() {
      if (!state.found) return null;
      return table({
        test: 'privacy-found-table',
        caption: t('privacy.find.caption'),
        empty: t('privacy.find.empty'),
        rows: state.found,
        rowAttrs: (r) => ({ 'data-test': 'privacy-found-row', dataset: { returneeId: r.returnee_id } }),
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

        root.append(section(t('privacy.find.title'), 'privacy-find-part', findForm(), foundTable()));
      },
    };
  },
};
