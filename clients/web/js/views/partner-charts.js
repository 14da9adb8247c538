// The dashboard's charts, for one fund at a time over a period:
//   fund.history                           -> a figure at the end of each day, week or month
//   report.grants by ["region"], ["category"] (fund=) -> grants of the period
//   report.contributions by ["partner_country"] (fund=; admin, auditor) -> money received
// One fund has one currency; report rows are still drawn one chart per currency, so that
// money of different currencies is never added or compared on one scale.

import { h, clear, nextId } from '../dom.js';
import { t } from '../i18n.js';
import { money } from '../format.js';
import { clearFields, describe, markFields } from '../errors.js';
import { hasRole } from '../session.js';
import { say } from '../ui.js';
import { columnChart } from '../chart.js';
import { countryLabel, monthsAgo, regionLabel, reportCharts, today } from './partner-util.js';

export const HISTORY_FIGURES = ['available', 'received', 'committed', 'disbursed'];
const GRAINS = ['month', 'week', 'day'];
export const GRANT_MEASURES = [
  { key: 'requested', money: true },
  { key: 'committed', money: true },
  { key: 'disbursed', money: true },
  { key: 'grants', money: false },
];

// ctx: the page's ctx; getFunds(): the funds (fund.list); getRegions(): region.list's
export function createCharts(ctx, { getFunds, getRegions }) {
  const state = {
    fund: null, from: monthsAgo(11), to: today(), grain: 'month', figure: 'available',
    measure: 'requested', loading: false, error: null, result: null, gen: 0,
    chosen: false, // the user chose (a fund or none): no default replaces it
  };
  const withContributions = hasRole('admin', 'auditor');
  let output = null; // the element the charts go in, kept across loads
  let form = null;

  async function load() {
    if (!state.fund) {
      state.result = null;
      state.error = null;
      redrawOutput();
      return;
    }
    state.gen += 1;
    const gen = state.gen;
    state.loading = true;
    state.error = null;
    redrawOutput();
    const range = { from: state.from, to: state.to };
    const calls = [
      { method: 'fund.history', params: { code: state.fund, ...range, grain: state.grain } },
      { method: 'report.grants', params: { ...range, fund: state.fund, by: ['region'] } },
      { method: 'report.grants', params: { ...range, fund: state.fund, by: ['category'] } },
    ];
    if (withContributions) {
      calls.push({ method: 'report.contributions', params: { ...range, fund: state.fund, by: ['partner_country'] } });
    }
    let answers = null;
    let error = null;
    try {
      answers = await ctx.rpc.batch(calls);
      const failed = answers.find((a) => a.error);
      if (failed) error = failed.error;
    } catch (err) {
      error = err;
    }
    if (gen !== state.gen) return;
    state.loading = false;
    if (error) {
      state.error = error;
      state.result = null;
    } else {
      state.result = {
        fund: state.fund, figure: state.figure, measure: state.measure,
        history: answers[0].result,
        byRegion: answers[1].result,
        byCategory: answers[2].result,
        byCountry: withContributions ? answers[3].result : null,
      };
    }
    redrawOutput();
    // what the user asked for is said in #status; the first, automatic, load is not
    if (state.chosen && !(error && error.unauthenticated)) {
      say(error ? describe(error) : t('charts.loaded', { fund: state.fund }), error ? 'error' : 'info');
    }
    if (form && form.isConnected) {
      clearFields(form);
      if (error && !error.unauthenticated) markFields(form, error);
    }
  }

  // The first time a fund is known (the first with money), the charts load for it.
  function chooseDefault(code) {
    if (state.fund || state.chosen || !code) return;
    state.fund = code;
    if (form && form.isConnected) form.elements.namedItem('fund').value = code;
    load();
  }

  function onSubmit(ev) {
    ev.preventDefault();
    state.chosen = true;
    const el = ev.currentTarget.elements;
    state.fund = el.namedItem('fund').value || null;
    state.from = el.namedItem('from').value;
    state.to = el.namedItem('to').value;
    state.grain = el.namedItem('grain').value;
    state.figure = el.namedItem('figure').value;
    state.measure = el.namedItem('measure').value;
    load();
  }

  function select(id, name, label, options, value) {
    return h('div', { class: 'field' },
      h('label', { for: id }, label),
      h('select', { id, name, 'data-test': 'chart-' + name },
        options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label))));
  }

  function input(id, name, label, value) {
    return h('div', { class: 'field' },
      h('label', { for: id }, label),
      h('input', { id, name, type: 'date', value, required: true, 'data-test': 'chart-' + name }));
  }

  function drawForm() {
    const funds = getFunds();
    const titleId = nextId('charts-form');
    form = h('form', {
      class: 'filters chart-form', 'data-test': 'chart-form', 'aria-labelledby': titleId, novalidate: true,
      on: { submit: onSubmit },
    },
    h('h3', { id: titleId, class: 'sr-only' }, t('charts.formTitle')),
    select('chart-fund', 'fund', t('charts.fund'),
      [{ value: '', label: t('charts.chooseFund') },
        ...funds.map((f) => ({ value: f.code, label: f.code + ' — ' + f.name }))], state.fund || ''),
    input('chart-from', 'from', t('charts.from'), state.from),
    input('chart-to', 'to', t('charts.to'), state.to),
    select('chart-grain', 'grain', t('charts.grain'),
      GRAINS.map((g) => ({ value: g, label: t('charts.grains.' + g) })), state.grain),
    select('chart-figure', 'figure', t('charts.figure'),
      HISTORY_FIGURES.map((f) => ({ value: f, label: t('dashboard.col.' + f) })), state.figure),
    select('chart-measure', 'measure', t('charts.measure'),
      GRANT_MEASURES.map((m) => ({ value: m.key, label: t('charts.measures.' + m.key) })), state.measure),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'button', 'data-test': 'chart-apply' }, t('charts.show'))));
    if (state.error && !state.error.unauthenticated) markFields(form, state.error);
    return form;
  }

  function historyChart(r) {
    const hist = r.history;
    const fig = columnChart({
      title: t('charts.history.' + r.figure, { fund: hist.code, currency: hist.currency }),
      test: 'chart-history',
      labelHead: t('charts.period'),
      valueHead: t('dashboard.col.' + r.figure),
      rows: (hist.points || []).map((p) => ({
        label: p.period, value: p[r.figure], text: money(p[r.figure], hist.currency),
      })),
    });
    // under many narrow columns, every n-th period is named in the drawing (its table
    // names them all)
    const labels = [...fig.querySelectorAll('svg .chart-label')];
    const every = Math.ceil(labels.length / 12);
    labels.forEach((el, i) => { if (i % every) el.remove(); });
    fig.dataset.fund = hist.code;
    fig.dataset.figure = r.figure;
    return fig;
  }

  function drawResult() {
    const r = state.result;
    const measure = GRANT_MEASURES.find((m) => m.key === r.measure) || GRANT_MEASURES[0];
    const regions = getRegions();
    const measureName = t('charts.measures.' + measure.key);
    const parts = [
      historyChart(r),
      h('h3', null, t('charts.grantsTitle')),
      ...reportCharts({
        rows: r.byRegion.rows, measure, test: 'chart-grants-region',
        label: (row) => regionLabel(regions, { name: row.region }),
        title: (cur) => t('charts.byRegion', { fund: r.fund, measure: measureName, currency: cur }),
        labelHead: t('charts.region'), valueHead: measureName,
      }),
      ...reportCharts({
        rows: r.byCategory.rows, measure, test: 'chart-grants-category',
        label: (row) => t('category.' + row.category),
        title: (cur) => t('charts.byCategory', { fund: r.fund, measure: measureName, currency: cur }),
        labelHead: t('charts.category'), valueHead: measureName,
      }),
    ];
    if (r.byCountry) {
      parts.push(h('h3', null, t('charts.contributionsTitle')),
        ...reportCharts({
          rows: r.byCountry.rows, currencyMember: 'fund_currency', measure: { key: 'received', money: true },
          test: 'chart-contributions-country',
          label: (row) => countryLabel(row.partner_country),
          title: (cur) => t('charts.byCountry', { fund: r.fund, currency: cur }),
          labelHead: t('charts.country'), valueHead: t('charts.received'),
        }));
    }
    return parts;
  }

  function outputContent() {
    if (!state.fund) return h('p', { class: 'help', 'data-test': 'charts-waiting' }, t('charts.noFund'));
    if (state.loading) return h('p', { class: 'loading', 'data-test': 'charts-loading' }, t('charts.loading'));
    if (state.error) {
      return h('div', { class: 'error-panel', 'data-test': 'charts-error' },
        h('p', { class: 'error-text' }, describe(state.error)));
    }
    if (!state.result) return null;
    return drawResult();
  }

  function fillOutput() {
    clear(output).append(...[outputContent()].flat().filter(Boolean));
    output.setAttribute('aria-busy', state.loading ? 'true' : 'false');
  }

  function redrawOutput() {
    if (output && output.isConnected) fillOutput();
  }

  function draw() {
    output = h('div', { class: 'charts', 'data-test': 'charts' });
    fillOutput();
    return h('section', { class: 'part', 'aria-labelledby': 'charts-title', 'data-test': 'charts-part' },
      h('h2', { id: 'charts-title' }, t('charts.title')),
      h('p', { class: 'help' }, t('charts.intro')),
      drawForm(),
      output);
  }

  return { draw, chooseDefault, state };
}
