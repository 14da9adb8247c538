// Shared pieces of the money pages (partners, contributions, transfers).

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { say } from '../ui.js';
import { hasRole, principal } from '../session.js';
import { regionName } from './queue.js';

// A message to say in #status once the next page has loaded (a page change
// clears #status first): set before ctx.navigate(), said by that page's load().
let notice = null;

export function carry(text) {
  notice = text;
}

export function sayCarried() {
  if (notice) say(notice, 'success');
  notice = null;
}

export function isStaff() {
  return hasRole('admin', 'auditor');
}

export function isAdmin() {
  return hasRole('admin');
}

export function myId() {
  const me = principal();
  return me ? me.principal_id : null;
}

export function fundOptions(funds, filter) {
  return (funds || []).filter(filter || (() => true)).map((f) => ({
    value: f.code, label: f.code + ' — ' + f.name + ' (' + f.currency + ')',
  }));
}

export function regionOptions(regions) {
  return (regions || []).map((r) => ({ value: r.region_code, label: regionName(regions, r.region_code, r.region) }));
}

export function code(text) {
  return h('span', { class: 'code' }, text);
}

// A plain warning above a form that does something that cannot be undone.
export function warning(text) {
  return h('p', { class: 'notice money-warning', role: 'note' },
    h('strong', null, t('money.warningLabel')), ' ', text);
}

// Buttons that open one of several forms at a time.
export function actionButtons(items, current, onPick) {
  return h('div', { class: 'actions money-actions' }, items.map((it) => h('button', {
    type: 'button',
    class: ['button', current === it.id ? null : 'secondary'],
    'data-test': it.test,
    'aria-expanded': current === it.id ? 'true' : 'false',
    on: { click: () => onPick(current === it.id ? null : it.id) },
  }, it.label)));
}

