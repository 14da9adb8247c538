// #/use (partner): what my contributions paid for.
//   contribution.list (all pages; partner scoping gives the partner's own only)
//   contribution.status of each, in batches (ctx.rpc.batch: 100 a request)
// What was used and what is left, and where the money went, by region and by category,
// summed over every contribution per currency (the fund's), never across currencies; then
// each contribution with its allocations. A grant appears by region, category and amount
// only: never a person (contribution.status gives no more).

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { money, number, date } from '../format.js';
import { describe, errorPanel } from '../errors.js';
import { referenceData } from '../session.js';
import { barChart } from '../chart.js';
import { details, loading, pageHeading, say, section, statusBadge, table } from '../ui.js';
import { regionLabel } from './partner-util.js';
import { sum } from '../decimal.js';

const LIST_LIMIT = 1000;
const MAX_PAGES = 20;

// The sums per currency: {currency, used, unused, regions: Map, categories: Map}
function summarise(statuses) {
  const byCur = new Map();
  function cur(c) {
    if (!byCur.has(c)) byCur.set(c, { currency: c, used: '0', unused: '0', regions: new Map(), categories: new Map(), count: 0 });
    return byCur.get(c);
  }
  function allocate(total, a) {
    const rk = a.region_code || a.region || '';
    const r = total.regions.get(rk) || { code: a.region_code, name: a.region, amount: '0' };
    r.amount = sum([r.amount, a.amount]);
    total.regions.set(rk, r);
    const c = total.categories.get(a.category) || { category: a.category, amount: '0' };
    c.amount = sum([c.amount, a.amount]);
    total.categories.set(a.category, c);
  }
  for (const s of statuses) {
    if (!s) continue;
    const total = cur(s.fund_currency);
    total.count += 1;
    total.used = sum([total.used, s.used]);
    total.unused = sum([total.unused, s.unused]);
    for (const a of s.allocations || []) allocate(total, a);
    // an endowment's share of a transfer out: the grants it financed, in the destination's currency
    for (const tr of s.transfers || []) {
      for (const a of tr.allocations || []) allocate(cur(tr.to_currency), a);
    }
  }
  return [...byCur.values()];
}

export const useView = {
  id: 'use',
  path: '/use',
  titleKey: 'use.title',
  navKey: 'use.nav',
  roles: ['partner'],
  create(ctx) {
    const state = { loading: true, error: null, regions: [], rows: [] };

    async function load(announce = false) {
      state.loading = true;
      state.error = null;
      try {
        const ref = await referenceData(ctx.rpc);
        state.regions = ref.regions;
        let contributions = [];
        let cursor = null;
        for (let i = 0; i < MAX_PAGES; i += 1) {
          const params = { limit: LIST_LIMIT };
          if (cursor) params.cursor = cursor;
          const res = await ctx.rpc.call('contribution.list', params);
          contributions = contributions.concat(res.contributions || []);
          cursor = res.next_cursor;
          if (!cursor) break;
        }
        const answers = await ctx.rpc.batch(contributions.map((c) => ({
          method: 'contribution.status', params: { contribution_id: c.contribution_id },
        })));
        state.rows = contributions.map((c, i) => ({
          contribution: c,
          status: answers[i].result || null,
          error: answers[i].error || null,
        }));
        if (announce) say(t('use.loaded', { count: number(contributions.length) }));
      } catch (err) {
        state.error = err;
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.loading = false;
    }

    function summaryPart(total) {
      const regions = [...total.regions.values()];
      const categories = [...total.categories.values()];
      const part = section(t('use.summaryTitle', { currency: total.currency }), 'use-summary',
        details([
          [t('use.used'), money(total.used, total.currency), 'used'],
          [t('use.unused'), money(total.unused, total.currency), 'unused'],
        ], 'use-totals'),
        regions.length || categories.length ? [
          barChart({
            title: t('use.byRegion', { currency: total.currency }),
            test: 'use-by-region',
            labelHead: t('use.col.region'),
            valueHead: t('use.col.amount'),
            rows: regions.map((r) => ({
              label: regionLabel(state.regions, { code: r.code, name: r.name }),
              value: r.amount, text: money(r.amount, total.currency),
            })),
          }),
          barChart({
            title: t('use.byCategory', { currency: total.currency }),
            test: 'use-by-category',
            labelHead: t('use.col.category'),
            valueHead: t('use.col.amount'),
            rows: categories.map((c) => ({
              label: t('category.' + c.category), value: c.amount, text: money(c.amount, total.currency),
            })),
          }),
        ] : h('p', { class: 'empty', 'data-test': 'use-nothing-yet' }, t('use.nothingYet')));
      part.dataset.currency = total.currency;
      return part;
    }

    function allocationTable(allocs, currency, caption) {
      return table({
        test: 'allocations-table',
        caption,
        empty: t('use.noAllocations'),
        rows: allocs,
        rowAttrs: (a) => ({ 'data-test': 'allocation-row', dataset: { grantId: a.grant_id } }),
        columns: [
          { key: 'region', label: t('use.col.region'), cell: (a) => regionLabel(state.regions, { code: a.region_code, name: a.region }) },
          { key: 'category', label: t('use.col.category'), cell: (a) => t('category.' + a.category) },
          { key: 'amount', num: true, label: t('use.col.amount'), cell: (a) => money(a.amount, currency) },
        ],
      });
    }

    function contributionPart(row) {
      const c = row.contribution;
      const s = row.status;
      const when = date(c.received_at || c.pledged_at || c.created_at);
      const head = h('h3', null, t('use.contributionTitle', { id: c.contribution_id, fund: c.fund, date: when }));
      let body;
      if (row.error) {
        body = h('p', { class: 'error-text' }, describe(row.error));
      } else {
        const cur = s.fund_currency;
        const pairs = [
          [t('use.col.amount'), money(c.amount, c.currency), 'amount'],
          c.currency !== cur ? [t('use.fundAmount'), money(c.fund_amount, cur), 'fund_amount'] : [null, null],
          [t('use.col.status'), statusBadge('use.status', s.status), 'status'],
          s.capital_kept !== undefined && s.capital_kept !== null
            ? [t('use.capitalKept'), money(s.capital_kept, cur), 'capital_kept'] : [null, null],
          s.earnings_share !== undefined && s.earnings_share !== null
            ? [t('use.earningsShare'), money(s.earnings_share, cur), 'earnings_share'] : [null, null],
          [t('use.used'), money(s.used, cur), 'used'],
          [t('use.unused'), money(s.unused, cur), 'unused'],
        ].filter(([label]) => label);
        body = [
          details(pairs, 'use-contribution-details'),
          allocationTable(s.allocations || [], cur, t('use.allocationsCaption', { id: c.contribution_id })),
          (s.transfers || []).map((tr) => [
            h('p', { class: 'help' }, t('use.transferNote', {
              fund: tr.to, amount: money(tr.amount, tr.currency), toAmount: money(tr.to_amount, tr.to_currency),
            })),
            allocationTable(tr.allocations || [], tr.to_currency, t('use.transferCaption', { fund: tr.to })),
          ]),
        ];
      }
      return h('article', {
        class: 'use-contribution', 'data-test': 'use-contribution', dataset: { contributionId: c.contribution_id },
      }, head, body);
    }

    return {
      load,
      draw(root) {
        root.append(pageHeading(t('use.title')));
        root.append(h('p', { class: 'intro' }, t('use.intro')));
        if (state.loading) { root.append(loading()); return; }
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (!state.rows.length) {
          root.append(h('p', { class: 'empty', 'data-test': 'use-empty' }, t('use.empty')));
          return;
        }
        root.append(h('div', { class: 'section-head' },
          h('p', { class: 'help' }, t('use.count', { count: number(state.rows.length) })),
          h('button', {
            type: 'button', class: 'button secondary', 'data-test': 'refresh', on: { click: () => ctx.refresh() },
          }, t('app.refresh'))));
        const sums = summarise(state.rows.map((r) => r.status));
        for (const total of sums) root.append(summaryPart(total));
        root.append(section(t('use.eachTitle'), 'use-each', state.rows.map(contributionPart)));
      },
    };
  },
};
