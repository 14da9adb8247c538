// Shared pieces of the views: the status region, tables, pagers, selects.

import { h, clear, nextId } from './dom.js';
import { t } from './i18n.js';
import { clearFields, describe, markFields } from './errors.js';

// The one aria-live region (#status): short messages about what happened.
export function say(text, kind = 'info') {
  const el = document.getElementById('status');
  if (!el) return;
  el.className = 'status status-' + kind;
  clear(el);
  if (text) el.appendChild(document.createTextNode(text));
}

export function loading() {
  return h('p', { class: 'loading', 'data-test': 'loading' }, t('app.loading'));
}

export function pageHeading(text, ...extra) {
  return h('div', { class: 'page-head' },
    h('h1', { id: 'page-title', tabindex: '-1' }, text, ...extra));
}

// columns: [{key, label, num?, cell(row) -> Node|string}]
export function table({ test, caption, columns, rows, rowAttrs, empty }) {
  const captionId = nextId('caption');
  if (!rows.length) {
    return h('p', { class: 'empty', 'data-test': test + '-empty' }, empty);
  }
  return h('div', {
    class: 'table-wrap', role: 'region', 'aria-labelledby': captionId, tabindex: '0',
  },
  h('table', { class: 'data', 'data-test': test },
    h('caption', { id: captionId }, caption),
    h('thead', null, h('tr', null, columns.map((c) =>
      h('th', { scope: 'col', class: c.num ? 'num' : null, dataset: { col: c.key } }, c.label)))),
    h('tbody', null, rows.map((row) =>
      h('tr', rowAttrs ? rowAttrs(row) : null, columns.map((c, i) => {
        const content = c.cell ? c.cell(row) : row[c.key];
        const attrs = { class: c.num ? 'num' : null, dataset: { col: c.key } };
        return i === 0 ? h('th', { scope: 'row', ...attrs }, content) : h('td', attrs, content);
      }))))));
}

// Previous / page n / Next. Buttons keep their data-test so focus can be put back.
// While a page loads, the buttons stay focusable (aria-disabled) so that the
// keyboard focus is not lost; the click is ignored then.
export function pager({ page, hasPrev, hasNext, onPrev, onNext, busy }) {
  const button = (test, enabled, onClick, label) => h('button', {
    type: 'button', class: 'button secondary', 'data-test': test,
    disabled: !enabled, 'aria-disabled': busy && enabled ? 'true' : null,
    on: { click: () => { if (!busy) onClick(); } },
  }, label);
  return h('nav', { class: 'pager', 'aria-label': t('paging.label'), 'data-test': 'pager' },
    button('prev-page', hasPrev, onPrev, t('paging.prev')),
    h('span', { class: 'page-no', 'data-test': 'page-number' }, t('paging.page', { n: page })),
    button('next-page', hasNext, onNext, t('paging.next')));
}

// A labelled <select>. options: [{value, label}]; '' is "any".
export function selectField({ id, name, label, options, value, anyLabel }) {
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('select', { id, name },
      anyLabel !== undefined ? h('option', { value: '' }, anyLabel) : null,
      options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label))));
}

// Loads the page of a paged list whose cursor is last in state.cursors: fetch(params) gets
// {limit, cursor?} and returns the method's answer. A refused filter (filterCodes) goes to
// state.filterError, to be marked on the form; anything else to state.error; a cursor the
// daemon no longer takes starts the list again. Returns the answer, or null.
export async function loadPage(state, pageSize, fetch, filterCodes = [-32602]) {
  state.loading = true;
  state.error = null;
  let res = null;
  try {
    const params = { limit: pageSize };
    const cursor = state.cursors[state.cursors.length - 1];
    if (cursor) params.cursor = cursor;
    res = await fetch(params);
    state.nextCursor = res.next_cursor || null;
    state.filterError = null;
  } catch (err) {
    res = null;
    if (err.reason === 'bad_cursor') state.cursors = [null];
    if (filterCodes.includes(err.code)) state.filterError = err;
    else state.error = err;
    // a -32001 has sent the user to sign-in, which says why
    if (!err.unauthenticated) say(describe(err), 'error');
  }
  state.loading = false;
  return res;
}

// A list's filters: the fields (selectField), an Apply button, and the error the last
// filtering got (its field marked, or said under the form). onApply gets the form's
// elements.
export function filterForm({ test, fields, error, onApply }) {
  const form = h('form', {
    class: 'filters', 'aria-labelledby': 'filters-title', 'data-test': test,
    on: { submit: (ev) => { ev.preventDefault(); onApply(ev.currentTarget.elements); } },
  },
  h('h2', { id: 'filters-title', class: 'sr-only' }, t('filters.title')),
  fields,
  h('div', { class: 'actions' },
    h('button', { type: 'submit', class: 'button', 'data-test': 'apply-filters' }, t('filters.apply'))));
  if (error) {
    clearFields(form);
    if (!markFields(form, error)) {
      form.append(h('p', { class: 'error-text', role: 'alert' }, describe(error)));
    }
  }
  return form;
}

// A status word as a badge: text always, colour only as an extra.
export function statusBadge(kind, word, text) {
  return h('span', { class: 'badge badge-' + word, dataset: { status: word } }, text || t(kind + '.' + word));
}
