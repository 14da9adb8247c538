// Pieces the privacy pages share: purposes, methods and bases in words, the
// retention period, erasure badges and who did something.

import { h } from '../dom.js';
import { t, lang } from '../i18n.js';
import { number } from '../format.js';
import { principal } from '../session.js';

// what a reading of personal data is for (docs/protocol.md, "Purposes and access events")
export const PURPOSES = ['case_management', 'payment', 'audit', 'data_subject_request'];
// what a consent may be given for, and by whom
export const CONSENT_FOR = ['case_management', 'payment'];
export const GIVERS = ['self', 'guardian', 'representative'];
export const KINDS = ['returnee', 'displaced', 'refugee', 'asylum_seeker'];
const BASES = ['retention', 'consent_ended', 'request'];
const ERASURE_STATES = ['pending', 'done', 'cancelled'];
// the methods whose answers hold personal data, so that leave access events
const METHODS = [
  'returnee.register', 'returnee.get', 'returnee.list', 'returnee.find', 'returnee.update',
  'returnee.history', 'returnee.export', 'grant.apply', 'grant.get', 'grant.list',
  'grant.update', 'grant.withdraw', 'grant.approve', 'grant.reject', 'grant.cancel',
  'grant.queue', 'grant.recuse',
];

export function purposeWords(p) {
  return PURPOSES.includes(p) ? t('privacy.purpose.' + p) : t('privacy.purpose.other', { purpose: String(p) });
}

// A method as what the reader did ("Opened the person's record"); a method not
// known here is named, inside a sentence (a bare "x.y" would read as a key).
export function methodWords(m) {
  return METHODS.includes(m) ? t('privacy.method.' + m.replace('.', '_')) : t('privacy.method.other', { method: String(m) });
}

export function basisWords(b) {
  return BASES.includes(b) ? t('privacy.basis.' + b) : String(b);
}

export function kindWords(k) {
  return KINDS.includes(k || 'returnee') ? t('returnee.kind.' + (k || 'returnee')) : String(k);
}

// "5 years" in the language: Intl where the browser knows the language's
// plural forms of a year, else the translation's own wording.
export function yearsText(n) {
  try {
    if (Intl.NumberFormat.supportedLocalesOf([lang()]).length) {
      return new Intl.NumberFormat(lang(), { style: 'unit', unit: 'year', unitDisplay: 'long' }).format(n);
    }
  } catch (e) { /* an engine without units: the translation's wording */ }
  return t('privacy.years', { years: number(n) });
}

export function erasureBadge(status) {
  const known = ERASURE_STATES.includes(status);
  // done looks like a finished thing, as a completed application does
  const look = status === 'done' ? 'completed' : status;
  return h('span', { class: 'badge badge-' + look, dataset: { status } },
    known ? t('privacy.erasure.status.' + status) : String(status));
}

export function myId() {
  const me = principal();
  return me ? me.principal_id : null;
}

// Who asked for or decided something: "you", the principal's id, or fundd
// itself (an erasure by retention has no principal).
export function who(pid) {
  if (!pid) return t('privacy.erasure.automatic');
  if (pid === myId()) return t('privacy.erasure.you');
  return h('span', { class: 'code' }, pid);
}
