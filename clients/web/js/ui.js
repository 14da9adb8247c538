// Shared pieces of the views: the status region, tables, pagers, selects.

import { h, clear, nextId } from './dom.js';
import { t } from './i18n.js';
import { number } from './format.js';
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

// The pager of a list loaded with loadPage: Previous and Next move along
// state.cursors, then refresh() loads that page.
export function cursorPager(state, refresh, busy = state.loading) {
  return pager({
    page: number(state.cursors.length),
    busy,
    hasPrev: state.cursors.length > 1,
    hasNext: !!state.nextCursor,
    onPrev: () => { state.cursors.pop(); refresh(); },
    onNext: () => { state.cursors.push(state.nextCursor); refresh(); },
  });
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

// ---------------------------------------------------------------- forms and details

// One labelled form control. type: text (default), number, date, datetime-local,
// password, email, select, textarea, checkbox. options: [{value, label}] for a
// select, with anyLabel as a first '' choice. help: a hint under the label, tied
// with aria-describedby. money: a decimal amount (text with inputmode=decimal).
export function field({
  id, name, label, type = 'text', value, required, help, options, anyLabel, money: isMoney,
  placeholder, autocomplete, rows, min, max, disabled, test,
}) {
  const fid = id || nextId('field');
  const helpId = help ? fid + '-help' : null;
  const common = {
    id: fid, name: name || fid, required: !!required, disabled: !!disabled,
    'aria-describedby': helpId, dataset: { test },
  };
  let control;
  if (type === 'select') {
    control = h('select', common,
      anyLabel !== undefined ? h('option', { value: '' }, anyLabel) : null,
      (options || []).map((o) => h('option', { value: o.value, selected: String(o.value) === String(value ?? '') }, o.label)));
  } else if (type === 'textarea') {
    control = h('textarea', { ...common, rows: rows || 3, placeholder });
    control.value = value ?? '';
  } else if (type === 'checkbox') {
    control = h('input', { ...common, type: 'checkbox', checked: !!value });
    return h('div', { class: 'field field-check' }, control, h('label', { for: fid }, label),
      help ? h('p', { id: helpId, class: 'help' }, help) : null);
  } else {
    control = h('input', {
      ...common,
      type: isMoney ? 'text' : type,
      inputmode: isMoney ? 'decimal' : null,
      autocomplete: autocomplete || (isMoney ? 'off' : null),
      placeholder, min, max,
      value: value ?? '',
    });
  }
  return h('div', { class: 'field' },
    h('label', { for: fid }, label, required ? h('span', { class: 'required' }, ' ', t('forms.required')) : null),
    help ? h('p', { id: helpId, class: 'help' }, help) : null,
    control);
}

function newKey() {
  return 'web-' + crypto.randomUUID();
}

// What a form holds, by control name: a checkbox as true/false, text as typed.
function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled || el.tagName === 'BUTTON') continue;
    out[el.name] = el.type === 'checkbox' ? el.checked : el.value;
  }
  return out;
}

// The params a form gives: text trimmed, an empty one left out (the method's
// default applies).
function params(values) {
  const out = {};
  for (const [name, v] of Object.entries(values)) {
    if (typeof v === 'boolean') out[name] = v;
    else if (String(v).trim() !== '') out[name] = String(v).trim();
  }
  return out;
}

// A form that changes something. Its state (what was typed, the error, the
// idempotency key) outlives redraws: draw() builds it anew each time, in the
// current language, with the values typed so far.
//
//   const f = actionForm({test, title, submitLabel, fields: () => [field(...)],
//                         run: (values, key) => rpc.call('x.y', {...values, idempotency_key: key}),
//                         done: (result) => {...}, redraw: ctx.redraw});
//   root.append(f.draw());
//
// The idempotency key is made once and kept until a call succeeds: sending
// again after a timeout, a lost connection or -32051 cannot do the thing twice
// (docs/protocol.md, "Idempotency"). An error is marked on the fields it names,
// or said under the form, and in #status. success: the #status message.
// title, intro and submitLabel may be functions, called at each draw, so that a
// form made once follows a change of language: submitLabel: () => t('x.save').
// drawn(form), if given, is called at the end of each draw, once the values
// typed so far are back in the form (for what shows depending on them).
export function actionForm({ test, title: titleOf, intro: introOf, fields, submitLabel: labelOf, run, done, redraw, success, cancel, drawn }) {
  const now = (v) => (typeof v === 'function' ? v() : v);
  let values = null;      // by name, from the last drawn form
  let key = newKey();
  let busy = false;
  let error = null;
  let form = null;

  function remember() {
    if (form && form.isConnected) values = formValues(form);
  }

  function restore(el) {
    if (!values) return;
    for (const c of el.elements) {
      if (!c.name || !(c.name in values)) continue;
      if (c.type === 'checkbox') c.checked = !!values[c.name];
      else c.value = values[c.name];
    }
  }

  function showError(el) {
    clearFields(el);
    const slot = el.querySelector('[data-role="form-error"]');
    clear(slot);
    if (!error) return;
    if (!markFields(el, error)) {
      slot.append(h('p', { class: 'error-text', role: 'alert', 'data-test': 'form-error' }, describe(error)));
    }
  }

  async function submit(ev) {
    ev.preventDefault();
    if (busy) return;
    remember();
    busy = true;
    error = null;
    const button = form.querySelector('button[type="submit"]');
    button.setAttribute('aria-disabled', 'true');
    button.textContent = t('forms.working');
    let result;
    try {
      result = await run(params(values), key);
    } catch (err) {
      busy = false;
      error = err;
      if (err.unauthenticated) return; // the sign-in screen says why
      say(describe(err), 'error');
      if (form.isConnected) {
        // the form drawn now (a redraw while waiting makes a new one)
        const again = form.querySelector('button[type="submit"]');
        again.removeAttribute('aria-disabled');
        again.textContent = now(labelOf);
        showError(form);
      }
      return;
    }
    busy = false;
    key = newKey();
    values = null;
    if (success) say(typeof success === 'function' ? success(result) : success, 'success');
    if (done) await done(result);
    if (redraw) redraw();
  }

  function draw() {
    remember();
    const list = typeof fields === 'function' ? fields() : fields;
    const title = now(titleOf);
    const intro = now(introOf);
    form = h('form', {
      class: 'form action-form', 'data-test': test, novalidate: true,
      'aria-labelledby': title ? test + '-title' : null,
      on: { submit },
    },
    title ? h('h2', { id: test + '-title' }, title) : null,
    intro ? h('p', { class: 'help' }, intro) : null,
    list,
    h('div', { 'data-role': 'form-error' }),
    h('div', { class: 'actions' },
      h('button', {
        type: 'submit', class: 'button', 'data-test': test + '-submit',
        'aria-disabled': busy ? 'true' : null,
      }, busy ? t('forms.working') : now(labelOf)),
      cancel ? h('button', {
        type: 'button', class: 'button secondary', 'data-test': test + '-cancel',
        on: { click: () => { values = null; error = null; cancel(); } },
      }, t('forms.cancel')) : null));
    restore(form);
    if (error) showError(form);
    if (drawn) drawn(form);
    return form;
  }

  return {
    draw,
    reset() { values = null; error = null; key = newKey(); },
    get busy() { return busy; },
  };
}

// A description list: [[label, value], ...]; a null/undefined value is left out.
export function details(pairs, test) {
  return h('dl', { class: 'details', 'data-test': test },
    pairs.filter(([, v]) => v !== null && v !== undefined && v !== '').map(([label, v, col]) => [
      h('dt', null, label),
      h('dd', { dataset: { col } }, v),
    ]));
}

// A titled part of a page (h2), labelled for landmarks.
export function section(title, test, ...children) {
  const id = nextId('section');
  return h('section', { class: 'part', 'aria-labelledby': id, 'data-test': test },
    h('h2', { id }, title), children);
}

// A beneficiary's name as shown: the name, or "Personal data erased" when the
// API gives none (an erased returnee's full_name, a grant's beneficiary_name).
export function personName(name) {
  if (name !== null && name !== undefined && name !== '') return name;
  return h('span', { class: 'erased', 'data-test': 'erased-name' }, t('person.erased'));
}

// A link to another page of the console: link('/grant', {id: 'gr_1'}, text).
export function link(path, params, text, attrs = {}) {
  const q = params ? new URLSearchParams(params).toString() : '';
  return h('a', { href: '#' + path + (q ? '?' + q : ''), ...attrs }, text);
}
