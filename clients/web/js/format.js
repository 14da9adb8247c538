// Numbers, money and dates for the current language, with Intl.
// Money arrives as a decimal string ("1250.00", "-12.34", "1250" for JPY) and
// is never turned into a float: the integer part is grouped by Intl from a
// BigInt, the fraction digits are kept as they are, and both are put into the
// shape (sign, symbol, separators) Intl gives the currency in that language.

import { lang } from './i18n.js';

// A browser without a language's locale data (Chromium has none for Armenian) formats
// with a locale of the same conventions: Armenian writes numbers and money as Russian
// does ("1 234,50 €"), and dates, whose month names it would lack, as digits (05.12.2026).
const SAME_NUMBERS = { hy: 'ru' };

function locale() {
  const l = lang();
  return Intl.NumberFormat.supportedLocalesOf([l]).length ? l : (SAME_NUMBERS[l] || 'en');
}

function numericDates() {
  return Intl.DateTimeFormat.supportedLocalesOf([lang()]).length === 0;
}

const cache = new Map();
function nf(options) {
  const key = lang() + '|' + JSON.stringify(options);
  let f = cache.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale(), options);
    cache.set(key, f);
  }
  return f;
}

const MONEY_RE = /^(-?)(\d+)(?:\.(\d+))?$/;

function localDigits(digits) {
  const f = nf({ useGrouping: false, maximumFractionDigits: 0 });
  let out = '';
  for (const ch of digits) out += f.format(Number(ch));
  return out;
}

// money('1234567.05', 'EUR') -> "€1,234,567.05" (en), "1 234 567,05 €" (ru)
export function money(amount, currency) {
  if (amount === null || amount === undefined || amount === '') return '';
  const text = String(amount);
  const m = MONEY_RE.exec(text);
  if (!m || !/^[A-Z]{3}$/.test(currency || '')) {
    return currency ? text + '\u00a0' + currency : text;
  }
  const [, sign, intDigits, frac = ''] = m;
  try {
    const shape = nf({
      style: 'currency',
      currency,
      minimumFractionDigits: frac.length,
      maximumFractionDigits: frac.length,
    });
    const negative = sign === '-' && /[1-9]/.test(intDigits + frac);
    const grouped = nf({ maximumFractionDigits: 0 }).format(BigInt(intDigits));
    let out = '';
    let intDone = false;
    for (const part of shape.formatToParts(negative ? -1 : 1)) {
      if (part.type === 'integer' || part.type === 'group') {
        if (!intDone) out += grouped;
        intDone = true;
      } else if (part.type === 'fraction') {
        out += localDigits(frac);
      } else {
        out += part.value;
      }
    }
    return out;
  } catch (e) {
    return text + '\u00a0' + currency;
  }
}

export function number(n) {
  if (n === null || n === undefined || n === '') return '';
  if (typeof n === 'string' && /^\d+$/.test(n)) return nf({}).format(BigInt(n));
  return nf({}).format(n);
}

// RFC 3339 with up to six decimals, or YYYY-MM-DD. Microseconds are cut to
// milliseconds before Date parses them (every engine takes three).
function parseTime(value) {
  if (!value) return null;
  const text = String(value).replace(/(\.\d{3})\d+/, '$1');
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d;
}

// Today as YYYY-MM-DD, the UTC day (the books' days are UTC days).
export function todayUtc() {
  return new Date().toISOString().slice(0, 10);
}

// Dates are shown as the UTC day: the books' value dates are UTC days.
export function date(value) {
  const d = parseTime(value);
  if (!d) return value ? String(value) : '';
  if (numericDates()) {
    return new Intl.DateTimeFormat(locale(), {
      day: '2-digit', month: '2-digit', year: 'numeric', timeZone: 'UTC',
    }).format(d);
  }
  return new Intl.DateTimeFormat(lang(), { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}

export function dateTime(value) {
  const d = parseTime(value);
  if (!d) return value ? String(value) : '';
  if (numericDates()) {
    return new Intl.DateTimeFormat(locale(), {
      day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit',
      timeZone: 'UTC',
    }).format(d) + ' UTC';
  }
  return new Intl.DateTimeFormat(lang(), {
    year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', timeZone: 'UTC', timeZoneName: 'short',
  }).format(d);
}

// A country (ISO 3166-1 alpha-2) as "Russia (RU)" where the browser knows the
// language's country names, else its code.
export function countryName(code) {
  if (!code) return '';
  try {
    if (typeof Intl.DisplayNames === 'function' && Intl.DisplayNames.supportedLocalesOf([lang()]).length) {
      const name = new Intl.DisplayNames([lang()], { type: 'region' }).of(code);
      if (name && name !== code) return name + ' (' + code + ')';
    }
  } catch (e) { /* an unknown code: shown as it is */ }
  return code;
}

// A list of words joined the language's way ("admin, approver and auditor").
export function list(items) {
  if (typeof Intl.ListFormat === 'function' &&
      Intl.ListFormat.supportedLocalesOf([lang()]).length) {
    return new Intl.ListFormat(lang(), { style: 'long', type: 'conjunction' }).format(items);
  }
  return items.join(', ');
}
