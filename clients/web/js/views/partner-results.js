// #/results (partner, admin, approver, auditor): the programme's results, report.grants
// over a period (from, to), by region, category and/or quarter, for every fund or one; a
// table, the totals per currency and a chart per currency. For a partner (who reads the
// programme as a whole, or one fund of it) the daemon
// suppresses small cells (docs/reports.md, "Privacy"): a suppressed cell is said in words,
// with the size under which groups are hidden (min_cell).
// The page's params: #/results?from=YYYY-MM-DD&to=YYYY-MM-DD&by=region,category&fund=CODE

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { money, number } from '../format.js';
import { describe, errorPanel } from '../errors.js';
import { referenceData } from '../session.js';
import { field, filterForm, loading, pageHeading, say, section, table } from '../ui.js';
import { monthsAgo, regionLabel, reportCharts, today } from './partner-util.js';
import { download } from '../files.js';

const DIMENSIONS = ['region', 'category', 'quarter'];
const MEASURES = [
  { key: 'grants', money: false },
  { key: 'beneficiaries', money: false },
  { key: 'requested', money: true },
  { key: 'committed', money: true },
  { key: 'disbursed', money: true },
];
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export const resultsView = {
  id: 'results',
  path: '/results',
  titleKey: 'results.title',
  navKey: 'results.nav',
  roles: ['partner', 'admin', 'approver', 'auditor'],
  create(ctx) {
    const p = ctx.params();
    const by = (p.get('by') === null ? 'region' : p.get('by')).split(',').filter((d) => DIMENSIONS.includes(d));
    const state = {
      loading: true, error: null, filterError: null, report: null, ref: null,
      from: DATE_RE.test(p.get('from') || '') ? p.get('from') : monthsAgo(11),
      to: DATE_RE.test(p.get('to') || '') ? p.get('to') : today(),
      by,
      fund: p.get('fund') || '',
      chart: MEASURES.some((m) => m.key === p.get('measure')) ? p.get('measure') : 'disbursed',
      dl: { busy: false, error: null },
    };

    async function load(announce = false) {
      state.loading = true;
      state.error = null;
      try {
        if (!state.ref) state.ref = await referenceData(ctx.rpc);
        const params = { from: state.from, to: state.to, by: state.by };
        if (state.fund) params.fund = state.fund;
        state.report = await ctx.rpc.call('report.grants', params);
        state.shown = { from: params.from, to: params.to, fund: params.fund || '' };
        state.filterError = null;
        if (announce) say(t('results.loaded', { count: number(state.report.rows.length) }));
      } catch (err) {
        state.report = null;
        if (err.code === -32602 || err.code === -32004) state.filterError = err;
        else state.error = err;
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.loading = false;
    }

    // short in the table (the note above it says why); the chart says it in full
    function hidden() {
      return h('span', { class: 'suppressed', 'data-test': 'suppressed-cell' }, t('results.hidden'));
    }

    function measureCell(key, isMoney) {
      return (row) => {
        if (row.suppressed || row[key] === null || row[key] === undefined) return hidden();
        return isMoney ? money(row[key], row.currency) : number(row[key]);
      };
    }

    function dimLabel(dim, row) {
      if (dim === 'region') return regionLabel(state.ref ? state.ref.regions : [], { name: row.region });
      if (dim === 'category') return row.category ? t('category.' + row.category) : t('results.none');
      return row[dim] || t('results.none');
    }

    function rowLabel(row) {
      return state.report.by.map((d) => dimLabel(d, row)).join(' · ');
    }

    function measureColumns() {
      return [
        { key: 'currency', label: t('results.col.currency'), cell: (r) => r.currency },
        ...MEASURES.map((m) => ({
          key: m.key, num: true, label: t('results.col.' + m.key), cell: measureCell(m.key, m.money),
        })),
      ];
    }

    function form() {
      // (the session's fund list may predate a fund the page was opened for)
      const funds = state.ref ? [...state.ref.funds] : [];
      if (state.fund && !funds.some((f) => f.code === state.fund)) funds.unshift({ code: state.fund, name: '' });
      return filterForm({
        test: 'results-filters',
        error: state.filterError,
        onApply: (el) => {
          state.from = el.namedItem('from').value;
          state.to = el.namedItem('to').value;
          state.by = DIMENSIONS.filter((d) => el.namedItem('by_' + d).checked);
          state.chart = el.namedItem('measure').value;
          state.fund = el.namedItem('fund').value;
          ctx.refresh();
        },
        fields: [
          field({ id: 'results-from', name: 'from', type: 'date', label: t('results.from'), value: state.from, required: true }),
          field({ id: 'results-to', name: 'to', type: 'date', label: t('results.to'), value: state.to, required: true }),
          field({
            id: 'results-fund', name: 'fund', type: 'select', label: t('filters.fund'), anyLabel: t('results.allFunds'),
            value: state.fund, options: funds.map((f) => ({ value: f.code, label: f.name ? f.code + ' — ' + f.name : f.code })),
          }),
          h('fieldset', { class: 'field dims', 'data-test': 'results-by' },
            h('legend', null, t('results.by')),
            DIMENSIONS.map((d) => field({
              id: 'results-by-' + d, name: 'by_' + d, type: 'checkbox', label: t('results.dim.' + d),
              value: state.by.includes(d),
            }))),
          field({
            id: 'results-measure', name: 'measure', type: 'select', label: t('results.chartOf'), value: state.chart,
            options: MEASURES.map((m) => ({ value: m.key, label: t('results.col.' + m.key) })),
          }),
        ],
      });
    }

    // The same report as a file (GET /export/report), for the period and grouping shown.
    async function downloadAs(format) {
      if (state.dl.busy) return;
      const q = new URLSearchParams({ name: 'grants', format, from: state.shown.from, to: state.shown.to });
      if (state.report.by.length) q.set('by', state.report.by.join(','));
      if (state.shown.fund) q.set('fund', state.shown.fund);
      const file = 'grants-' + q.get('from') + '-' + q.get('to') + '.' + format;
      state.dl = { busy: true, error: null };
      ctx.redraw();
      say(t('results.downloading', { file }));
      try {
        await download(ctx.rpc, '/export/report?' + q.toString(), file);
        state.dl = { busy: false, error: null };
        say(t('results.downloaded', { file }), 'success');
      } catch (err) {
        state.dl = { busy: false, error: err };
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      ctx.redraw();
    }

    function downloads() {
      const button = (format, label) => h('button', {
        type: 'button', class: 'button secondary', 'data-test': 'download-' + format,
        'aria-disabled': state.dl.busy ? 'true' : null, on: { click: () => downloadAs(format) },
      }, label);
      return h('div', { class: 'actions results-downloads', 'data-test': 'results-downloads' },
        button('csv', t('results.downloadCsv')),
        button('xlsx', t('results.downloadXlsx')),
        state.dl.error && !state.dl.error.unauthenticated
          ? h('p', { class: 'error-text', role: 'alert', 'data-test': 'download-error' }, describe(state.dl.error)) : null);
    }

    function reportParts() {
      const r = state.report;
      const parts = [];
      if (r.min_cell !== undefined && r.min_cell !== null) {
        parts.push(h('div', { class: 'note privacy-note', 'data-test': 'privacy-note' },
          h('p', null, t('results.privacy', { n: number(r.min_cell) })),
          h('p', { 'data-test': 'suppressed-count' }, t('results.suppressedCount', { count: number(r.suppressed || 0) }))));
      }
      parts.push(downloads());
      if (r.by.length) {
        parts.push(table({
          test: 'results-table',
          caption: t('results.caption', { from: state.from, to: state.to }),
          empty: t('results.empty'),
          rows: r.rows,
          rowAttrs: (row) => ({
            'data-test': 'results-row',
            dataset: { suppressed: row.suppressed ? 'true' : 'false', key: r.by.map((d) => row[d]).join('|') },
          }),
          columns: [
            ...r.by.map((d) => ({ key: d, label: t('results.dim.' + d), cell: (row) => dimLabel(d, row) })),
            ...measureColumns(),
          ],
        }));
      }
      parts.push(section(t('results.totals'), 'results-totals-part', table({
        test: 'results-totals',
        caption: t('results.totalsCaption'),
        empty: t('results.empty'),
        rows: r.totals || [],
        rowAttrs: (row) => ({ 'data-test': 'totals-row', dataset: { currency: row.currency, suppressed: row.suppressed ? 'true' : 'false' } }),
        columns: measureColumns(),
      })));
      if (r.by.length && r.rows.length) {
        const measure = MEASURES.find((m) => m.key === state.chart) || MEASURES[0];
        const name = t('results.col.' + measure.key);
        parts.push(section(t('results.chartTitle'), 'results-chart-part',
          reportCharts({
            rows: r.rows, measure, test: 'results-chart',
            kind: r.by.length === 1 && r.by[0] === 'quarter' ? 'column' : 'bar',
            label: rowLabel,
            title: (cur) => t('results.chartCaption', { measure: name, currency: cur }),
            labelHead: r.by.map((d) => t('results.dim.' + d)).join(' · '),
            valueHead: name,
            suppressedText: r.min_cell ? t('results.hiddenUnder', { n: number(r.min_cell) }) : t('results.hidden'),
          })));
      }
      return parts;
    }

    return {
      load,
      draw(root) {
        root.append(pageHeading(t('results.title')));
        root.append(h('p', { class: 'intro' }, t('results.intro')));
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (state.ref) root.append(form());
        if (state.loading && !state.report) { root.append(loading()); return; }
        if (state.report) root.append(...reportParts());
      },
    };
  },
};
