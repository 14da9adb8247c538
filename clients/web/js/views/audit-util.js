// Pieces shared by the audit pages (audit-*.js): signed amounts as debit or
// credit, account names in words, the forms that download the exports, and a
// command with a copy button.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { money } from '../format.js';
import { describe, reference, clearFields, markField, markFields } from '../errors.js';
import { abs, isZero } from '../decimal.js';
import { RpcError } from '../rpc.js';
import { download } from '../files.js';
import { say } from '../ui.js';

// The chart of accounts (docs/ledger.md): the part of an account's name after "FUND:".
export const ACCOUNTS = [
  'cash', 'pledges_receivable', 'pledged_contributions', 'contributions', 'earnings',
  'commitments', 'grants_committed', 'grants_disbursed', 'transfers_in', 'transfers_out',
  'bank_charges', 'investment_losses', 'capital_impaired',
];

// "FUND:cash" -> {fund: 'FUND', short: 'cash'}
export function splitAccount(name) {
  const i = String(name || '').lastIndexOf(':');
  return i < 0 ? { fund: '', short: String(name || '') } : { fund: name.slice(0, i), short: name.slice(i + 1) };
}

// An account as words ("Cash in the bank") with its exact name under it.
export function accountCell(name) {
  const { short } = splitAccount(name);
  const words = ACCOUNTS.includes(short) ? t('trial.account.' + short) : null;
  return [
    words ? h('span', { class: 'account-words' }, words) : null,
    words ? ' ' : null,
    h('span', { class: 'code account-name' }, name),
  ];
}

// A net balance (debit positive) as "€1,000.00 debit" / "€5.00 credit" / "€0.00".
// The cell keeps the exact figure in data-value.
export function netBalance(amount, currency) {
  const side = isZero(amount) ? null : (String(amount).startsWith('-') ? 'credit' : 'debit');
  return h('span', { class: 'amount', dataset: { value: amount } },
    money(abs(amount), currency),
    side ? h('span', { class: 'side side-' + side }, ' ', t('trial.side.' + side)) : null);
}

// A plain amount with its exact figure in data-value.
export function amountSpan(amount, currency) {
  return h('span', { class: 'amount', dataset: { value: amount } }, money(amount, currency));
}

// ---------------------------------------------------------------- downloads

// A refused download in words: the JSON-RPC error's sentence, or the HTTP status.
export function describeDownload(err) {
  if (err.localSentence) return err.localSentence;
  if (err.code !== null && err.code !== undefined) return describe(err);
  if (err.reason === 'network' || err.reason === 'interrupted') return t('downloads.interrupted');
  if (err.httpStatus === 400) return t('downloads.badQuery', { status: err.httpStatus });
  if (err.httpStatus === 503) return t('downloads.busy', { status: err.httpStatus });
  return t('downloads.failedStatus', { status: err.httpStatus || '?' });
}

// The reference line under a failed download's sentence (for support).
export function downloadReference(err) {
  const parts = [];
  if (err.httpStatus) parts.push('HTTP ' + err.httpStatus);
  const ref = reference(err);
  if (ref) parts.push(ref);
  if (err.serverText) parts.push(err.serverText);
  return parts.join(' · ');
}

// A form that downloads a file: its fields, a button, the error under it.
// run(values) returns {url, filename}. test: the form's data-test.
export function downloadForm({ test, title, intro, fields, submitLabel, run, rpc, savedText }) {
  let busy = false;
  let error = null;
  let values = null;
  let form = null;

  function remember() {
    if (!form || !form.isConnected) return;
    values = {};
    for (const el of form.elements) if (el.name) values[el.name] = el.value;
  }

  function showError(el) {
    clearFields(el);
    const slot = el.querySelector('[data-role="form-error"]');
    while (slot.firstChild) slot.removeChild(slot.firstChild);
    if (!error) return;
    if (error.unauthenticated) return;
    if (error.localSentence) { markLocal(el, error); return; }
    const marked = markFields(el, error);
    slot.append(h('div', { class: 'error-text', role: 'alert', 'data-test': 'download-error' },
      marked ? null : h('p', null, describeDownload(error)),
      h('p', { class: 'error-ref' }, t('errors.reference', { ref: downloadReference(error) }))));
  }

  async function submit(ev) {
    ev.preventDefault();
    if (busy) return;
    remember();
    const button = form.querySelector('button[type="submit"]');
    const vals = {};
    for (const [k, v] of Object.entries(values || {})) vals[k] = String(v).trim();
    let spec;
    try {
      spec = run(vals);
    } catch (err) {
      error = err;
      say(describeDownload(err), 'error');
      showError(form);
      return;
    }
    busy = true;
    error = null;
    showError(form);
    button.setAttribute('aria-disabled', 'true');
    button.textContent = t('downloads.working');
    say(t('downloads.started', { file: spec.filename }));
    try {
      const size = await download(rpc, spec.url, spec.filename);
      say(savedText ? savedText(spec.filename, size) : t('downloads.saved', { file: spec.filename }), 'success');
    } catch (err) {
      error = err;
      if (!err.unauthenticated) say(describeDownload(err), 'error');
    }
    busy = false;
    if (form.isConnected) {
      button.removeAttribute('aria-disabled');
      button.textContent = submitLabel;
      showError(form);
    }
  }

  function draw() {
    remember();
    form = h('form', {
      class: 'form action-form download-form', 'data-test': test, novalidate: true,
      'aria-labelledby': test + '-title', on: { submit },
    },
    h('h3', { id: test + '-title' }, title),
    intro ? h('p', { class: 'help' }, intro) : null,
    typeof fields === 'function' ? fields() : fields,
    h('div', { 'data-role': 'form-error' }),
    h('div', { class: 'actions' },
      h('button', {
        type: 'submit', class: 'button', 'data-test': test + '-submit',
        'aria-disabled': busy ? 'true' : null,
      }, busy ? t('downloads.working') : submitLabel)));
    if (values) {
      for (const el of form.elements) if (el.name && el.name in values) el.value = values[el.name];
    }
    if (error) showError(form);
    return form;
  }

  return { draw };
}

// A field error of the console's own (found before anything is sent): the
// field's name and a sentence of ours; markLocal() shows it on the form.
export function localError(field, key) {
  const err = new RpcError(-32602, key, { reason: 'invalid_params', field });
  err.localSentence = t(key);
  return err;
}

export function markLocal(form, err) {
  const input = form.querySelector('[name="' + CSS.escape(err.data.field) + '"]');
  if (input) { markField(input, err.localSentence); input.focus(); }
}

// ---------------------------------------------------------------- a command to copy

export function commandBox(command, test) {
  const id = 'cmd-' + test;
  const status = h('span', { class: 'copy-status', role: 'status', 'data-test': test + '-copied' });
  async function copy() {
    let ok = false;
    try {
      await navigator.clipboard.writeText(command);
      ok = true;
    } catch (e) {
      // no clipboard (permissions): select the text so that Ctrl+C copies it
      const range = document.createRange();
      range.selectNodeContents(document.getElementById(id));
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
    status.textContent = ok ? t('downloads.copied') : t('downloads.copyFailed');
    say(ok ? t('downloads.copied') : t('downloads.copyFailed'), ok ? 'success' : 'info');
  }
  return h('div', { class: 'command' },
    h('pre', { class: 'command-text' },
      h('code', { id, 'data-test': test, translate: 'no' }, command)),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'button secondary', 'data-test': test + '-copy', on: { click: copy } },
        t('downloads.copy')),
      status));
}
