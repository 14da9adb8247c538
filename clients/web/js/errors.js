// Turning an error into a plain sentence in the current language, and marking
// the form fields it names (error.data.field, or each of error.data.fields).

import { h, clear } from './dom.js';
import { t, has } from './i18n.js';
import { list } from './format.js';

export function describe(err) {
  if (!err) return t('errors.generic');
  const reason = err.reason || (err.data && err.data.reason);
  if (err.code === null || err.code === undefined) {
    const key = 'errors.client.' + (reason || 'generic');
    if (has(key)) return t(key, { status: err.httpStatus || '' });
    return t('errors.generic');
  }
  let sentence;
  if (reason && has('errors.reason.' + reason)) sentence = t('errors.reason.' + reason);
  else if (has('errors.code.' + err.code)) sentence = t('errors.code.' + err.code);
  else sentence = t('errors.generic');
  if (err.code === -32003 && Array.isArray(err.data.roles) && err.data.roles.length) {
    sentence += ' ' + t('errors.rolesThatMay', {
      roles: list(err.data.roles.map((r) => t('roles.' + r))),
    });
  }
  if (err.data.available !== undefined && reason === 'insufficient_funds') {
    sentence += ' ' + t('errors.available', { amount: err.data.available });
  }
  return sentence;
}

// The technical reference shown under a message, for support: never alone.
export function reference(err) {
  if (!err) return '';
  const parts = [];
  if (err.code !== null && err.code !== undefined) parts.push(String(err.code));
  if (err.reason) parts.push(err.reason);
  if (err.data && err.data.field) parts.push(err.data.field);
  return parts.join(' · ');
}

function fieldErrors(err) {
  const out = [];
  if (!err || !err.data) return out;
  if (Array.isArray(err.data.fields)) {
    for (const f of err.data.fields) {
      if (f && f.field) out.push({ field: f.field, reason: f.reason });
    }
  }
  if (err.data.field && !out.some((f) => f.field === err.data.field)) {
    out.unshift({ field: err.data.field, reason: err.reason });
  }
  return out;
}

export function clearFields(form) {
  if (!form) return;
  for (const el of form.querySelectorAll('[aria-invalid="true"]')) {
    el.removeAttribute('aria-invalid');
  }
  for (const msg of form.querySelectorAll('.field-error')) {
    clear(msg);
    msg.hidden = true;
  }
}

// A group of controls (a fieldset of checkboxes) stands for the param named by
// its data-field: its message goes inside it, last.
function isGroup(input) {
  return input.tagName === 'FIELDSET';
}

function messageFor(input) {
  const id = (input.id || input.name || input.dataset.field) + '-error';
  let msg = isGroup(input) ? input.lastElementChild : input.nextElementSibling;
  if (!msg || msg.id !== id) {
    msg = h('p', { id, class: 'field-error', hidden: true });
    if (isGroup(input)) input.append(msg);
    else input.insertAdjacentElement('afterend', msg);
  }
  const described = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  if (!described.includes(id)) {
    described.push(id);
    input.setAttribute('aria-describedby', described.join(' '));
  }
  return msg;
}

export function markField(input, sentence) {
  const controls = isGroup(input) ? input.querySelectorAll('input, select, textarea') : [input];
  for (const c of controls) c.setAttribute('aria-invalid', 'true');
  const msg = messageFor(input);
  clear(msg).appendChild(document.createTextNode(sentence));
  msg.hidden = false;
}

// Marks the fields of `form` that the error names (a control by its name, or
// a group by its data-field); returns how many it marked.
export function markFields(form, err) {
  if (!form) return 0;
  let marked = 0;
  for (const { field, reason } of fieldErrors(err)) {
    const name = CSS.escape(field);
    const input = form.querySelector('[name="' + name + '"]') || form.querySelector('fieldset[data-field="' + name + '"]');
    if (!input) continue;
    const sentence = reason && has('errors.reason.' + reason)
      ? t('errors.reason.' + reason)
      : describe(err);
    markField(input, sentence);
    if (marked === 0) (isGroup(input) ? input.querySelector('input, select, textarea') || input : input).focus();
    marked += 1;
  }
  return marked;
}

// A block for a page whose data could not be loaded, with "Try again".
export function errorPanel(err, retry) {
  return h('div', { class: 'error-panel', role: 'alert', 'data-test': 'error' },
    h('p', { class: 'error-text' }, describe(err)),
    h('p', { class: 'error-ref' }, t('errors.reference', { ref: reference(err) })),
    retry ? h('button', { type: 'button', class: 'button', 'data-test': 'retry', on: { click: retry } },
      t('app.retry')) : null);
}
