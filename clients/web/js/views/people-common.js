// Pieces the people pages share: badges of their own, reading every page of a
// list, principals' names by id, and the "shown once" token panel.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { say, statusBadge } from '../ui.js';

// A status word as a badge (ui.js statusBadge), with its test id.
export function badge(kind, word, test) {
  const el = statusBadge(kind, word);
  if (test) el.dataset.test = test;
  return el;
}

// Every row of a paged list (docs/protocol.md, "Lists and cursors"), at most
// maxPages pages of 1000. Returns {rows, more}: more is true when rows were left.
export async function loadAll(rpc, method, params, key, maxPages = 10) {
  const rows = [];
  let cursor = null;
  for (let i = 0; i < maxPages; i += 1) {
    const p = { ...params, limit: 1000 };
    if (cursor) p.cursor = cursor;
    const res = await rpc.call(method, p);
    rows.push(...(res[key] || []));
    cursor = res.next_cursor || null;
    if (!cursor) return { rows, more: false };
  }
  return { rows, more: true };
}

// The name of a principal by id, from a Map of principal_id -> principal; the
// id itself when it is not known; "you" for the signed-in principal.
export function whoName(names, id, me) {
  if (!id) return t('people.nobody');
  if (me && id === me.principal_id) return t('people.you');
  const p = names && names.get(id);
  return p ? p.name : id;
}

// The panel that shows a new bearer token once (principal.create, .confirm,
// .rotate_token). The token is only in the caller's memory and this panel: it
// is never stored, logged or put in a URL. onHide forgets it.
export function tokenPanel({ token, name, own, onHide }) {
  const copy = async () => {
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
      await navigator.clipboard.writeText(token);
      say(t('people.token.copied'), 'success');
    } catch (e) {
      say(t('people.token.copyFailed'), 'error');
      const code = document.getElementById('new-token');
      if (code) {
        const range = document.createRange();
        range.selectNodeContents(code);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      }
    }
  };
  return h('section', {
    class: 'people-token notice', 'aria-labelledby': 'new-token-title', 'data-test': 'token-panel',
  },
  h('h2', { id: 'new-token-title', tabindex: '-1' },
    own ? t('people.token.titleOwn') : t('people.token.title', { name })),
  h('p', null, own ? t('people.token.handOwn') : t('people.token.hand', { name })),
  h('p', { class: 'people-strong' }, t('people.token.once')),
  h('p', { class: 'people-token-box' },
    h('span', { class: 'sr-only' }, t('people.token.label'), ' '),
    h('code', { id: 'new-token', class: 'code people-token-value', 'data-test': 'new-token' }, token)),
  h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'button', 'data-test': 'copy-token', on: { click: copy } },
      t('people.token.copy')),
    h('button', { type: 'button', class: 'button secondary', 'data-test': 'hide-token', on: { click: onHide } },
      t('people.token.hide'))));
}

// Moves the keyboard focus to an element of the page after a redraw.
export function focusLater(selector) {
  const el = document.querySelector(selector);
  if (el) el.focus();
}

