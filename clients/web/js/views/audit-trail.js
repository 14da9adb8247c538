// #/audit (admin, auditor): the audit chain's state: the last signed
// checkpoint (audit.checkpoint only reads it: the daemon signs one by itself
// every few seconds), a check of the chain (audit.verify), the events
// (audit.events, paged by sequence number), and the downloads: the ledger (CSV,
// JSONL), the audit trail (JSONL), the reports (CSV, XLSX), with the command
// that checks the audit trail offline.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { dateTime, number, todayUtc } from '../format.js';
import { errorPanel, describe, clearFields, markFields } from '../errors.js';
import { referenceData } from '../session.js';
import { details, field, loading, pageHeading, pager, say, section, table } from '../ui.js';
import { commandBox, downloadForm, localError, markLocal } from './audit-util.js';
import { perLang } from './audit-periods.js';

const PAGE_SIZE = 20;
const VERIFY_REASONS = [
  'hash_mismatch', 'prev_hash_mismatch', 'missing_event', 'unchained_below_head', 'checkpoint_mismatch',
  'key_chain_broken', 'key_mismatch',
];
const REPORTS = ['grants', 'contributions', 'pipeline'];
const REPORT_BY = ['fund', 'year', 'quarter', 'month'];

// A method's name ("contribution.receive"), free to break after its dots in a
// narrow column (<wbr>); read as one word.
function methodName(name) {
  const parts = String(name || '').split('.');
  const out = [];
  parts.forEach((p, i) => {
    if (i > 0) out.push(h('wbr'));
    out.push((i > 0 ? '.' : '') + p);
  });
  return h('span', { class: 'code', translate: 'no' }, out);
}

function short(hash) {
  return hash ? String(hash).slice(0, 12) + '…' : '';
}

export const auditView = {
  id: 'audit',
  path: '/audit',
  titleKey: 'audit.title',
  navKey: 'audit.nav',
  roles: ['admin', 'auditor'],
  create(ctx) {
    const state = {
      loaded: false,
      ref: null,
      checkpoint: null, cpError: null, // no_checkpoint_yet is an answer, not a failure
      verify: null, verifyError: null, verifying: false, verifyRange: { from_seq: '', to_seq: '' },
      events: [], from: null, nextCursor: null, starts: [], evError: null, evLoading: false,
      only: null,
    };

    async function loadCheckpoint() {
      try {
        state.checkpoint = await ctx.rpc.call('audit.checkpoint');
        state.cpError = null;
      } catch (err) {
        state.checkpoint = null;
        state.cpError = err;
      }
    }

    async function loadEvents() {
      state.evLoading = true;
      if (state.from === null) {
        // the latest page: the events before the last checkpoint and those after it
        const head = state.checkpoint ? Number(state.checkpoint.seq) : 0;
        state.from = Math.max(0, head - PAGE_SIZE + 1);
        state.fromAuto = true;
      }
      try {
        const res = await ctx.rpc.call('audit.events', { from_seq: state.from, limit: PAGE_SIZE });
        state.events = res.events || [];
        state.nextCursor = res.next_cursor === null || res.next_cursor === undefined ? null : res.next_cursor;
        state.evError = null;
      } catch (err) {
        state.evError = err;
        state.events = [];
        state.nextCursor = null;
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.evLoading = false;
    }

    async function load(announce = false) {
      const only = state.only;
      state.only = null;
      if (only === 'events') {
        await loadEvents();
        if (announce && !state.evError) {
          say(t('auditTrail.loaded', { count: number(state.events.length), from: number(state.from) }));
        }
        return;
      }
      const refP = state.ref ? null : referenceData(ctx.rpc).then((r) => { state.ref = r; }).catch(() => {});
      await loadCheckpoint();
      await Promise.all([loadEvents(), refP]);
      state.loaded = true;
      if (announce) say(t('audit.reloaded'));
    }

    function go(what, change) {
      change();
      state.only = what;
      ctx.refresh();
    }

    // ------------------------------------------------------------ the checkpoint

    function checkpointPart() {
      const cp = state.checkpoint;
      const parts = [h('p', { class: 'help' }, t('audit.checkpointIntro'))];
      if (cp) {
        parts.push(h('p', { 'data-test': 'checkpoint-summary', dataset: { seq: cp.seq } },
          t('audit.checkpointSummary', { seq: number(cp.seq), when: dateTime(cp.signed_at) })));
        parts.push(details([
          [t('audit.cpSeq'), number(cp.seq), 'seq'],
          [t('audit.cpSignedAt'), dateTime(cp.signed_at), 'signed_at'],
          [t('audit.cpHead'), h('span', { class: 'code hash', translate: 'no' }, cp.head_hash), 'head_hash'],
          [t('audit.cpSignature'), h('span', { class: 'code hash', translate: 'no' }, cp.signature), 'signature'],
        ], 'checkpoint'));
        parts.push(h('details', { class: 'pubkey' },
          h('summary', null, t('audit.cpPublicKey')),
          h('p', { class: 'help' }, t('audit.cpPublicKeyHelp')),
          h('pre', { class: 'record', 'data-test': 'checkpoint-public-key', translate: 'no' }, cp.public_key)));
      } else if (state.cpError && state.cpError.reason === 'no_checkpoint_yet') {
        parts.push(h('p', { class: 'notice', 'data-test': 'checkpoint-none' }, t('audit.noCheckpoint')));
      } else if (state.cpError) {
        parts.push(errorPanel(state.cpError, () => ctx.refresh()));
      }
      parts.push(h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'button secondary', 'data-test': 'reload-checkpoint', on: { click: () => ctx.refresh() } },
          t('audit.reload'))));
      return section(t('audit.checkpointTitle'), 'checkpoint-part', parts);
    }

    // ------------------------------------------------------------ audit.verify

    async function runVerify(ev) {
      ev.preventDefault();
      if (state.verifying) return;
      const f = ev.currentTarget.elements;
      const range = { from_seq: f.namedItem('from_seq').value.trim(), to_seq: f.namedItem('to_seq').value.trim() };
      state.verifyRange = range;
      const params = {};
      state.verifyError = null;
      for (const k of ['from_seq', 'to_seq']) {
        if (!range[k]) continue;
        if (!/^\d{1,15}$/.test(range[k])) {
          state.verifyError = localError(k, 'audit.verifyBadNumber');
          say(state.verifyError.localSentence, 'error');
          ctx.redraw();
          return;
        }
        params[k] = Number(range[k]);
      }
      state.verifying = true;
      state.verify = null;
      ctx.redraw();
      say(t('audit.verifying'));
      try {
        state.verify = await ctx.rpc.call('audit.verify', params);
        say(verifySentence(state.verify), state.verify.ok ? 'success' : 'error');
      } catch (err) {
        state.verifyError = err;
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.verifying = false;
      ctx.redraw();
    }

    // (and what the chain does not cover yet: a chain that stopped shows there)
    function verifySentence(v) {
      const lag = v.unchained > 0
        ? ' ' + t('audit.verifyUnchained', { count: number(v.unchained), at: dateTime(v.oldest_unchained_at) })
        : '';
      if (v.ok) return t('audit.verifyOk', { count: number(v.verified) }) + lag;
      const why = VERIFY_REASONS.includes(v.reason) ? t('audit.verifyReason.' + v.reason) : String(v.reason || '');
      return t('audit.verifyBad', { seq: number(v.first_bad_seq), count: number(v.verified), why });
    }

    function verifyPart() {
      const form = h('form', {
        class: 'filters verify-form', 'data-test': 'verify-form', novalidate: true, 'aria-labelledby': 'verify-form-title',
        on: { submit: runVerify },
      },
      h('h3', { id: 'verify-form-title', class: 'sr-only' }, t('audit.verifyTitle')),
      field({ id: 'verify-from', name: 'from_seq', label: t('audit.verifyFrom'), value: state.verifyRange.from_seq, help: t('audit.verifyRangeHelp') }),
      field({ id: 'verify-to', name: 'to_seq', label: t('audit.verifyTo'), value: state.verifyRange.to_seq }),
      h('div', { class: 'actions' },
        h('button', {
          type: 'submit', class: 'button', 'data-test': 'verify-run', 'aria-disabled': state.verifying ? 'true' : null,
        }, state.verifying ? t('audit.verifying') : t('audit.verifyRun'))));
      for (const el of form.querySelectorAll('input')) el.setAttribute('inputmode', 'numeric');
      const err = state.verifyError;
      if (err) {
        clearFields(form);
        if (err.localSentence) markLocal(form, err);
        else if (!markFields(form, err)) {
          form.append(h('p', { class: 'error-text', role: 'alert', 'data-test': 'verify-error' }, describe(err)));
        }
      }
      const parts = [h('p', { class: 'help' }, t('audit.verifyIntro')), form];
      const v = state.verify;
      if (v) {
        parts.push(h('p', {
          class: v.ok ? 'notice verify-ok' : 'notice notice-error verify-bad', role: 'status',
          'data-test': 'verify-result', dataset: { ok: String(!!v.ok), verified: v.verified, firstBadSeq: v.first_bad_seq ?? '', unchained: v.unchained ?? '' },
        }, h('span', { class: 'verify-word' }, t(v.ok ? 'audit.verifyWordOk' : 'audit.verifyWordBad')), ' ', verifySentence(v)));
      }
      return section(t('audit.verifyTitle'), 'verify-part', parts);
    }

    // ------------------------------------------------------------ the events

    function eventsPart() {
      const parts = [h('p', { class: 'help' }, t('auditTrail.intro'))];
      const jump = h('form', {
        class: 'filters events-filters', 'data-test': 'events-filters', novalidate: true, 'aria-labelledby': 'events-form-title',
        on: {
          submit: (ev) => {
            ev.preventDefault();
            const v = ev.currentTarget.elements.namedItem('from_seq').value.trim();
            if (v && !/^\d{1,15}$/.test(v)) {
              state.evLocal = localError('from_seq', 'audit.verifyBadNumber');
              say(state.evLocal.localSentence, 'error');
              ctx.redraw();
              return;
            }
            state.evLocal = null;
            go('events', () => { state.from = v ? Number(v) : null; state.fromAuto = false; state.starts = []; });
          },
        },
      },
      h('h3', { id: 'events-form-title', class: 'sr-only' }, t('auditTrail.formTitle')),
      field({ id: 'events-from', name: 'from_seq', label: t('auditTrail.from'), value: state.from === null || state.fromAuto ? '' : String(state.from), help: t('auditTrail.fromHelp') }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'button', 'data-test': 'events-apply' }, t('auditTrail.show'))));
      jump.querySelector('input').setAttribute('inputmode', 'numeric');
      if (state.evLocal) markLocal(jump, state.evLocal);
      else if (state.evError && state.evError.data.field) {
        clearFields(jump);
        if (!markFields(jump, state.evError)) jump.append(h('p', { class: 'error-text', role: 'alert' }, describe(state.evError)));
      }
      parts.push(jump);
      if (state.evError && !state.evError.data.field) {
        parts.push(errorPanel(state.evError, () => go('events', () => {})));
      } else if (state.evLoading && !state.events.length) {
        parts.push(loading());
      } else {
        parts.push(table({
          test: 'events-table',
          caption: t('auditTrail.caption'),
          empty: t('auditTrail.empty'),
          rows: state.events,
          rowAttrs: (e) => ({ 'data-test': 'event-row', dataset: { seq: e.seq, method: e.method, outcome: e.outcome } }),
          columns: [
            { key: 'seq', num: true, label: t('auditTrail.col.seq'), cell: (e) => number(e.seq) },
            { key: 'at', label: t('auditTrail.col.at'), cell: (e) => dateTime(e.at) },
            { key: 'method', label: t('auditTrail.col.method'), cell: (e) => methodName(e.method) },
            { key: 'object_id', label: t('auditTrail.col.object'), cell: (e) => (e.object_id ? h('span', { class: 'code' }, e.object_id) : '—') },
            { key: 'principal_id', label: t('auditTrail.col.principal'), cell: (e) => (e.principal_id ? h('span', { class: 'code' }, e.principal_id) : t('auditTrail.nobody')) },
            {
              key: 'outcome', label: t('auditTrail.col.outcome'),
              cell: (e) => [
                h('span', { class: 'badge badge-event-' + (e.outcome === 'ok' ? 'ok' : 'refused'), dataset: { status: e.outcome } },
                  t(e.outcome === 'ok' ? 'auditTrail.outcomeOk' : 'auditTrail.outcomeRefused')),
                e.outcome !== 'ok' && (e.reason || e.error_code)
                  ? [' ', h('span', { class: 'sub code' }, [e.error_code, e.reason].filter((x) => x !== null && x !== undefined).join(' · '))]
                  : null,
              ],
            },
            {
              key: 'hash', label: t('auditTrail.col.hash'),
              cell: (e) => (e.hash
                ? h('span', { class: 'code hash', title: e.hash, translate: 'no' }, short(e.hash))
                : h('span', { class: 'badge badge-event-unchained' }, t('auditTrail.unchained'))),
            },
          ],
        }));
        const from = state.from || 0;
        parts.push(pager({
          page: number(state.starts.length + 1),
          busy: state.evLoading,
          hasPrev: from > 1,
          hasNext: state.nextCursor !== null,
          onPrev: () => go('events', () => {
            state.from = state.starts.length ? state.starts.pop() : Math.max(0, from - PAGE_SIZE);
          }),
          onNext: () => go('events', () => { state.starts.push(from); state.from = state.nextCursor; }),
        }));
      }
      return section(t('auditTrail.title'), 'events-part', parts);
    }

    // ------------------------------------------------------------ downloads

    const forms = perLang(() => ({
      ledger: downloadForm({
        test: 'download-ledger',
        title: t('downloads.ledgerTitle'),
        intro: t('downloads.ledgerIntro'),
        rpc: ctx.rpc,
        fields: () => [
          field({
            id: 'dl-ledger-format', name: 'format', type: 'select', label: t('downloads.format'), value: 'csv',
            options: [{ value: 'csv', label: t('downloads.formatCsv') }, { value: 'jsonl', label: t('downloads.formatJsonl') }],
          }),
          field({ id: 'dl-ledger-from', name: 'from', type: 'date', label: t('downloads.from'), help: t('downloads.fromHelp') }),
          field({ id: 'dl-ledger-to', name: 'to', type: 'date', label: t('downloads.to'), help: t('downloads.toHelp') }),
          field({
            id: 'dl-ledger-basis', name: 'basis', type: 'select', label: t('trial.basis'), value: 'value',
            options: [{ value: 'value', label: t('trial.basisValue') }, { value: 'recorded', label: t('trial.basisRecorded') }],
          }),
        ],
        submitLabel: t('downloads.ledgerSubmit'),
        run: (v) => {
          if (v.from && v.to && v.to <= v.from) throw localError('to', 'downloads.toAfterFrom');
          const q = new URLSearchParams({ format: v.format || 'csv' });
          if (v.basis === 'recorded') q.set('basis', 'recorded');
          if (v.from) q.set('from', v.from);
          if (v.to) q.set('to', v.to);
          const ext = v.format === 'jsonl' ? 'jsonl' : 'csv';
          const name = 'ledger-' + (v.from || 'start') + '-to-' + (v.to || todayUtc()) + '.' + ext;
          return { url: '/export/ledger?' + q.toString(), filename: name };
        },
      }),
      audit: downloadForm({
        test: 'download-audit',
        title: t('downloads.auditTitle'),
        intro: t('downloads.auditIntro'),
        rpc: ctx.rpc,
        fields: () => [],
        submitLabel: t('downloads.auditSubmit'),
        run: () => ({ url: '/export/audit?format=jsonl', filename: auditFile() }),
      }),
      report: downloadForm({
        test: 'download-report',
        title: t('downloads.reportTitle'),
        intro: t('downloads.reportIntro'),
        rpc: ctx.rpc,
        fields: () => [
          field({
            id: 'dl-report-name', name: 'name', type: 'select', label: t('downloads.report'), value: 'grants',
            options: REPORTS.map((r) => ({ value: r, label: t('downloads.reportName.' + r) })),
          }),
          field({ id: 'dl-report-from', name: 'from', type: 'date', label: t('downloads.reportFrom'), required: true }),
          field({ id: 'dl-report-to', name: 'to', type: 'date', label: t('downloads.reportTo'), required: true, help: t('downloads.reportToHelp') }),
          field({
            id: 'dl-report-fund', name: 'fund', type: 'select', label: t('downloads.fund'), anyLabel: t('downloads.allFunds'),
            options: (state.ref ? state.ref.funds : []).map((f) => ({ value: f.code, label: f.code + ' — ' + f.name })),
          }),
          field({
            id: 'dl-report-by', name: 'by', type: 'select', label: t('downloads.by'), anyLabel: t('downloads.byNone'),
            options: REPORT_BY.map((b) => ({ value: b, label: t('downloads.byWhat.' + b) })),
          }),
          field({
            id: 'dl-report-format', name: 'format', type: 'select', label: t('downloads.format'), value: 'csv',
            options: [{ value: 'csv', label: t('downloads.formatCsv') }, { value: 'xlsx', label: t('downloads.formatXlsx') }],
          }),
        ],
        submitLabel: t('downloads.reportSubmit'),
        run: (v) => {
          if (!v.from) throw localError('from', 'downloads.needDate');
          if (!v.to) throw localError('to', 'downloads.needDate');
          const q = new URLSearchParams({ name: v.name || 'grants', format: v.format || 'csv', from: v.from, to: v.to });
          if (v.fund) q.set('fund', v.fund);
          if (v.by) q.set('by', v.by);
          const ext = v.format === 'xlsx' ? 'xlsx' : 'csv';
          return { url: '/export/report?' + q.toString(), filename: 'report-' + (v.name || 'grants') + '-' + v.from + '-to-' + v.to + '.' + ext };
        },
      }),
    }));

    function auditFile() {
      return 'audit-trail-' + todayUtc() + '.jsonl';
    }

    function downloadsPart() {
      const f = forms();
      return section(t('downloads.title'), 'downloads', [
        h('p', { class: 'help' }, t('downloads.intro')),
        f.ledger.draw(),
        f.audit.draw(),
        h('div', { class: 'offline', 'data-test': 'offline-verify' },
          h('h3', null, t('downloads.offlineTitle')),
          h('p', null, t('downloads.offlineIntro', { file: auditFile() })),
          commandBox('fundctl audit verify ' + auditFile() + ' --pubkey audit-ed25519.pub', 'verify-command'),
          h('p', { class: 'help' }, t('downloads.offlinePubkey')),
          h('p', { class: 'help' }, t('downloads.offlineResult'))),
        f.report.draw(),
      ]);
    }

    return {
      load,
      draw(root) {
        root.append(pageHeading(t('audit.title')));
        root.append(h('p', { class: 'intro' }, t('audit.intro')));
        if (!state.loaded) { root.append(loading()); return; }
        root.append(checkpointPart(), verifyPart(), eventsPart(), downloadsPart());
      },
    };
  },
};
