// #/returnees (admin, approver, auditor): the beneficiaries (returnee.list, a
// page at a time, filtered by region and kind), finding one by the whole full
// name or the whole national id (returnee.find, with their grants: the daemon
// finds people through a keyed hash of each, so a part of a name finds nobody;
// returnee-find.js),
// and, for an admin, registering one (returnee.register), with the consent the
// person gave if any (the consent_* params; with no purpose ticked the form
// says that none will be recorded). #/returnee?id=
// (hidden): one beneficiary (returnee.get), their grants (grant.list
// returnee_id=), corrections (returnee.update, admin; none once the person's
// personal data was erased) and the history of corrections (returnee.history).
//
// Personal data of vulnerable people: never for a partner (the roles leave
// partners out), nothing in the URL but the record's id, nothing written to
// the console's log or to storage. Search terms stay in this page's memory.
// An erased person (erased_at set) has full_name, national_id, birth_year,
// gender, contact and notes null: shown as "Personal data erased".

import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { countryName, money, number, date, dateTime, list, todayUtc } from '../format.js';
import { describe, errorPanel } from '../errors.js';
import { hasRole, referenceData } from '../session.js';
import {
  actionForm, details, field, filterForm, link, loadPage, loading, pageHeading, cursorPager, personName, say,
  section, selectField, table,
} from '../ui.js';
import { regionName } from './queue.js';
import { grantBadge } from './grants-util.js';
import { consentFields, consentParams, syncConsent } from './privacy-common.js';
import { returneeFinder } from './returnee-find.js';

export const KINDS = ['returnee', 'displaced', 'refugee', 'asylum_seeker'];
export const GENDERS = ['female', 'male', 'other', 'undisclosed'];
const FIELDS = ['full_name', 'region', 'returned_from', 'returned_on', 'gender', 'birth_year', 'national_id', 'contact', 'notes', 'kind'];
// the fields stored encrypted, null once the person is erased (docs/privacy.md)
const PERSONAL = ['full_name', 'national_id', 'birth_year', 'gender', 'contact', 'notes'];
// text the daemon takes on one line only (no control characters): line breaks
// typed in the notes become spaces, as the field's help says
const ONE_LINE = ['contact', 'notes'];
const PAGE_SIZE = 20;
const ROLES = ['admin', 'approver', 'auditor'];

// A beneficiary's name in a list's link: the name, or "Personal data erased"
// with the record's id (so that each link still says where it leads).
function nameOrErased(r) {
  if (r.full_name !== null && r.full_name !== undefined) return r.full_name;
  return h('span', { class: 'erased', 'data-test': 'erased-name' }, t('person.erasedRecord', { id: r.returnee_id }));
}

// Text as a correction compares it: trimmed.
function norm(v) {
  return String(v ?? '').trim();
}

function regionOf(ref, r) {
  return regionName(ref ? ref.regions : [], r.region_code, r.region);
}

function regionOptions(ref) {
  return (ref ? ref.regions : []).map((r) => ({ value: r.region_code, label: regionName(ref.regions, r.region_code, r.region) }));
}

function kindOptions() {
  return KINDS.map((k) => ({ value: k, label: t('returnee.kind.' + k) }));
}

function genderOptions() {
  return GENDERS.map((g) => ({ value: g, label: t('returnee.gender.' + g) }));
}

// returnee.register / returnee.update params from a form's values: the country
// in capitals, the year of birth as a JSON integer (as typed when it is not
// one, for the daemon to refuse and mark).
function personParams(values) {
  const out = {};
  for (const f of FIELDS) {
    if (values[f] === undefined) continue;
    let v = values[f];
    if (f === 'returned_from') v = v.toUpperCase();
    if (ONE_LINE.includes(f)) v = v.replace(/\s*[\u0000-\u001f\u007f-\u009f]+\s*/g, ' ');
    if (f === 'birth_year' && /^\d{1,4}$/.test(v)) v = Number(v);
    out[f] = v;
  }
  return out;
}

// The fields of a beneficiary, for registering (r null) or correcting r.
function personFields(ref, r, extra) {
  const v = (k) => (r ? r[k] : undefined);
  return [
    field({ id: 'p-full_name', name: 'full_name', label: t('returnee.field.full_name'), required: !r, value: v('full_name'), autocomplete: 'off' }),
    field({
      id: 'p-region', name: 'region', type: 'select', label: t('returnee.field.region'), required: !r,
      anyLabel: r ? undefined : t('returnees.register.choose'), options: regionOptions(ref), value: v('region_code'),
    }),
    field({
      id: 'p-returned_from', name: 'returned_from', label: t('returnee.field.returned_from'), required: !r,
      help: t('returnees.register.countryHelp'), value: v('returned_from'), autocomplete: 'off',
    }),
    field({
      id: 'p-returned_on', name: 'returned_on', type: 'date', label: t('returnee.field.returned_on'), required: !r,
      max: todayUtc(), value: v('returned_on'),
    }),
    field({
      id: 'p-kind', name: 'kind', type: 'select', label: t('returnee.field.kind'),
      options: kindOptions(), value: v('kind') || 'returnee', help: t('returnees.register.kindHelp'),
    }),
    field({
      id: 'p-gender', name: 'gender', type: 'select', label: t('returnee.field.gender'),
      anyLabel: r && r.gender ? undefined : t('returnees.register.notGiven'), options: genderOptions(), value: v('gender'),
    }),
    field({
      id: 'p-birth_year', name: 'birth_year', type: 'number', label: t('returnee.field.birth_year'),
      min: 1900, max: new Date().getUTCFullYear(), value: v('birth_year'),
    }),
    field({
      id: 'p-national_id', name: 'national_id', label: t('returnee.field.national_id'),
      help: t('returnees.register.nationalIdHelp'), value: v('national_id'), autocomplete: 'off',
    }),
    field({
      id: 'p-contact', name: 'contact', label: t('returnee.field.contact'),
      help: t('returnees.register.contactHelp'), value: v('contact'), autocomplete: 'off',
    }),
    field({
      id: 'p-notes', name: 'notes', type: 'textarea', rows: 4, label: t('returnee.field.notes'),
      help: t('returnees.register.notesHelp'), value: v('notes'),
    }),
    extra || null,
  ];
}

// A "registered already" notice for a duplicate_returnee refusal, pointing at
// the record the error names.
function duplicateNotice(dup) {
  if (!dup) return null;
  return h('div', { class: 'notice people-dup', 'data-test': 'duplicate-notice', role: 'alert' },
    h('p', null, t('returnees.duplicate.text')),
    h('p', null, link('/returnee', { id: dup.id },
      dup.name ? t('returnees.duplicate.openNamed', { name: dup.name }) : t('returnees.duplicate.open'),
      { 'data-test': 'duplicate-link', dataset: { returneeId: dup.id } })));
}

async function withDuplicate(rpc, err, set) {
  if (err && err.reason === 'duplicate_returnee' && err.data && err.data.returnee_id) {
    const dup = { id: err.data.returnee_id, name: null };
    set(dup);
    try {
      const r = await rpc.call('returnee.get', { returnee_id: dup.id });
      dup.name = r.full_name;
      set(dup);
    } catch (e) { /* the link still leads there */ }
  } else {
    set(null);
  }
}

// ---------------------------------------------------------------- #/returnees

export const returneesView = {
  id: 'returnees',
  path: '/returnees',
  titleKey: 'returnees.title',
  navKey: 'returnees.nav',
  roles: ROLES,
  create(ctx) {
    const state = {
      loading: true, error: null, ref: null, rows: [], cursors: [null], nextCursor: null,
      filters: { region: '', kind: '' }, filterError: null,
      registered: null, dup: null,
    };
    let dupSlot = null;

    async function load(announce = false) {
      const res = await loadPage(state, PAGE_SIZE, async (params) => {
        if (!state.ref) state.ref = await referenceData(ctx.rpc);
        for (const [k, v] of Object.entries(state.filters)) if (v) params[k] = v;
        return ctx.rpc.call('returnee.list', params);
      });
      if (!res) return;
      state.rows = res.returnees || [];
      if (announce) say(t('returnees.loaded', { count: number(state.rows.length), page: number(state.cursors.length) }));
    }

    function go(change) {
      change();
      ctx.refresh();
    }

    // ------------------------------------------------------------ find

    const finder = returneeFinder({
      rpc: ctx.rpc,
      redraw: ctx.redraw,
      ids: 'find',
      test: { form: 'find-form', submit: 'find-submit', clear: 'find-clear', error: 'find-error', table: 'found-table', row: 'found-row' },
      formClass: 'filters people-find',
      title: () => t('returnees.find.title'),
      help: () => t('returnees.find.help'),
      fields: () => [
        { id: 'find-name', name: 'name', label: t('returneeFind.name') },
        { id: 'find-national-id', name: 'national_id', label: t('returneeFind.nationalId') },
      ],
    });

    function foundTable() {
      return finder.results({
        caption: t('returnees.find.caption'),
        columns: [
          { key: 'full_name', label: t('returnee.field.full_name'), cell: (r) => link('/returnee', { id: r.returnee_id }, nameOrErased(r)) },
          { key: 'region', label: t('returnee.field.region'), cell: (r) => regionOf(state.ref, r) },
          { key: 'kind', label: t('returnee.field.kind'), cell: (r) => t('returnee.kind.' + (r.kind || 'returnee')) },
          { key: 'returned_on', label: t('returnee.field.returned_on'), cell: (r) => date(r.returned_on) },
          {
            key: 'grants', label: t('returnees.col.grants'),
            cell: (r) => (r.grants && r.grants.length
              ? h('ul', { class: 'people-plain' }, r.grants.map((g) => h('li', null,
                link('/grant', { id: g.grant_id }, money(g.amount, g.currency)), ' ',
                grantBadge(g.status))))
              : t('returnees.noGrants')),
          },
        ],
      });
    }

    // ------------------------------------------------------------ register

    function fillDup() {
      if (!dupSlot) return;
      clear(dupSlot);
      const n = duplicateNotice(state.dup);
      if (n) dupSlot.append(n);
    }

    const register = actionForm({
      test: 'register-form',
      title: () => t('returnees.register.title'),
      submitLabel: () => t('returnees.register.submit'),
      fields: () => {
        dupSlot = h('div', { 'data-role': 'duplicate' });
        fillDup();
        return [
          h('p', { class: 'help people-gap' }, t('returnees.register.intro')),
          personFields(state.ref, null, [consentFields('p', { noneNotice: true }), dupSlot]),
        ];
      },
      drawn: syncConsent,
      run: async (values, key) => {
        try {
          const res = await ctx.rpc.call('returnee.register', {
            ...personParams(values), ...consentParams(values), idempotency_key: key,
          });
          state.dup = null;
          return res;
        } catch (err) {
          withDuplicate(ctx.rpc, err, (d) => { state.dup = d; fillDup(); });
          throw err;
        }
      },
      success: (r) => (r.consent ? t('returnees.register.done', { name: r.full_name })
        : t('returnees.register.doneNoConsent', { name: r.full_name })),
      done: async (r) => {
        state.registered = r;
        await load();
      },
      redraw: () => { ctx.redraw(); const l = document.querySelector('[data-test="registered-link"]'); if (l) l.focus(); },
    });

    return {
      load,
      draw(root) {
        root.append(pageHeading(t('returnees.title')));
        root.append(h('p', { class: 'intro' }, t('returnees.intro')));
        root.append(h('p', { class: 'notice people-privacy' }, t('people.privacy')));
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (state.loading && !state.ref) { root.append(loading()); return; }

        root.append(section(t('returnees.find.title'), 'find', finder.form(), foundTable()));

        const filters = filterForm({
          test: 'returnees-filters',
          error: state.filterError,
          onApply: (f) => {
            state.filters = { region: f.namedItem('region').value, kind: f.namedItem('kind').value };
            go(() => { state.cursors = [null]; });
          },
          fields: [
            selectField({ id: 'filter-region', name: 'region', label: t('filters.region'), anyLabel: t('filters.any'), value: state.filters.region, options: regionOptions(state.ref) }),
            selectField({ id: 'filter-kind', name: 'kind', label: t('returnees.filterKind'), anyLabel: t('filters.any'), value: state.filters.kind, options: kindOptions() }),
          ],
        });
        const list = state.loading && !state.rows.length ? loading() : table({
          test: 'returnees-table',
          caption: t('returnees.caption'),
          empty: t('returnees.empty'),
          rows: state.rows,
          rowAttrs: (r) => ({ 'data-test': 'returnee-row', dataset: { returneeId: r.returnee_id } }),
          columns: [
            {
              key: 'full_name', label: t('returnee.field.full_name'),
              cell: (r) => link('/returnee', { id: r.returnee_id }, nameOrErased(r)),
            },
            { key: 'kind', label: t('returnee.field.kind'), cell: (r) => t('returnee.kind.' + (r.kind || 'returnee')) },
            { key: 'region', label: t('returnee.field.region'), cell: (r) => regionOf(state.ref, r) },
            { key: 'returned_from', label: t('returnee.field.returned_from'), cell: (r) => countryName(r.returned_from) },
            { key: 'returned_on', label: t('returnee.field.returned_on'), cell: (r) => date(r.returned_on) },
            { key: 'created_at', label: t('returnee.field.created_at'), cell: (r) => date(r.created_at) },
          ],
        });
        root.append(section(t('returnees.listTitle'), 'returnees', filters, list, cursorPager(state, () => ctx.refresh())));

        if (hasRole('admin')) {
          const done = state.registered ? h('p', { class: 'notice people-done', 'data-test': 'registered' },
            t('returnees.register.doneLong', { name: state.registered.full_name }), ' ',
            link('/returnee', { id: state.registered.returnee_id }, t('returnees.register.open'),
              { 'data-test': 'registered-link', dataset: { returneeId: state.registered.returnee_id } })) : null;
          root.append(h('div', { class: 'part' }, done, register.draw()));
        }
      },
    };
  },
};

// ---------------------------------------------------------------- #/returnee?id=

export const returneeView = {
  id: 'returnee',
  path: '/returnee',
  titleKey: 'returnee.title',
  navKey: 'returnees.nav',
  roles: ROLES,
  hidden: true,
  parent: 'returnees',
  create(ctx) {
    const id = ctx.params().get('id') || '';
    const state = {
      loading: true, error: null, ref: null, r: null, grants: [], grantCount: 0, grantsMore: false,
      grantsError: null, history: [], historyMore: false, historyError: null, dup: null, changed: null,
    };
    let dupSlot = null;

    async function load(announce = false) {
      state.loading = true;
      state.error = null;
      try {
        if (!state.ref) state.ref = await referenceData(ctx.rpc);
        const [r, g, hi] = await ctx.rpc.batch([
          { method: 'returnee.get', params: { returnee_id: id } },
          { method: 'grant.list', params: { returnee_id: id, limit: 100 } },
          { method: 'returnee.history', params: { returnee_id: id, limit: 100 } },
        ]);
        if (r.error) throw r.error;
        state.r = r.result;
        state.grantsError = g.error || null;
        state.grants = g.result ? g.result.grants || [] : [];
        state.grantCount = g.result ? g.result.count : 0;
        state.grantsMore = !!(g.result && g.result.next_cursor);
        state.historyError = hi.error || null;
        state.history = hi.result ? hi.result.history || [] : [];
        state.historyMore = !!(hi.result && hi.result.next_cursor);
        if (announce) say(state.r.erased_at ? t('returnee.loadedErased') : t('returnee.loaded', { name: state.r.full_name }));
      } catch (err) {
        state.error = err;
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.loading = false;
    }

    function fillDup() {
      if (!dupSlot) return;
      clear(dupSlot);
      const n = duplicateNotice(state.dup);
      if (n) dupSlot.append(n);
    }

    const correct = actionForm({
      test: 'correct-form',
      title: () => t('returnee.correct.title'),
      submitLabel: () => t('returnee.correct.submit'),
      fields: () => {
        dupSlot = h('div', { 'data-role': 'duplicate' });
        fillDup();
        return [
          h('p', { class: 'help people-gap' }, t('returnee.correct.intro')),
          personFields(state.ref, state.r, dupSlot),
        ];
      },
      run: async (values, key) => {
        const want = personParams(values);
        const r = state.r;
        const now = {
          full_name: r.full_name, region: r.region_code, returned_from: r.returned_from,
          returned_on: r.returned_on, gender: r.gender, birth_year: r.birth_year,
          national_id: r.national_id, contact: r.contact, notes: r.notes, kind: r.kind || 'returnee',
        };
        const params = { returnee_id: id };
        const changed = [];
        for (const [k, v] of Object.entries(want)) {
          if (norm(v) !== norm(now[k])) { params[k] = v; changed.push(k); }
        }
        state.changed = changed;
        try {
          const res = await ctx.rpc.call('returnee.update', { ...params, idempotency_key: key });
          state.dup = null;
          return res;
        } catch (err) {
          withDuplicate(ctx.rpc, err, (d) => { state.dup = d; fillDup(); });
          throw err;
        }
      },
      success: () => (state.changed && state.changed.length
        ? t('returnee.correct.done', { fields: list(state.changed.map((f) => t('returnee.field.' + f))) })
        : t('returnee.correct.nothing')),
      done: async () => { await load(); },
      redraw: ctx.redraw,
    });

    function shown(f, v) {
      if ((v === null || v === undefined) && state.r && state.r.erased_at && PERSONAL.includes(f)) return personName(null);
      if (v === null || v === undefined || v === '') return t('returnee.none');
      if (f === 'kind') return KINDS.includes(v) ? t('returnee.kind.' + v) : String(v);
      if (f === 'gender') return GENDERS.includes(v) ? t('returnee.gender.' + v) : String(v);
      if (f === 'returned_on') return date(v);
      if (f === 'returned_from') return countryName(v);
      if (f === 'region') {
        const regions = state.ref ? state.ref.regions : [];
        const hit = regions.find((x) => x.region_code === v || x.region === v);
        return hit ? regionName(regions, hit.region_code, hit.region) : String(v);
      }
      return String(v);
    }

    function historyRows() {
      const rows = [];
      state.history.forEach((c, i) => {
        const fields = Array.isArray(c.fields) && c.fields.length ? c.fields : Object.keys(c.new || {});
        for (const f of fields) {
          rows.push({ i, at: c.at, who: c.name || c.principal_id, f, old: (c.old || {})[f], new: (c.new || {})[f] });
        }
      });
      return rows;
    }

    return {
      load,
      draw(root) {
        const r = state.r;
        const erased = !!(r && r.erased_at);
        let title = t('returnee.title');
        if (r && !state.error) title = erased ? t('returnee.erasedTitle', { id: r.returnee_id }) : r.full_name;
        root.append(pageHeading(title));
        root.append(h('p', null, link('/returnees', null, t('returnee.back'), { 'data-test': 'back' })));
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (!r) { root.append(loading()); return; }
        // consent, who read their data, erasure: the person's privacy page
        if (hasRole('admin') || hasRole('auditor')) {
          root.append(h('p', null, link('/privacy-person', { id: r.returnee_id }, t('returnee.privacyLink'),
            { 'data-test': 'privacy-link' })));
        }
        root.append(erased
          ? h('p', { class: 'notice people-privacy', 'data-test': 'erased-notice' }, t('returnee.erasedNotice'))
          : h('p', { class: 'notice people-privacy' }, t('people.privacy')));
        root.append(section(t('returnee.detailsTitle'), 'returnee-details', details([
          [t('returnee.field.returnee_id'), h('span', { class: 'code' }, r.returnee_id), 'returnee_id'],
          [t('returnee.field.full_name'), personName(r.full_name), 'full_name'],
          [t('returnee.field.national_id'), shown('national_id', r.national_id), 'national_id'],
          [t('returnee.field.kind'), shown('kind', r.kind || 'returnee'), 'kind'],
          [t('returnee.field.gender'), shown('gender', r.gender), 'gender'],
          [t('returnee.field.birth_year'), shown('birth_year', r.birth_year), 'birth_year'],
          [t('returnee.field.contact'), shown('contact', r.contact), 'contact'],
          [t('returnee.field.notes'), h('span', { class: 'people-notes' }, shown('notes', r.notes)), 'notes'],
          [t('returnee.field.region'), regionOf(state.ref, r), 'region'],
          [t('returnee.field.returned_from'), countryName(r.returned_from), 'returned_from'],
          [t('returnee.field.returned_on'), date(r.returned_on), 'returned_on'],
          [t('returnee.field.created_at'), dateTime(r.created_at), 'created_at'],
          [t('returnee.field.erased_at'), erased ? dateTime(r.erased_at) : null, 'erased_at'],
        ], 'returnee-details')));

        const grants = state.grantsError
          ? h('p', { class: 'error-text', role: 'alert' }, describe(state.grantsError))
          : [
            h('p', { 'data-test': 'grant-count' }, t('returnee.grantCount', { count: number(state.grantCount || 0) })),
            table({
              test: 'returnee-grants',
              caption: erased ? t('returnee.grantsCaptionErased') : t('returnee.grantsCaption', { name: r.full_name }),
              empty: t('returnees.noGrants'),
              rows: state.grants,
              rowAttrs: (g) => ({ 'data-test': 'grant-row', dataset: { grantId: g.grant_id } }),
              columns: [
                { key: 'grant_id', label: t('returnee.col.grant'), cell: (g) => link('/grant', { id: g.grant_id }, g.grant_id, { class: 'code' }) },
                { key: 'created_at', label: t('returnee.col.applied'), cell: (g) => date(g.created_at) },
                { key: 'fund', label: t('returnee.col.fund'), cell: (g) => g.fund },
                { key: 'amount', num: true, label: t('returnee.col.amount'), cell: (g) => money(g.amount, g.currency) },
                { key: 'category', label: t('returnee.col.category'), cell: (g) => t('category.' + g.category) },
                { key: 'status', label: t('returnee.col.status'), cell: (g) => grantBadge(g.status) },
              ],
            }),
            state.grantsMore ? h('p', { class: 'help' }, t('returnee.firstHundred')) : null,
          ];
        root.append(section(t('returnee.grantsTitle'), 'returnee-grants-part', grants));

        // an erased record takes no correction (returnee.update: -32009 erased)
        if (hasRole('admin') && !erased) root.append(h('div', { class: 'part' }, correct.draw()));

        const hist = state.historyError
          ? h('p', { class: 'error-text', role: 'alert' }, describe(state.historyError))
          : [
            table({
              test: 'history-table',
              caption: t('returnee.historyCaption'),
              empty: t('returnee.historyEmpty'),
              rows: historyRows(),
              rowAttrs: (x) => ({ 'data-test': 'history-row', dataset: { field: x.f, change: x.i } }),
              columns: [
                { key: 'at', label: t('returnee.col.when'), cell: (x) => dateTime(x.at) },
                { key: 'who', label: t('returnee.col.who'), cell: (x) => x.who || t('returnee.outsideApi') },
                { key: 'field', label: t('returnee.col.field'), cell: (x) => (FIELDS.includes(x.f) ? t('returnee.field.' + x.f) : x.f) },
                { key: 'old', label: t('returnee.col.old'), cell: (x) => shown(x.f, x.old) },
                { key: 'new', label: t('returnee.col.new'), cell: (x) => shown(x.f, x.new) },
              ],
            }),
            state.historyMore ? h('p', { class: 'help' }, t('returnee.firstHundred')) : null,
          ];
        root.append(section(t('returnee.historyTitle'), 'returnee-history', hist));
      },
    };
  },
};
