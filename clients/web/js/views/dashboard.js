// #/dashboard (admin, approver, auditor): every fund's figures, what waits for whom, the
// recent activity and charts of one fund.
//
//   fund.list, with the counts in the same batch (each from a method the roles may call):
//     grant.list status=submitted limit=1 (admin, auditor) -> applications waiting
//     disbursement.queue limit=1           (admin)         -> payments waiting for you
//     grant.queue limit=1                  (approver)      -> applications waiting for you
//   fund.balance of every fund: batches of 100, up to 4 batches in flight, the funds shown
//     on the table's current page first; each row's figures appear as their batch arrives
//   audit.events (admin, auditor): the last events (partner-activity.js)
//   fund.history, report.grants, report.contributions: the charts (partner-charts.js)
//
// The table shows 50 funds a page and can be narrowed by code or name (#/dashboard?find=X).

import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { money, number } from '../format.js';
import { describe, errorPanel } from '../errors.js';
import { hasRole, principal, referenceData } from '../session.js';
import { loading, pageHeading, pager, say, table } from '../ui.js';
import { activityPart, recentEvents } from './partner-activity.js';
import { createCharts } from './partner-charts.js';
import { isZero } from '../decimal.js';

const FIGURES = [
  'received', 'earnings', 'transferred_in', 'transferred_out', 'charges',
  'capital_impaired', 'pledged', 'committed', 'disbursed', 'available',
];
const BATCH = 100;      // fund.balance calls per request (a batch holds at most 100)
const IN_FLIGHT = 4;    // requests at once
const PAGE_SIZE = 50;   // funds a page of the table

export const dashboardView = {
  id: 'dashboard',
  path: '/dashboard',
  titleKey: 'dashboard.title',
  navKey: 'nav.dashboard',
  // the roles that may call fund.balance
  roles: ['admin', 'approver', 'auditor'],
  create(ctx) {
    const state = {
      loading: true, error: null, funds: [], counts: [], regions: [],
      fundByCode: new Map(),
      balances: new Map(),      // code -> {result} | {error}
      gen: 0,                   // a refresh starts a new generation; older answers are dropped
      find: ctx.params().get('find') || '',
      page: 1,
      activity: { loading: true, events: [], error: null },
    };
    const withActivity = hasRole('admin', 'auditor');
    const charts = createCharts(ctx, { getFunds: () => state.funds, getRegions: () => state.regions });
    const slots = { rows: new Map(), progress: null, activity: null };

    // The page has been left (another page drawn in its place): its loads stop.
    // Before it is first drawn (left while fund.list was on its way, so never
    // drawn), it has been left when another page's address is open.
    function gone() {
      if (state.drawn) return !(slots.progress && slots.progress.isConnected);
      const path = ((location.hash || '').replace(/^#/, '').split('?')[0] || '/').replace(/\/+$/, '') || '/';
      return path !== dashboardView.path;
    }

    function matching() {
      const q = state.find.trim().toLowerCase();
      if (!q) return state.funds;
      return state.funds.filter((f) => f.code.toLowerCase().includes(q) || (f.name || '').toLowerCase().includes(q));
    }

    function pageCount() {
      return Math.max(1, Math.ceil(matching().length / PAGE_SIZE));
    }

    function shown() {
      const page = Math.min(state.page, pageCount());
      return matching().slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
    }

    // announce: say in #status what came (refresh), not on arrival
    async function load(announce = false) {
      state.gen += 1;
      const gen = state.gen;
      state.loading = true;
      state.error = null;
      state.balances = new Map();
      state.drawn = false; // until the figures' table is drawn again
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
        const [answers, ref] = await Promise.all([ctx.rpc.batch(calls), referenceData(ctx.rpc)]);
        if (answers[0].error) throw answers[0].error;
        state.funds = answers[0].result.funds || [];
        state.fundByCode = new Map(state.funds.map((f) => [f.code, f]));
        state.regions = ref.regions;
        state.counts = counts.map((c, i) => {
          const a = answers[i + 1];
          return a.error ? { ...c, error: a.error } : { ...c, count: a.result.count };
        });
      } catch (err) {
        state.error = err;
        state.loading = false;
        // a -32001 has sent the user to sign-in, which says why
        if (!err.unauthenticated) say(describe(err), 'error');
        return;
      }
      state.loading = false;
      // these go on after the page is drawn, each filling its part as it comes
      loadBalances(gen, announce);
      if (withActivity) loadActivity(gen);
    }

    async function loadBalances(gen, announce) {
      const requested = new Set();
      function nextBatch() {
        const codes = [];
        for (const list of [shown(), state.funds]) {
          for (const f of list) {
            if (codes.length === BATCH) return codes;
            if (!requested.has(f.code)) { requested.add(f.code); codes.push(f.code); }
          }
        }
        return codes;
      }
      let stopped = false;
      async function worker() {
        while (!stopped && gen === state.gen && !gone()) {
          const codes = nextBatch();
          if (!codes.length) return;
          let answers;
          try {
            answers = await ctx.rpc.batch(codes.map((code) => ({ method: 'fund.balance', params: { code } })));
          } catch (err) {
            if (err.unauthenticated) { stopped = true; return; }
            answers = codes.map(() => ({ error: err }));
          }
          // the page left meanwhile: nothing more, not even its charts (which would
          // otherwise start loading on a page nobody sees)
          if (gen !== state.gen || gone()) return;
          codes.forEach((code, i) => state.balances.set(code, answers[i]));
          arrived(codes);
        }
      }
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      if (gen !== state.gen || stopped || gone()) return;
      drawProgress();
      if (announce) say(t('dashboard.loaded', { count: number(state.funds.length) }));
    }

    // The first fund (in the list's order) with money, as soon as every fund before it
    // has its figures: the charts' default.
    function firstWithMoney() {
      for (const f of state.funds) {
        const b = state.balances.get(f.code);
        if (!b) return null;
        const r = b.result;
        if (r && (!isZero(r.received) || !isZero(r.available) || !isZero(r.disbursed))) return f.code;
      }
      return state.funds.length ? state.funds[0].code : null;
    }

    function arrived(codes) {
      for (const code of codes) {
        const tr = slots.rows.get(code);
        if (tr && tr.isConnected) fillRow(tr, code);
      }
      drawProgress();
      const wanted = ctx.params().get('fund');
      charts.chooseDefault(wanted && state.funds.some((f) => f.code === wanted) ? wanted : firstWithMoney());
    }

    async function loadActivity(gen) {
      state.activity = { loading: true, events: [], error: null };
      drawActivity();
      try {
        const events = await recentEvents(ctx.rpc);
        if (gen !== state.gen) return;
        state.activity = { loading: false, events, error: null };
      } catch (err) {
        if (gen !== state.gen) return;
        state.activity = { loading: false, events: [], error: err };
      }
      drawActivity();
    }

    function figure(code, key) {
      const b = state.balances.get(code);
      if (!b) return h('span', { class: 'pending', 'aria-hidden': 'true' }, '…');
      if (b.error) return key === FIGURES[0] ? h('span', { class: 'error-text' }, describe(b.error)) : '';
      const fund = state.fundByCode.get(code);
      return money(b.result[key], b.result.currency || (fund && fund.currency));
    }

    function fillRow(tr, code) {
      for (const key of FIGURES) {
        const cell = tr.querySelector('[data-col="' + key + '"]');
        if (cell) clear(cell).append(figure(code, key));
      }
      const b = state.balances.get(code);
      if (b) tr.dataset.loaded = b.error ? 'error' : 'true';
    }

    function progressText() {
      const done = state.balances.size;
      const all = state.funds.length;
      return done < all
        ? t('dashboard.progress', { done: number(done), all: number(all) })
        : t('dashboard.progressDone', { all: number(all) });
    }

    function drawProgress() {
      if (slots.progress && slots.progress.isConnected) {
        slots.progress.textContent = progressText();
        slots.progress.dataset.done = String(state.balances.size >= state.funds.length);
      }
    }

    function drawActivity() {
      if (!slots.activity || !slots.activity.isConnected) return;
      const next = activityPart(state.activity, principal(), () => loadActivity(state.gen));
      slots.activity.replaceWith(next);
      slots.activity = next;
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

    function findForm() {
      return h('form', {
        class: 'filters', 'aria-labelledby': 'find-title', 'data-test': 'fund-find-form', role: 'search',
        on: {
          submit: (ev) => {
            ev.preventDefault();
            state.find = ev.currentTarget.elements.namedItem('find').value;
            state.page = 1;
            ctx.redraw();
            const n = matching().length;
            say(t('dashboard.found', { count: number(n) }));
            // the funds now shown get their figures first
            if (state.balances.size < state.funds.length) loadMissingShown();
          },
        },
      },
      h('h3', { id: 'find-title', class: 'sr-only' }, t('dashboard.findTitle')),
      h('div', { class: 'field' },
        h('label', { for: 'fund-find' }, t('dashboard.find')),
        h('input', { id: 'fund-find', name: 'find', type: 'search', value: state.find, autocomplete: 'off' })),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'button', 'data-test': 'apply-find' }, t('dashboard.findApply'))));
    }

    // After the page or the filter changed: the funds shown whose figures were not
    // asked for yet are asked for now, in one extra batch.
    async function loadMissingShown() {
      const gen = state.gen;
      const codes = shown().map((f) => f.code).filter((c) => !state.balances.has(c)).slice(0, BATCH);
      if (!codes.length) return;
      try {
        const answers = await ctx.rpc.batch(codes.map((code) => ({ method: 'fund.balance', params: { code } })));
        if (gen !== state.gen) return;
        codes.forEach((code, i) => { if (!state.balances.has(code)) state.balances.set(code, answers[i]); });
        arrived(codes);
      } catch (err) { /* the background load asks again */ }
    }

    function fundsTable() {
      const rows = shown();
      const el = table({
        test: 'funds-table',
        caption: t('dashboard.caption'),
        empty: state.funds.length ? t('dashboard.noMatch') : t('dashboard.empty'),
        rows,
        rowAttrs: (f) => ({ 'data-test': 'fund-row', dataset: { code: f.code } }),
        columns: [
          {
            key: 'fund', label: t('dashboard.col.fund'),
            cell: (f) => [h('span', { class: 'code' }, f.code), h('span', { class: 'sub' }, f.name)],
          },
          { key: 'kind', label: t('dashboard.col.kind'), cell: (f) => t('fundKind.' + f.kind) },
          ...FIGURES.map((key) => ({
            key, num: true, label: t('dashboard.col.' + key), cell: (f) => figure(f.code, key),
          })),
        ],
      });
      slots.rows = new Map();
      for (const tr of el.querySelectorAll('tr[data-test="fund-row"]')) {
        slots.rows.set(tr.dataset.code, tr);
        const b = state.balances.get(tr.dataset.code);
        if (b) tr.dataset.loaded = b.error ? 'error' : 'true';
      }
      return el;
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
        slots.progress = h('p', { class: 'help progress', 'data-test': 'balances-progress' }, progressText());
        state.drawn = true;
        const page = Math.min(state.page, pageCount());
        root.append(h('section', { 'aria-labelledby': 'funds-title' },
          h('div', { class: 'section-head' },
            h('h2', { id: 'funds-title' }, t('dashboard.funds')),
            h('button', {
              type: 'button', class: 'button secondary', 'data-test': 'refresh',
              on: { click: () => ctx.refresh() },
            }, t('app.refresh'))),
          findForm(),
          slots.progress,
          fundsTable(),
          pageCount() > 1 ? pager({
            page: number(page),
            hasPrev: page > 1,
            hasNext: page < pageCount(),
            onPrev: () => { state.page = page - 1; ctx.redraw(); loadMissingShown(); },
            onNext: () => { state.page = page + 1; ctx.redraw(); loadMissingShown(); },
          }) : null));
        drawProgress();
        if (withActivity) {
          slots.activity = activityPart(state.activity, principal(), () => loadActivity(state.gen));
          root.append(slots.activity);
        }
        root.append(charts.draw());
      },
    };
  },
};
