// #/dashboard: every fund's figures (fund.list, then fund.balance for each in
// one batch), and what waits for a decision, each count from a method the
// caller's roles may call (docs/protocol.md):
//   grant.list status=submitted (admin, auditor) -> applications waiting
//   disbursement.queue           (admin)          -> payments waiting for you
//   grant.queue                  (approver)       -> applications waiting for you

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { money, number } from '../format.js';
import { describe, errorPanel } from '../errors.js';
import { hasRole } from '../session.js';
import { loading, pageHeading, say, table } from '../ui.js';

const FIGURES = [
  'received', 'earnings', 'transferred_in', 'transferred_out', 'charges',
  'capital_impaired', 'pledged', 'committed', 'disbursed', 'available',
];

export const dashboardView = {
  id: 'dashboard',
  path: '/dashboard',
  titleKey: 'dashboard.title',
  navKey: 'nav.dashboard',
  // the roles that may call fund.balance
  roles: ['admin', 'approver', 'auditor'],
  create(ctx) {
    const state = { loading: true, error: null, funds: [], counts: [] };

    // announce: say in #status what came (paging, filters, refresh), not on arrival
    async function load(announce = false) {
      state.loading = true;
      state.error = null;
      const calls = [{ method: 'fund.list' }];
      const counts = [];
      if (hasRole('admin', 'auditor')) {
        calls.push({ method: 'grant.list', params: { status: 'submitted', limit: 1 } });
        counts.push({ key: 'submitted', test: 'pending-grants-count' });
      }
      if (hasRole('admin')) {
        calls.push({ method: 'disbursement.queue', params: { limit: 1 } });
        counts.push({ key: 'disbursements', test: 'pending-disbursements-count' });
      }
      if (hasRole('approver')) {
        calls.push({ method: 'grant.queue', params: { limit: 1 } });
        counts.push({ key: 'myQueue', test: 'my-queue-count', link: '#/queue' });
      }
      try {
        const answers = await ctx.rpc.batch(calls);
        if (answers[0].error) throw answers[0].error;
        const funds = answers[0].result.funds || [];
        state.counts = counts.map((c, i) => {
          const a = answers[i + 1];
          return a.error ? { ...c, error: a.error } : { ...c, count: a.result.count };
        });
        const balances = await ctx.rpc.batch(
          funds.map((f) => ({ method: 'fund.balance', params: { code: f.code } })));
        state.funds = funds.map((f, i) => ({
          fund: f,
          balance: balances[i].result || null,
          error: balances[i].error || null,
        }));
        if (announce) say(t('dashboard.loaded', { count: number(funds.length) }));
      } catch (err) {
        state.error = err;
        // a -32001 has sent the user to sign-in, which says why
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.loading = false;
    }

    function figureCell(key) {
      return (row) => {
        if (row.error) return key === FIGURES[0] ? h('span', { class: 'error-text' }, describe(row.error)) : '';
        const b = row.balance;
        return money(b[key], b.currency || row.fund.currency);
      };
    }

    function countCard(c) {
      const value = c.error
        ? h('span', { class: 'error-text' }, describe(c.error))
        : h('span', { class: 'count', 'data-test': c.test }, number(c.count));
      return h('li', { class: 'card stat' },
        h('span', { class: 'stat-label' }, t('dashboard.counts.' + c.key)),
        value,
        c.link && !c.error ? h('a', { href: c.link, class: 'stat-link' }, t('dashboard.openQueue')) : null);
    }

    return {
      load,
      draw(root) {
        root.append(pageHeading(t('dashboard.title')));
        if (state.loading) { root.append(loading()); return; }
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (state.counts.length) {
          root.append(h('section', { 'aria-labelledby': 'waiting-title', class: 'waiting' },
            h('h2', { id: 'waiting-title' }, t('dashboard.waiting')),
            h('ul', { class: 'stats', 'data-test': 'waiting-counts' }, state.counts.map(countCard))));
        }
        root.append(h('section', { 'aria-labelledby': 'funds-title' },
          h('div', { class: 'section-head' },
            h('h2', { id: 'funds-title' }, t('dashboard.funds')),
            h('button', {
              type: 'button', class: 'button secondary', 'data-test': 'refresh',
              on: { click: () => ctx.refresh() },
            }, t('app.refresh'))),
          table({
            test: 'funds-table',
            caption: t('dashboard.caption'),
            empty: t('dashboard.empty'),
            rows: state.funds,
            rowAttrs: (row) => ({ 'data-test': 'fund-row', dataset: { code: row.fund.code } }),
            columns: [
              {
                key: 'fund', label: t('dashboard.col.fund'),
                cell: (row) => [h('span', { class: 'code' }, row.fund.code),
                  h('span', { class: 'sub' }, row.fund.name)],
              },
              { key: 'kind', label: t('dashboard.col.kind'), cell: (row) => t('fundKind.' + row.fund.kind) },
              ...FIGURES.map((key) => ({
                key, num: true, label: t('dashboard.col.' + key), cell: figureCell(key),
              })),
            ],
          })));
      },
    };
  },
};
