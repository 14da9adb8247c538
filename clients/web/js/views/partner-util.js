// Shared pieces of the partner part's pages (dashboard charts, #/use, #/results):
// exact decimal sums, region and country names, default periods, and charts of a
// report's rows, one per currency.

import { h } from '../dom.js';
import { t, lang } from '../i18n.js';
import { money, number } from '../format.js';
import { barChart, columnChart } from '../chart.js';
import { getToken } from '../session.js';
import { RpcError } from '../rpc.js';

// ---------------------------------------------------------------- exact money

const DEC_RE = /^(-?)(\d+)(?:\.(\d+))?$/;

function parseDec(text) {
  const m = DEC_RE.exec(String(text));
  if (!m) return null;
  const [, sign, int, frac = ''] = m;
  const v = BigInt(int + frac);
  return { v: sign ? -v : v, scale: frac.length };
}

// addMoney('1.50', '2.25') -> '3.75': decimal strings summed exactly (BigInt), never
// as floats. A value that is not a decimal string counts as nothing.
export function addMoney(a, b) {
  const pa = parseDec(a ?? '0') || { v: 0n, scale: 0 };
  const pb = parseDec(b ?? '0') || { v: 0n, scale: 0 };
  const scale = Math.max(pa.scale, pb.scale);
  const v = pa.v * 10n ** BigInt(scale - pa.scale) + pb.v * 10n ** BigInt(scale - pb.scale);
  const neg = v < 0n;
  let digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  if (scale) digits = digits.slice(0, -scale) + '.' + digits.slice(-scale);
  return (neg ? '-' : '') + digits;
}

export function isZero(amount) {
  const p = parseDec(amount ?? '0');
  return !p || p.v === 0n;
}

// ---------------------------------------------------------------- names

// A region's name in the current language: reports name it in English (`region`), other
// answers also by code (`region_code`); region.list has the names in each language.
export function regionLabel(regions, { code, name }) {
  const r = (regions || []).find((x) => (code && x.region_code === code) || (name && x.region === name));
  if (r && r.names && r.names[lang()]) return r.names[lang()];
  return (r && r.region) || name || code || t('charts.noRegion');
}

// A country (ISO 3166-1 alpha-2) by name where the browser has the language's names, else
// its code.
export function countryLabel(code) {
  if (!code) return t('charts.noCountry');
  try {
    if (typeof Intl.DisplayNames === 'function' &&
        Intl.DisplayNames.supportedLocalesOf([lang()]).length) {
      const name = new Intl.DisplayNames([lang()], { type: 'region' }).of(code);
      if (name && name !== code) return name + ' (' + code + ')';
    }
  } catch (e) { /* an unknown code: the code itself */ }
  return code;
}

// ---------------------------------------------------------------- dates

function iso(d) {
  return d.toISOString().slice(0, 10);
}

export function today() {
  return iso(new Date());
}

// The first day of the month `months` months before this one (UTC).
export function monthsAgo(months) {
  const d = new Date();
  return iso(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - months, 1)));
}

export function yearStart() {
  return new Date().getUTCFullYear() + '-01-01';
}

// ---------------------------------------------------------------- report charts

// Groups rows by their currency member, keeping the order they came in.
export function byCurrency(rows, member = 'currency') {
  const groups = new Map();
  for (const r of rows || []) {
    const cur = r[member] || '';
    if (!groups.has(cur)) groups.set(cur, []);
    groups.get(cur).push(r);
  }
  return groups;
}

// One chart per currency of a report's rows. measure: {key, money: bool}; label(row):
// the row's label; kind: 'bar' | 'column'; suppressedText: what a hidden cell says.
export function reportCharts({ rows, currencyMember = 'currency', measure, label, title, test,
  labelHead, valueHead, kind = 'bar', suppressedText }) {
  const groups = byCurrency(rows, currencyMember);
  if (!groups.size) return [h('p', { class: 'empty', 'data-test': test + '-empty' }, t('charts.empty'))];
  const out = [];
  for (const [currency, list] of groups) {
    const chartRows = list.map((r) => {
      const hidden = r.suppressed === true || r[measure.key] === null || r[measure.key] === undefined;
      let text;
      if (hidden) text = suppressedText || t('charts.none');
      else text = measure.money ? money(r[measure.key], currency) : number(r[measure.key]);
      return { label: label(r), value: hidden ? 0 : r[measure.key], text };
    });
    const make = kind === 'column' ? columnChart : barChart;
    const fig = make({
      title: title(currency), test, rows: chartRows, labelHead, valueHead,
    });
    fig.dataset.currency = currency;
    out.push(fig);
  }
  return out;
}

// ---------------------------------------------------------------- files

// Saves what GET url answers (an export: docs/protocol.md, "The exports") as a file,
// with the session's bearer token (none when the browser's client certificate signs in).
// A refusal is thrown as an RpcError (the body is the JSON-RPC error).
export async function saveFile(rpc, url, filename) {
  const token = getToken();
  let res;
  try {
    res = await fetch(url, {
      headers: token ? { Authorization: 'Bearer ' + token } : {}, cache: 'no-store', redirect: 'error',
    });
  } catch (e) {
    throw new RpcError(null, String(e && e.message), { reason: 'network' });
  }
  if (!res.ok) {
    let body = null;
    try { body = await res.json(); } catch (e) { /* not JSON */ }
    const e = body && (body.error || body);
    if (res.status === 401) rpc.call('system.whoami').catch(() => {}); // the console signs out and says why
    if (e && typeof e.code === 'number') throw new RpcError(e.code, e.message, e.data, res.status);
    throw new RpcError(null, 'HTTP ' + res.status, { reason: 'http_status', status: res.status }, res.status);
  }
  let blob;
  try {
    blob = await res.blob();
  } catch (e) {
    // an export cut off half-way is never saved in part
    throw new RpcError(null, String(e && e.message), { reason: 'network' });
  }
  const href = URL.createObjectURL(blob);
  const a = h('a', { href, download: filename, class: 'sr-only', tabindex: '-1' }, filename);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 30000);
  return blob.size;
}
