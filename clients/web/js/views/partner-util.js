// Shared pieces of the partner part's pages (dashboard charts, #/use, #/results):
// exact decimal sums, region and country names, default periods, and charts of a
// report's rows, one per currency.

import { h } from '../dom.js';
import { t, lang } from '../i18n.js';
import { countryName, money, number } from '../format.js';
import { barChart, columnChart } from '../chart.js';

// ---------------------------------------------------------------- names

// A region's name in the current language: reports name it in English (`region`), other
// answers also by code (`region_code`); region.list has the names in each language.
export function regionLabel(regions, { code, name }) {
  const r = (regions || []).find((x) => (code && x.region_code === code) || (name && x.region === name));
  if (r && r.names && r.names[lang()]) return r.names[lang()];
  return (r && r.region) || name || code || t('charts.noRegion');
}

// A donor's country in a chart: its name and code, or "no country".
export function countryLabel(code) {
  return code ? countryName(code) : t('charts.noCountry');
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

