// #/privacy-person?id= (hidden, from #/privacy; admin, auditor): one person's
// consent, whether their data was erased, whether they are due for erasure
// (privacy.due, read to the end), and who read their personal data
// (returnee.access_log, a page at a time). An administrator also records a new
// consent (returnee.update with the consent_* params), downloads
// everything held about them (returnee.export, saved as JSON) and asks for,
// confirms (another administrator: four eyes) or cancels their erasure
// (returnee.erase, returnee.erase_confirm, returnee.erase_cancel).
//
// The API lists no pending erasures but through privacy.due (people due only)
// and a person's export (its erasures): an administrator's page reads the
// person with returnee.export (purpose case_management, the role's default for
// reading a record, so one access event a visit, as returnee.get would leave),
// which also gives their consents, applications and erasures. An auditor's
// reads returnee.get (purpose audit). Nothing personal goes into the URL, the
// console's log or storage; the download is the administrator's to hand over.

import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { date, dateTime, list, number } from '../format.js';
import { describe, errorPanel } from '../errors.js';
import { saveBlob } from '../files.js';
import { hasRole, referenceData } from '../session.js';
import {
  actionForm, cursorPager, details, field, link, loadPage, loading, pageHeading, personName, say, section, table,
} from '../ui.js';
import { regionName } from './queue.js';
import { ROLES } from './privacy-due.js';
import {
  CONSENT_FOR, GIVERS, PURPOSES, basisWords, consentFields, consentParams, erasureBadge, kindWords, methodWords, myId,
  purposeWords, who, yearsText,
} from './privacy-common.js';

const LOG_PAGE = 50;
const DUE_PAGE = 1000;
const DUE_PAGES = 10;
const OPEN_GRANT = ['submitted', 'approved'];
// refusals that mean the page shows an older state than the daemon's
const STALE = ['erased', 'erasure_pending', 'wrong_state', 'erasure_not_found'];

const admin = () => hasRole('admin');

function focus(selector) {
  const el = document.querySelector(selector);
  if (el) el.focus();
}

// A part of a section, under an h3 that focus can be moved to.
function subPart(title, test, ...children) {
  const id = 'part-' + test;
  return h('div', { class: 'part', 'aria-labelledby': id, role: 'group', 'data-test': test },
    h('h3', { id, tabindex: '-1' }, title), children);
}

// a file name from the record's id, whatever characters it holds
export function exportName(id) {
  return 'returnee-' + String(id).replace(/[^A-Za-z0-9_-]/g, '_') + '-export.json';
}

export const personView = {
  id: 'privacy-person',
  path: '/privacy-person',
  titleKey: 'privacy.person.title',
  navKey: 'privacy.nav',
  roles: ROLES,
  hidden: true,
  parent: 'privacy',
  create(ctx) {
    const id = ctx.params().get('id') || '';
    const state = {
      loading: true, error: null, ref: null, r: null, exp: null,
      due: null, dueKnown: false, dueError: null, years: null,
      log: { loading: true, error: null, rows: [], cursors: [null], nextCursor: null },
      exporting: false, exportPurpose: 'data_subject_request',
      problems: {},   // by form: the refusal whose link or reload the form shows
    };

    async function loadDue() {
      state.dueError = null;
      try {
        let cursor = null;
        for (let i = 0; i < DUE_PAGES; i += 1) {
          const params = { limit: DUE_PAGE };
          if (cursor) params.cursor = cursor;
          const res = await ctx.rpc.call('privacy.due', params);
          state.years = res.retention_years;
          const hit = (res.due || []).find((d) => d.returnee_id === id);
          if (hit) { state.due = hit; state.dueKnown = true; return; }
          cursor = res.next_cursor || null;
          if (!cursor) { state.due = null; state.dueKnown = true; return; }
        }
        state.due = null;
        state.dueKnown = false;     // too many to read to the end
      } catch (err) {
        state.dueError = err;
      }
    }

    async function loadLog() {
      const res = await loadPage(state.log, LOG_PAGE,
        (params) => ctx.rpc.call('returnee.access_log', { ...params, returnee_id: id }), []);
      if (res) state.log.rows = res.accesses || [];
    }

    async function load(announce = false) {
      state.loading = true;
      state.error = null;
      try {
        if (!state.ref) state.ref = await referenceData(ctx.rpc);
        if (admin()) {
          state.exp = await ctx.rpc.call('returnee.export', { returnee_id: id, purpose: 'case_management' });
          state.r = state.exp.returnee;
        } else {
          state.r = await ctx.rpc.call('returnee.get', { returnee_id: id });
        }
      } catch (err) {
        state.error = err;
        state.loading = false;
        if (!err.unauthenticated) say(describe(err), 'error');
        return;
      }
      // the log after the read: this visit is in it
      await Promise.all([loadDue(), loadLog()]);
      state.loading = false;
      if (announce) {
        say(state.r.erased_at ? t('privacy.person.loadedErased', { id })
          : t('privacy.person.loaded', { name: state.r.full_name }));
      }
    }

    function pending() {
      const exp = state.exp;
      if (!exp) return null;
      return (exp.erasures || []).find((e) => e.status === 'pending') || null;
    }

    function openGrants() {
      return state.exp ? (state.exp.grants || []).filter((g) => OPEN_GRANT.includes(g.status)) : [];
    }

    // ------------------------------------------------------------ refusals

    // What a refused erasure call adds to its sentence: the open application
    // (grant_open), or the way to the current state (someone else acted first).
    function problemNodes(which) {
      const err = state.problems[which];
      if (!err) return [];
      const out = [];
      const grant = err.reason === 'grant_open' && err.data && err.data.grant_id;
      if (grant) {
        out.push(h('p', { 'data-test': 'grant-open' },
          link('/grant', { id: grant }, t('privacy.erasure.grantLink', { id: grant }),
            { 'data-test': 'grant-open-link', dataset: { grantId: grant } })));
      }
      if (STALE.includes(err.reason)) {
        out.push(h('p', null, h('button', {
          type: 'button', class: 'button secondary', 'data-test': 'erasure-reload',
          on: { click: () => { state.problems = {}; ctx.refresh(); } },
        }, t('privacy.erasure.reload'))));
      }
      return out;
    }

    function slot(which) {
      const el = h('div', { 'data-role': 'problem', 'data-test': which + '-problem' });
      el.append(...problemNodes(which));
      return el;
    }

    // run(values, key) of a form, keeping its refusal for problemNodes
    function tracked(which, call) {
      return async (values, key) => {
        try {
          const res = await call(values, key);
          delete state.problems[which];
          return res;
        } catch (err) {
          state.problems[which] = err;
          const el = document.querySelector('[data-test="' + which + '-problem"]');
          if (el) { clear(el); el.append(...problemNodes(which)); }
          throw err;
        }
      };
    }

    function whatErasureDoes() {
      return h('div', { class: 'notice notice-error', 'data-test': 'erasure-warning', role: 'note' },
        h('p', null, t('privacy.erasure.what')),
        h('p', null, h('strong', null, t('privacy.erasure.undo'))));
    }

    // ------------------------------------------------------------ forms

    const ask = actionForm({
      test: 'erasure-ask',
      title: () => t('privacy.erasure.askTitle'),
      submitLabel: () => t('privacy.erasure.askSubmit'),
      fields: () => [
        whatErasureDoes(),
        h('p', { class: 'help' }, t('privacy.erasure.twoAdmins')),
        field({
          id: 'erasure-reason', name: 'reason', type: 'textarea', rows: 2, required: true,
          label: t('privacy.erasure.reason'), help: t('privacy.erasure.reasonHelp'),
        }),
        slot('erasure-ask'),
      ],
      run: tracked('erasure-ask', (v, key) => ctx.rpc.call('returnee.erase', {
        ...v, returnee_id: id, idempotency_key: key,
      })),
      success: () => t('privacy.erasure.asked'),
      done: async () => { await load(); },
      redraw: () => { ctx.redraw(); focus('[data-test="pending-erasure"] h3'); },
    });

    const confirm = actionForm({
      test: 'erasure-confirm',
      title: () => t('privacy.erasure.confirmTitle'),
      submitLabel: () => t('privacy.erasure.confirmSubmit'),
      fields: () => [
        whatErasureDoes(),
        h('p', { class: 'help' }, t('privacy.erasure.confirmIntro')),
        slot('erasure-confirm'),
      ],
      run: tracked('erasure-confirm', (v, key) => ctx.rpc.call('returnee.erase_confirm', {
        erasure_id: pending() ? pending().erasure_id : '', idempotency_key: key,
      })),
      success: () => t('privacy.erasure.confirmed'),
      done: async () => { await load(); },
      redraw: () => { ctx.redraw(); focus('#page-title'); },
    });

    const cancel = actionForm({
      test: 'erasure-cancel',
      title: () => t('privacy.erasure.cancelTitle'),
      intro: () => t('privacy.erasure.cancelIntro'),
      submitLabel: () => t('privacy.erasure.cancelSubmit'),
      fields: () => [slot('erasure-cancel')],
      run: tracked('erasure-cancel', (v, key) => ctx.rpc.call('returnee.erase_cancel', {
        erasure_id: pending() ? pending().erasure_id : '', idempotency_key: key,
      })),
      success: () => t('privacy.erasure.cancelled'),
      done: async () => { await load(); },
      redraw: () => { ctx.redraw(); focus('#erasure-reason'); },
    });

    // A new consent replaces the one that stands (the earlier ones stay, in the
    // export). The params go even with no purpose ticked: the daemon then says
    // at the purposes that one is needed.
    const consentForm = actionForm({
      test: 'consent-record',
      title: () => t('privacy.consentForm.title'),
      intro: () => t('privacy.consentForm.intro'),
      submitLabel: () => t('privacy.consentForm.submit'),
      fields: () => [consentFields('new')],
      run: (values, key) => ctx.rpc.call('returnee.update', {
        ...consentParams(values, { always: true }), returnee_id: id, idempotency_key: key,
      }),
      success: () => t('privacy.consentForm.done'),
      done: async () => { await load(); },
      // focus stays on the control that was used (its form is drawn anew)
      redraw: () => { ctx.redraw(); focus('[data-test="consent-record-submit"]'); },
    });

    async function download() {
      if (state.exporting) return;
      const select = document.getElementById('export-purpose');
      if (select) state.exportPurpose = select.value;
      state.exporting = true;
      ctx.redraw();
      try {
        const res = await ctx.rpc.call('returnee.export', { returnee_id: id, purpose: state.exportPurpose });
        const name = exportName(id);
        saveBlob(new Blob([JSON.stringify(res, null, 2) + '\n'], { type: 'application/json' }), name);
        say(t('privacy.export.done', { file: name }), 'success');
        // the download is itself a reading of the person's data
        await loadLog();
      } catch (err) {
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.exporting = false;
      ctx.redraw();
    }

    // ------------------------------------------------------------ parts

    function recordPart(r) {
      const erased = !!r.erased_at;
      const regions = state.ref ? state.ref.regions : [];
      return section(t('privacy.person.recordTitle'), 'privacy-record',
        details([
          [t('privacy.person.field.id'), h('span', { class: 'code' }, r.returnee_id), 'returnee_id'],
          [t('privacy.person.field.name'), personName(r.full_name), 'full_name'],
          [t('privacy.person.field.kind'), kindWords(r.kind), 'kind'],
          [t('privacy.person.field.region'), regionName(regions, r.region_code, r.region), 'region'],
          [t('privacy.person.field.registered'), date(r.created_at), 'created_at'],
          [t('privacy.person.field.status'), erased
            ? h('span', { 'data-test': 'erased-at' }, t('privacy.person.erasedOn', { when: dateTime(r.erased_at) }))
            : t('privacy.person.held'), 'erased_at'],
        ], 'privacy-person-details'),
        erased ? h('p', { class: 'notice', 'data-test': 'erased-notice' }, t('privacy.person.erasedNotice')) : null,
        h('p', null, link('/returnee', { id: r.returnee_id }, t('privacy.person.record'), { 'data-test': 'record-link' })));
    }

    function consentPart(r) {
      const c = r.consent;
      const words = (arr) => list((arr || []).map((p) => (CONSENT_FOR.includes(p) ? t('privacy.consent.for.' + p) : String(p))));
      const giver = (g) => (GIVERS.includes(g || 'self') ? t('privacy.consent.by.' + (g || 'self')) : String(g));
      const body = [];
      if (!c) {
        body.push(h('p', { 'data-test': 'no-consent' }, t('privacy.consent.none')));
        body.push(h('p', { class: 'help' }, t('privacy.consent.noneHelp')));
      } else {
        body.push(details([
          [t('privacy.consent.forLabel'), words(c.for), 'for'],
          [t('privacy.consent.givenOn'), date(c.given_on), 'given_on'],
          [t('privacy.consent.givenBy'), giver(c.given_by), 'given_by'],
          [t('privacy.consent.until'), c.until ? date(c.until) : t('privacy.consent.noEnd'), 'until'],
          [t('privacy.consent.recorded'), dateTime(c.recorded_at), 'recorded_at'],
          [t('privacy.consent.recordedBy'), who(c.recorded_by), 'recorded_by'],
        ], 'consent-details'));
        const today = new Date().toISOString().slice(0, 10);
        if (c.until && c.until < today) {
          body.push(h('p', { class: 'notice', 'data-test': 'consent-ended' }, t('privacy.consent.ended', { date: date(c.until) })));
        }
      }
      const all = state.exp ? state.exp.consents || [] : [];
      if (all.length > 1) {
        body.push(table({
          test: 'consents-table',
          caption: t('privacy.consent.allCaption'),
          empty: t('privacy.consent.none'),
          rows: all,
          rowAttrs: () => ({ 'data-test': 'consent-row' }),
          columns: [
            { key: 'recorded_at', label: t('privacy.consent.recorded'), cell: (x) => dateTime(x.recorded_at) },
            { key: 'for', label: t('privacy.consent.forLabel'), cell: (x) => words(x.for) },
            { key: 'given_on', label: t('privacy.consent.givenOn'), cell: (x) => date(x.given_on) },
            { key: 'given_by', label: t('privacy.consent.givenBy'), cell: (x) => giver(x.given_by) },
            { key: 'until', label: t('privacy.consent.until'), cell: (x) => (x.until ? date(x.until) : t('privacy.consent.noEnd')) },
          ],
        }));
      }
      // an erased record takes no consent (returnee.update: -32009 erased)
      if (admin() && !r.erased_at) body.push(consentForm.draw());
      return section(t('privacy.consent.title'), 'consent', body);
    }

    function retentionPart(r) {
      const body = [];
      if (r.erased_at) {
        body.push(h('p', { 'data-test': 'due-status', dataset: { due: 'erased' } }, t('privacy.status.erased')));
      } else if (state.dueError) {
        body.push(h('p', { class: 'error-text', 'data-test': 'due-status' }, t('privacy.status.unknown'), ' ', describe(state.dueError)));
      } else if (state.due) {
        body.push(h('p', { 'data-test': 'due-status', dataset: { due: 'yes', basis: state.due.basis } },
          t('privacy.status.due', { date: date(state.due.due_since) }), ' ',
          t('privacy.status.why', { basis: basisWords(state.due.basis) })));
        if (!admin() && state.due.erasure_pending) {
          body.push(h('p', { class: 'notice', 'data-test': 'pending-auditor' }, t('privacy.status.pendingAuditor')));
        }
      } else if (state.dueKnown) {
        body.push(h('p', { 'data-test': 'due-status', dataset: { due: 'no' } }, t('privacy.status.notDue')));
      } else {
        body.push(h('p', { 'data-test': 'due-status' }, t('privacy.status.tooMany')));
      }
      if (state.years !== null && state.years !== undefined) {
        body.push(h('p', { class: 'help', 'data-test': 'retention', dataset: { years: state.years } },
          t('privacy.status.rules', { years: yearsText(state.years) })));
      }
      return section(t('privacy.status.title'), 'retention-part', body);
    }

    function erasuresTable() {
      const rows = state.exp ? state.exp.erasures || [] : [];
      return table({
        test: 'erasures-table',
        caption: t('privacy.erasure.historyCaption'),
        empty: t('privacy.erasure.historyEmpty'),
        rows,
        rowAttrs: (e) => ({ 'data-test': 'erasure-row', dataset: { erasureId: e.erasure_id, status: e.status } }),
        columns: [
          { key: 'requested_at', label: t('privacy.erasure.col.requested'), cell: (e) => [dateTime(e.requested_at), h('span', { class: 'sub' }, who(e.requested_by))] },
          { key: 'basis', label: t('privacy.erasure.col.basis'), cell: (e) => basisWords(e.basis) },
          { key: 'reason', label: t('privacy.erasure.col.reason'), cell: (e) => e.reason || '—' },
          { key: 'status', label: t('privacy.erasure.col.status'), cell: (e) => erasureBadge(e.status) },
          {
            key: 'decided', label: t('privacy.erasure.col.decided'),
            cell: (e) => (e.decided_at ? [dateTime(e.decided_at), h('span', { class: 'sub' }, who(e.decided_by))] : '—'),
          },
        ],
      });
    }

    function erasurePart(r) {
      const body = [];
      const p = pending();
      if (r.erased_at) {
        body.push(h('p', { 'data-test': 'erasure-done' }, t('privacy.erasure.done', { when: dateTime(r.erased_at) })));
      } else if (p) {
        const mine = p.requested_by === myId();
        body.push(subPart(t('privacy.erasure.pendingTitle'), 'pending-erasure',
          details([
            [t('privacy.erasure.askedBy'), who(p.requested_by), 'requested_by'],
            [t('privacy.erasure.askedAt'), dateTime(p.requested_at), 'requested_at'],
            [t('privacy.erasure.reason'), p.reason, 'reason'],
          ], 'pending-erasure-details'),
          mine
            ? h('p', { class: 'notice', 'data-test': 'own-erasure' }, t('privacy.erasure.own'))
            : confirm.draw(),
          cancel.draw()));
      } else {
        const open = openGrants();
        if (open.length) {
          body.push(h('div', { class: 'notice', 'data-test': 'open-grants' },
            h('p', null, t('privacy.erasure.openGrants')),
            h('ul', null, open.map((g) => h('li', null,
              link('/grant', { id: g.grant_id }, t('privacy.erasure.grantLink', { id: g.grant_id }), { dataset: { grantId: g.grant_id } }))))));
        }
        body.push(ask.draw());
      }
      body.push(subPart(t('privacy.erasure.history'), 'erasures', erasuresTable()));
      return section(t('privacy.erasure.title'), 'erasure', body);
    }

    function exportPart() {
      const purpose = field({
        id: 'export-purpose', name: 'purpose', type: 'select', label: t('privacy.export.purpose'),
        value: state.exportPurpose, options: PURPOSES.map((x) => ({ value: x, label: purposeWords(x) })),
        help: t('privacy.export.purposeHelp'),
      });
      purpose.querySelector('select').addEventListener('change', (ev) => { state.exportPurpose = ev.target.value; });
      return section(t('privacy.export.title'), 'export',
        h('p', { class: 'help' }, t('privacy.export.intro')),
        purpose,
        h('div', { class: 'actions' },
          h('button', {
            type: 'button', class: 'button', 'data-test': 'export-download',
            'aria-disabled': state.exporting ? 'true' : null,
            on: { click: download },
          }, state.exporting ? t('privacy.export.working') : t('privacy.export.submit'))));
    }

    function accessPart() {
      const log = state.log;
      let body;
      if (log.error) {
        body = h('p', { class: 'error-text', role: 'alert', 'data-test': 'access-error' }, describe(log.error));
      } else if (log.loading && !log.rows.length) {
        body = loading();
      } else {
        body = table({
          test: 'access-table',
          caption: t('privacy.access.caption'),
          empty: t('privacy.access.empty'),
          rows: log.rows,
          rowAttrs: (a) => ({ 'data-test': 'access-row', dataset: { seq: a.seq, method: a.method, purpose: a.purpose, principalId: a.principal_id } }),
          columns: [
            { key: 'at', label: t('privacy.access.col.at'), cell: (a) => dateTime(a.at) },
            { key: 'name', label: t('privacy.access.col.name'), cell: (a) => (a.name ? a.name : who(a.principal_id)) },
            { key: 'method', label: t('privacy.access.col.method'), cell: (a) => methodWords(a.method) },
            { key: 'purpose', label: t('privacy.access.col.purpose'), cell: (a) => purposeWords(a.purpose) },
          ],
        });
      }
      const refreshLog = async () => {
        const p = loadLog();
        ctx.redraw();
        await p;
        ctx.redraw();
      };
      return section(t('privacy.access.title'), 'access-log',
        h('p', { class: 'help' }, t('privacy.access.intro')),
        body, cursorPager(log, refreshLog, log.loading));
    }

    return {
      load,
      draw(root) {
        const r = state.r;
        let title = t('privacy.person.title');
        if (r && !state.error) {
          title = r.erased_at ? t('privacy.person.headingErased', { id: r.returnee_id })
            : t('privacy.person.heading', { name: r.full_name });
        }
        root.append(pageHeading(title));
        root.append(h('p', null, link('/privacy', null, t('privacy.person.back'), { 'data-test': 'back' })));
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (!r || (state.loading && !state.log.rows.length && state.log.loading)) { root.append(loading()); return; }
        root.append(h('p', { class: 'notice' }, t('privacy.person.intro')));
        root.append(recordPart(r));
        root.append(consentPart(r));
        root.append(retentionPart(r));
        if (admin()) {
          root.append(erasurePart(r));
          root.append(exportPart());
        } else {
          root.append(section(t('privacy.erasure.title'), 'erasure',
            h('p', { class: 'help' }, t('privacy.erasure.auditorNote'))));
        }
        root.append(accessPart());
      },
    };
  },
};
