// Pieces the privacy pages share: purposes, methods and bases in words, the
// retention period, erasure badges, who did something, and the fields of a
// consent (the register form of #/returnees and a person's page record one).

import { h, clear } from '../dom.js';
import { t, lang } from '../i18n.js';
import { number, todayUtc } from '../format.js';
import { principal } from '../session.js';
import { field } from '../ui.js';

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

// ---------------------------------------------------------------- recording a consent

// The fields of a consent, named after the params of returnee.register and
// returnee.update: a checkbox per purpose (consent_for_<purpose>, in a group
// marked as consent_for when the daemon names that param), consent_given_on
// (today unless changed), consent_given_by and consent_until. Ids are
// <prefix>-<param>. With noneNotice, a notice says, while no purpose is ticked,
// that no consent will be recorded (syncConsent keeps it so).
export function consentFields(prefix, { noneNotice = false } = {}) {
  const onTick = (ev) => syncConsent(ev.currentTarget.form);
  const purposes = h('fieldset', {
    id: prefix + '-consent_for', class: 'consent-for', 'data-field': 'consent_for',
  },
  h('legend', null, t('privacy.consent.forLabel')),
  CONSENT_FOR.map((p) => {
    const el = field({
      id: prefix + '-consent_for-' + p, name: 'consent_for_' + p, type: 'checkbox',
      label: t('privacy.purpose.' + p), help: t('privacy.consentForm.forHelp.' + p),
    });
    el.querySelector('input').addEventListener('change', onTick);
    return el;
  }));
  return h('fieldset', {
    class: 'consent-fields', 'data-test': 'consent-fields', 'aria-describedby': prefix + '-consent-help',
  },
  h('legend', null, t('privacy.consent.title')),
  h('p', { id: prefix + '-consent-help', class: 'help' }, t('privacy.consentForm.why')),
  purposes,
  field({
    id: prefix + '-consent_given_on', name: 'consent_given_on', type: 'date', label: t('privacy.consent.givenOn'),
    max: todayUtc(), value: todayUtc(), help: t('privacy.consentForm.givenOnHelp'),
  }),
  field({
    id: prefix + '-consent_given_by', name: 'consent_given_by', type: 'select', label: t('privacy.consent.givenBy'),
    value: 'self', options: GIVERS.map((g) => ({ value: g, label: t('privacy.consent.by.' + g) })),
  }),
  field({
    id: prefix + '-consent_until', name: 'consent_until', type: 'date', label: t('privacy.consent.until'),
    help: t('privacy.consentForm.untilHelp'),
  }),
  noneNotice ? h('div', { 'data-role': 'consent-none', 'aria-live': 'polite' }) : null);
}

// Shows, in a form drawn with consentFields(.., {noneNotice: true}), that no
// consent will be recorded while no purpose is ticked.
export function syncConsent(form) {
  const slot = form && form.querySelector('[data-role="consent-none"]');
  if (!slot) return;
  const ticked = CONSENT_FOR.some((p) => {
    const c = form.elements.namedItem('consent_for_' + p);
    return c && c.checked;
  });
  const shown = !!slot.firstChild;
  if (ticked && shown) clear(slot);
  if (!ticked && !shown) {
    slot.append(h('p', { class: 'notice', 'data-test': 'no-consent-notice' }, t('privacy.consentForm.noneNotice')));
  }
}

// The consent params of a form drawn with consentFields: none while no
// purpose is ticked (nothing is recorded), unless always is set (then the
// daemon says what is missing, at its field).
export function consentParams(values, { always = false } = {}) {
  const purposes = CONSENT_FOR.filter((p) => values['consent_for_' + p] === true);
  if (!purposes.length && !always) return {};
  const out = {};
  if (purposes.length) out.consent_for = purposes;
  for (const k of ['consent_given_on', 'consent_given_by', 'consent_until']) {
    if (values[k]) out[k] = values[k];
  }
  return out;
}
