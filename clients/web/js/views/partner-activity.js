// Recent activity for the dashboard (admin, auditor): the last events of the audit trail
// (audit.events), in plain words. Events carry ids, never personal data (docs/audit.md,
// "Events"): who acted (a principal id), what (the method), on what (an object id) and
// whether it was done or refused.
//
// audit.events pages upwards from a sequence number, so the end of the trail is found
// first: one batch probes from_seq 1, 2, 4, 8 ... (limit 1) to find the power of two the
// last event lies beyond, then batches of evenly spaced probes narrow that range until it
// is one page wide, and that page is read.

import { h } from '../dom.js';
import { t, has } from '../i18n.js';
import { dateTime } from '../format.js';
import { describe } from '../errors.js';
import { table } from '../ui.js';

const PROBES = 32;
const PAGE = 1000;
export const SHOWN = 12;

async function nonEmpty(rpc, seqs) {
  const answers = await rpc.batch(seqs.map((s) => ({ method: 'audit.events', params: { from_seq: s, limit: 1 } })));
  return answers.map((a) => {
    if (a.error) throw a.error;
    return (a.result.events || []).length > 0;
  });
}

// The last `count` events of the trail, newest first.
export async function recentEvents(rpc, count = SHOWN) {
  // 1. the power of two the last event lies beyond
  const powers = [];
  for (let k = 0; k <= 52; k += 1) powers.push(2 ** k);
  const found = await nonEmpty(rpc, powers);
  let lo = 0;
  let hi = null;
  found.forEach((yes, i) => {
    if (yes) lo = powers[i];
    else if (hi === null && powers[i] > lo) hi = powers[i];
  });
  if (hi === null) hi = lo * 2 || 1;
  // 2. narrow [lo, hi) until one page wide: lo always has an event at or after it
  while (hi - lo > PAGE) {
    const step = Math.ceil((hi - lo) / PROBES);
    const seqs = [];
    for (let s = lo + step; s < hi; s += step) seqs.push(s);
    const yes = await nonEmpty(rpc, seqs);
    let newLo = lo;
    let newHi = hi;
    for (let i = 0; i < seqs.length; i += 1) {
      if (yes[i]) newLo = seqs[i];
      else { newHi = seqs[i]; break; }
    }
    lo = newLo;
    hi = newHi;
  }
  // 3. read from a little before lo to the end
  let from = Math.max(0, lo - count);
  let events = [];
  for (let i = 0; i < 20; i += 1) {
    const res = await rpc.call('audit.events', { from_seq: from, limit: PAGE });
    events = events.concat(res.events || []).slice(-count);
    if (res.next_cursor === null || res.next_cursor === undefined) break;
    from = res.next_cursor;
  }
  return events.reverse();
}

function what(ev) {
  const key = 'activity.method.' + String(ev.method || '').replace(/\./g, '_');
  return has(key) ? t(key) : t('activity.otherMethod', { method: ev.method || '' });
}

function outcome(ev) {
  if (ev.outcome === 'ok') {
    return h('span', { class: 'badge badge-ok', dataset: { outcome: 'ok' } }, t('activity.ok'));
  }
  const why = ev.reason && has('errors.reason.' + ev.reason)
    ? t('errors.reason.' + ev.reason)
    : describe({ code: ev.error_code, reason: ev.reason, data: { reason: ev.reason } });
  return [h('span', { class: 'badge badge-refused', dataset: { outcome: 'refused' } }, t('activity.refused')),
    ' ', h('span', { class: 'sub' }, why)];
}

// state: {events, error, loading}; me: the signed-in principal
export function activityPart(state, me, onRetry) {
  let body;
  if (state.loading) {
    body = h('p', { class: 'loading', 'data-test': 'activity-loading' }, t('activity.loading'));
  } else if (state.error) {
    body = h('div', { class: 'error-panel', 'data-test': 'activity-error' },
      h('p', { class: 'error-text' }, describe(state.error)),
      h('button', { type: 'button', class: 'button secondary', 'data-test': 'activity-retry', on: { click: onRetry } },
        t('app.retry')));
  } else {
    body = table({
      test: 'activity-table',
      caption: t('activity.caption'),
      empty: t('activity.empty'),
      rows: state.events || [],
      rowAttrs: (ev) => ({ 'data-test': 'activity-row', dataset: { seq: ev.seq } }),
      columns: [
        { key: 'at', label: t('activity.col.at'), cell: (ev) => dateTime(ev.at) },
        { key: 'what', label: t('activity.col.what'), cell: what },
        {
          key: 'object_id', label: t('activity.col.object'),
          cell: (ev) => (ev.object_id ? h('span', { class: 'code' }, ev.object_id) : t('activity.noObject')),
        },
        {
          key: 'principal_id', label: t('activity.col.who'),
          cell: (ev) => {
            if (!ev.principal_id) return t('activity.unknownCaller');
            if (me && ev.principal_id === me.principal_id) return t('activity.you');
            return h('span', { class: 'code' }, ev.principal_id);
          },
        },
        { key: 'outcome', label: t('activity.col.outcome'), cell: outcome },
      ],
    });
  }
  return h('section', { class: 'part', 'aria-labelledby': 'activity-title', 'data-test': 'activity' },
    h('h2', { id: 'activity-title' }, t('activity.title')),
    h('p', { class: 'help' }, t('activity.intro')),
    body);
}
