// #/periods (admin, auditor): the closes of periods (period.closes) and their
// state; an administrator asks to close (period.close), an auditor other than
// the asker confirms (period.close_confirm), either may drop a pending close
// (period.close_drop). #/period?id=pc_.. (hidden): one close
// (period.close_get), its record, its proof and how to check it offline.

import { h } from '../dom.js';
import { t, lang } from '../i18n.js';
import { date, dateTime, number } from '../format.js';
import { errorPanel, describe } from '../errors.js';
import { hasRole, principal } from '../session.js';
import { actionForm, details, field, link, loading, pageHeading, say, section, table } from '../ui.js';
import { commandBox, describeDownload, downloadReference } from './audit-util.js';
import { download } from '../files.js';

const STATUSES = ['pending', 'confirmed', 'dropped'];

export function closeBadge(status) {
  const known = STATUSES.includes(status);
  return h('span', { class: 'badge badge-close-' + (known ? status : 'other'), dataset: { status } },
    known ? t('periods.status.' + status) : status);
}

// "the 5th of October and before"
function closedRange(c) {
  return c.export_from
    ? t('periods.rangeFrom', { from: date(c.export_from), until: date(c.until) })
    : t('periods.rangeAll', { until: date(c.until) });
}

// The ledger CSV of the closed range (the export the record fingerprints).
function exportUrl(c) {
  const q = new URLSearchParams({ format: 'csv' });
  if (c.export_from) q.set('from', c.export_from);
  q.set('to', c.export_to);
  return '/export/ledger?' + q.toString();
}

function csvName(c) {
  return 'books-until-' + c.until + '.csv';
}

// The pending close, with what confirming or dropping it does, each asked twice.
function pendingPart(ctx, state, c, onDone) {
  const me = principal();
  const own = me && c.requested_by === me.principal_id;
  const parts = [
    h('p', { 'data-test': 'pending-text' }, t('periods.pendingText', {
      until: date(c.until), who: c.requested_by, when: dateTime(c.requested_at),
    })),
  ];
  const buttons = [];
  if (hasRole('auditor') && !own) {
    if (state.asking === 'confirm') {
      parts.push(state.forms().confirm.draw());
    } else {
      buttons.push(h('button', {
        type: 'button', class: 'button', 'data-test': 'confirm-close',
        on: { click: () => { state.asking = 'confirm'; ctx.redraw(); focusForm('close-confirm'); } },
      }, t('periods.confirmButton')));
    }
  } else if (hasRole('auditor') && own) {
    parts.push(h('p', { class: 'help' }, t('periods.ownClose')));
  } else {
    parts.push(h('p', { class: 'help' }, t('periods.waitAuditor')));
  }
  if (state.asking === 'drop') {
    parts.push(state.forms().drop.draw());
  } else {
    buttons.push(h('button', {
      type: 'button', class: 'button secondary', 'data-test': 'drop-close',
      on: { click: () => { state.asking = 'drop'; ctx.redraw(); focusForm('close-drop'); } },
    }, t('periods.dropButton')));
  }
  if (state.asking) buttons.length = 0;
  parts.push(h('div', { class: 'actions' }, buttons));
  return h('div', { class: 'card pending-close', 'data-test': 'pending-close', dataset: { periodId: c.period_id } }, parts);
}

// The warning's heading takes the focus (not its button: a second Enter must
// not confirm by accident).
function focusForm(test) {
  const el = document.querySelector('[data-test="' + test + '"] h2');
  if (el) { el.setAttribute('tabindex', '-1'); el.focus(); }
}

function focusTest(test) {
  const el = document.querySelector('[data-test="' + test + '"]');
  if (el) el.focus();
}

// Forms are made in the current language; a language change makes them again.
export function perLang(make) {
  let made = null;
  let made_in = null;
  return () => {
    if (!made || made_in !== lang()) { made = make(); made_in = lang(); }
    return made;
  };
}

// The forms of the pending close's two decisions (kept across redraws).
function decisionForms(ctx, state, getClose, after) {
  state.forms = perLang(() => decisionFormsNow(ctx, state, getClose, after));
}

function decisionFormsNow(ctx, state, getClose, after) {
  const forms = {};
  forms.confirm = actionForm({
    test: 'close-confirm',
    title: t('periods.confirmTitle'),
    intro: null,
    fields: () => {
      const c = getClose();
      return [h('p', { class: 'notice' }, t('periods.confirmWarning', { until: c ? date(c.until) : '' }))];
    },
    submitLabel: t('periods.confirmSubmit'),
    run: (values, key) => ctx.rpc.call('period.close_confirm', { period_id: getClose().period_id, idempotency_key: key }),
    success: (c) => t('periods.confirmed', { until: date(c.until) }),
    done: async () => { state.asking = null; await after(); },
    cancel: () => { state.asking = null; ctx.redraw(); focusTest('confirm-close'); },
    redraw: () => ctx.redraw(),
  });
  forms.drop = actionForm({
    test: 'close-drop',
    title: t('periods.dropTitle'),
    fields: () => {
      const c = getClose();
      return [h('p', { class: 'notice' }, t('periods.dropWarning', { until: c ? date(c.until) : '' }))];
    },
    submitLabel: t('periods.dropSubmit'),
    run: (values, key) => ctx.rpc.call('period.close_drop', { period_id: getClose().period_id, idempotency_key: key }),
    success: (c) => t('periods.dropped', { until: date(c.until) }),
    done: async () => { state.asking = null; await after(); },
    cancel: () => { state.asking = null; ctx.redraw(); focusTest('drop-close'); },
    redraw: () => ctx.redraw(),
  });
  return forms;
}

// The last day of the previous month (UTC): what is usually closed.
function lastMonthEnd() {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0)).toISOString().slice(0, 10);
}

export const periodsView = {
  id: 'periods',
  path: '/periods',
  titleKey: 'periods.title',
  navKey: 'periods.nav',
  roles: ['admin', 'auditor'],
  create(ctx) {
    const state = { loading: true, error: null, closes: [], asking: null };

    async function load(announce = false) {
      state.loading = true;
      try {
        const res = await ctx.rpc.call('period.closes');
        state.closes = res.closes || [];
        state.error = null;
        if (announce) say(t('periods.loaded', { count: number(state.closes.length) }));
      } catch (err) {
        state.error = err;
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.loading = false;
    }

    const pending = () => state.closes.find((c) => c.status === 'pending') || null;
    decisionForms(ctx, state, pending, () => load());

    const closeForm = perLang(() => actionForm({
      test: 'close-period',
      title: t('periods.closeTitle'),
      intro: t('periods.closeIntro'),
      fields: () => [
        field({
          id: 'close-until', name: 'until', type: 'date', label: t('periods.until'), required: true,
          help: t('periods.untilHelp'), value: lastMonthEnd(),
        }),
      ],
      submitLabel: t('periods.closeSubmit'),
      run: (values, key) => ctx.rpc.call('period.close', { ...values, idempotency_key: key }),
      success: (c) => t('periods.asked', { until: date(c.until) }),
      done: () => load(),
      redraw: () => ctx.redraw(),
    }));

    function lastConfirmed() {
      return state.closes.find((c) => c.status === 'confirmed') || null;
    }

    return {
      load,
      draw(root) {
        root.append(pageHeading(t('periods.title')));
        root.append(h('p', { class: 'intro' }, t('periods.intro')));
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (state.loading && !state.closes.length) { root.append(loading()); return; }
        const last = lastConfirmed();
        root.append(h('p', { class: 'notice', 'data-test': 'closed-until' }, last
          ? t('periods.closedUntil', { until: date(last.until) })
          : t('periods.nothingClosed')));
        const p = pending();
        if (p) {
          root.append(section(t('periods.pendingTitle'), 'pending', pendingPart(ctx, state, p)));
        } else if (hasRole('admin')) {
          root.append(closeForm().draw());
        }
        root.append(section(t('periods.listTitle'), 'closes', table({
          test: 'closes-table',
          caption: t('periods.caption'),
          empty: t('periods.empty'),
          rows: state.closes,
          rowAttrs: (c) => ({ 'data-test': 'close-row', dataset: { periodId: c.period_id, status: c.status } }),
          columns: [
            { key: 'until', label: t('periods.col.until'), cell: (c) => link('/period', { id: c.period_id }, date(c.until), { 'data-test': 'close-link' }) },
            { key: 'status', label: t('periods.col.status'), cell: (c) => closeBadge(c.status) },
            { key: 'range', label: t('periods.col.range'), cell: closedRange },
            { key: 'requested', label: t('periods.col.requested'), cell: (c) => [h('span', { class: 'code' }, c.requested_by), ' ', h('span', { class: 'sub' }, dateTime(c.requested_at))] },
            { key: 'decided', label: t('periods.col.decided'), cell: (c) => (c.decided_by ? [h('span', { class: 'code' }, c.decided_by), ' ', h('span', { class: 'sub' }, dateTime(c.decided_at))] : '—') },
            { key: 'period_id', label: t('periods.col.id'), cell: (c) => h('span', { class: 'code' }, c.period_id) },
          ],
        })));
      },
    };
  },
};

export const periodView = {
  id: 'period',
  path: '/period',
  titleKey: 'periods.oneTitle',
  navKey: 'periods.nav',
  roles: ['admin', 'auditor'],
  hidden: true,
  parent: 'periods',
  create(ctx) {
    const id = ctx.params().get('id') || '';
    const state = { loading: true, error: null, close: null, proof: null, asking: null, dl: null };

    async function load(announce = false) {
      state.loading = true;
      try {
        const res = await ctx.rpc.call('period.close_get', { period_id: id });
        state.proof = res.proof || null;
        const { proof, ...close } = res;
        state.close = close;
        state.error = null;
        if (announce) say(t('periods.oneLoaded', { until: date(close.until) }));
      } catch (err) {
        state.error = err;
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.loading = false;
    }

    decisionForms(ctx, state, () => state.close, () => load());

    async function saveCsv() {
      const c = state.close;
      state.dl = null;
      say(t('downloads.started', { file: csvName(c) }));
      try {
        await download(ctx.rpc, exportUrl(c), csvName(c));
        say(t('downloads.saved', { file: csvName(c) }), 'success');
      } catch (err) {
        state.dl = err;
        if (!err.unauthenticated) say(describeDownload(err), 'error');
        ctx.redraw();
      }
    }

    function proofPart() {
      const c = state.close;
      if (c.status !== 'confirmed') {
        return h('p', { 'data-test': 'proof-state' }, t(c.status === 'pending' ? 'periods.proofPending' : 'periods.proofDropped'));
      }
      if (!state.proof) {
        return [
          h('p', { 'data-test': 'proof-state', dataset: { state: 'waiting' } }, t('periods.proofWaiting')),
          h('button', { type: 'button', class: 'button secondary', 'data-test': 'reload-close', on: { click: () => ctx.refresh() } }, t('periods.reload')),
        ];
      }
      const cp = state.proof.checkpoint || {};
      return [
        h('p', { 'data-test': 'proof-state', dataset: { state: 'signed' } },
          t('periods.proofSigned', { seq: number(cp.seq), when: dateTime(cp.signed_at) })),
        details([
          [t('periods.recordSeq'), c.record_seq !== null && c.record_seq !== undefined ? number(c.record_seq) : null],
          [t('periods.recordSha'), h('span', { class: 'code hash' }, c.record_sha256), 'record_sha256'],
          [t('periods.events'), number((state.proof.events || []).length)],
        ], 'proof-details'),
      ];
    }

    function offlinePart() {
      const c = state.close;
      if (c.status !== 'confirmed') return null;
      const file = csvName(c);
      return section(t('periods.offlineTitle'), 'close-offline', [
        h('p', { class: 'help' }, t('periods.offlineIntro')),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'button', 'data-test': 'download-closed', on: { click: saveCsv } },
            t('periods.downloadCsv', { file }))),
        state.dl ? h('div', { class: 'error-text', role: 'alert', 'data-test': 'download-error' },
          h('p', null, describeDownload(state.dl)),
          h('p', { class: 'error-ref' }, t('errors.reference', { ref: downloadReference(state.dl) }))) : null,
        h('p', null, t('periods.offlineSteps')),
        commandBox('fundctl ledger export-close ' + c.period_id + ' ' + file, 'export-close-command'),
        commandBox('fundctl ledger verify ' + file + ' --pubkey audit-ed25519.pub', 'ledger-verify-command'),
        h('p', { class: 'help' }, t('periods.pubkeyHelp')),
      ]);
    }

    return {
      load,
      draw(root) {
        const c = state.close;
        root.append(pageHeading(c ? t('periods.oneHeading', { until: date(c.until) }) : t('periods.oneTitle')));
        root.append(h('p', null, link('/periods', null, t('periods.back'), { 'data-test': 'back-to-periods' })));
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (!c) { root.append(loading()); return; }
        root.append(details([
          [t('periods.col.status'), closeBadge(c.status), 'status'],
          [t('periods.col.id'), h('span', { class: 'code' }, c.period_id), 'period_id'],
          [t('periods.col.until'), date(c.until), 'until'],
          [t('periods.col.range'), closedRange(c), 'range'],
          [t('periods.requestedBy'), h('span', { class: 'code' }, c.requested_by), 'requested_by'],
          [t('periods.requestedAt'), dateTime(c.requested_at), 'requested_at'],
          [c.status === 'dropped' ? t('periods.droppedBy') : t('periods.confirmedBy'),
            c.decided_by ? h('span', { class: 'code' }, c.decided_by) : null, 'decided_by'],
          [t('periods.decidedAt'), c.decided_at ? dateTime(c.decided_at) : null, 'decided_at'],
        ], 'close-details'));
        if (c.status === 'pending') root.append(section(t('periods.pendingTitle'), 'pending', pendingPart(ctx, state, c)));
        root.append(section(t('periods.proofTitle'), 'close-proof', proofPart()));
        if (c.record) {
          root.append(section(t('periods.recordTitle'), 'close-record', [
            h('p', { class: 'help' }, t('periods.recordHelp')),
            h('pre', { class: 'record', 'data-test': 'close-record-text', translate: 'no' }, c.record),
          ]));
        }
        const off = offlinePart();
        if (off) root.append(off);
      },
    };
  },
};
