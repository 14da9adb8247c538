// #/principals (admin): who may use the fund's API (principal.list), creating a
// principal (principal.create), confirming one another admin created
// (principal.confirm: an admin or approver waits for a second admin),
// revoking one (principal.revoke), and new tokens (principal.rotate_token: the
// caller's own, or a partner's or auditor's).
//
// A token is shown once, in a panel of this page, and is kept only in this
// page's memory: leaving the page, or "Hide", forgets it. The console's own
// token, when it is the one replaced, goes to session.setToken (sessionStorage).
//
// principal.list pages oldest first; the page reads every page of it (at most
// MAX_PAGES of 1000) so as to show the newest first and to find by name.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { number, date, dateTime, list } from '../format.js';
import { describe, errorPanel } from '../errors.js';
import { principal as me, setToken } from '../session.js';
import { actionForm, field, filterForm, loading, pageHeading, pager, say, section, selectField, table } from '../ui.js';
import { badge, loadAll, tokenPanel, whoName } from './people-common.js';

const ROLES = ['admin', 'approver', 'auditor', 'partner'];
const STATES = ['active', 'pending', 'revoked', 'expired'];
const PAGE_SIZE = 50;
const MAX_PAGES = 20;

function rolesText(roles) {
  return list((roles || []).map((r) => t('roles.' + r)));
}

export const principalsView = {
  id: 'principals',
  path: '/principals',
  titleKey: 'principals.title',
  navKey: 'principals.nav',
  roles: ['admin'],
  create(ctx) {
    const state = {
      loading: true, error: null, all: [], more: false, names: new Map(),
      filters: { state: '', role: '', name: '' }, page: 1,
      token: null,        // {token, name, own}: shown once, never stored
      action: null,       // {kind: 'confirm'|'revoke'|'rotate', p, form}
    };

    async function load(announce = false) {
      state.loading = true;
      state.error = null;
      try {
        const { rows, more } = await loadAll(ctx.rpc, 'principal.list', {}, 'principals', MAX_PAGES);
        state.all = rows.slice().reverse();   // newest first
        state.more = more;
        state.names = new Map(rows.map((p) => [p.principal_id, p]));
        if (state.action) {
          const again = state.names.get(state.action.p.principal_id);
          if (again) state.action.p = again;
        }
        if (announce) say(t('principals.loaded', { count: number(rows.length) }));
      } catch (err) {
        state.error = err;
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.loading = false;
    }

    function shown() {
      const f = state.filters;
      const needle = f.name.trim().toLocaleLowerCase();
      return state.all.filter((p) => (!f.state || p.state === f.state)
        && (!f.role || (p.roles || []).includes(f.role))
        && (!needle || String(p.name).toLocaleLowerCase().includes(needle)));
    }

    function showToken(token, name, own) {
      state.token = { token, name, own };
      state.action = null;
    }

    function focusToken() {
      ctx.redraw();
      const el = document.getElementById('new-token-title');
      if (el) el.focus();
    }

    // ------------------------------------------------------------ create

    const create = actionForm({
      test: 'create-principal',
      submitLabel: () => t('principals.create.submit'),
      fields: () => [
        h('p', { class: 'help people-gap' }, t('principals.create.intro')),
        field({ id: 'pc-name', name: 'name', label: t('principals.create.name'), required: true, autocomplete: 'off', help: t('principals.create.nameHelp') }),
        h('fieldset', { class: 'people-roles', 'aria-describedby': 'pc-roles-help' },
          h('legend', null, t('principals.create.roles'), ' ', h('span', { class: 'required' }, t('forms.required'))),
          h('p', { id: 'pc-roles-help', class: 'help' }, t('principals.create.rolesHelp')),
          ROLES.map((r) => field({ id: 'pc-role-' + r, name: 'role_' + r, type: 'checkbox', label: t('roles.' + r), help: t('principals.roleHelp.' + r) }))),
        field({ id: 'pc-partner', name: 'partner_id', label: t('principals.create.partner'), help: t('principals.create.partnerHelp'), autocomplete: 'off' }),
        field({ id: 'pc-expires', name: 'expires_at', type: 'date', label: t('principals.create.expires'), help: t('principals.create.expiresHelp') }),
      ],
      run: (values, key) => {
        const params = { name: values.name, roles: ROLES.filter((r) => values['role_' + r]), idempotency_key: key };
        if (values.partner_id) params.partner_id = values.partner_id;
        if (values.expires_at) params.expires_at = values.expires_at;
        return ctx.rpc.call('principal.create', params);
      },
      success: (p) => (p.pending ? t('principals.create.donePending', { name: p.name })
        : t('principals.create.done', { name: p.name })),
      done: async (p) => {
        if (p.token) showToken(p.token, p.name, false);
        else if (!p.pending) say(t('principals.create.replayed', { name: p.name }));
        await load();
      },
      redraw: () => { if (state.token) focusToken(); else ctx.redraw(); },
    });

    // ------------------------------------------------------------ row actions

    function actionFormFor(kind, p) {
      if (kind === 'confirm') {
        return actionForm({
          test: 'confirm-principal-form',
          submitLabel: () => t('principals.confirm.submit'),
          fields: () => [
            h('p', null, t('principals.confirm.text', { name: p.name, roles: rolesText(p.roles) })),
          ],
          run: (v, key) => ctx.rpc.call('principal.confirm', { principal_id: p.principal_id, idempotency_key: key }),
          success: (res) => t('principals.confirm.done', { name: res.name }),
          done: async (res) => {
            if (res.token) showToken(res.token, res.name, false);
            else state.action = null;
            await load();
          },
          redraw: focusToken,
          cancel: closeAction,
        });
      }
      if (kind === 'revoke') {
        return actionForm({
          test: 'revoke-principal-form',
          submitLabel: () => t('principals.revoke.submit'),
          fields: () => [
            h('p', { class: 'notice notice-error people-gap' }, p.state === 'pending'
              ? t('principals.revoke.warnPending', { name: p.name })
              : t('principals.revoke.warn', { name: p.name })),
          ],
          run: (v, key) => ctx.rpc.call('principal.revoke', { principal_id: p.principal_id, idempotency_key: key }),
          success: () => t('principals.revoke.done', { name: p.name }),
          done: async () => { state.action = null; await load(); },
          redraw: () => { ctx.redraw(); const title = document.getElementById('page-title'); if (title) title.focus(); },
          cancel: closeAction,
        });
      }
      // rotate: another's (partner, auditor) token
      return actionForm({
        test: 'rotate-principal-form',
        submitLabel: () => t('principals.rotate.submit'),
        fields: () => [
          h('p', { class: 'notice people-gap' }, t('principals.rotate.warn', { name: p.name })),
          field({ id: 'pr-expires', name: 'expires_at', type: 'date', label: t('principals.create.expires'), help: t('principals.create.expiresHelp') }),
        ],
        run: (v, key) => ctx.rpc.call('principal.rotate_token', { ...v, principal_id: p.principal_id, idempotency_key: key }),
        success: () => t('principals.rotate.done', { name: p.name }),
        done: async (res) => {
          if (res.token) showToken(res.token, p.name, false);
          else state.action = null;
          await load();
        },
        redraw: focusToken,
        cancel: closeAction,
      });
    }

    function openAction(kind, p, from) {
      state.action = { kind, p, from, form: actionFormFor(kind, p) };
      ctx.redraw();
      const el = document.querySelector('[data-test="action-part"] h2');
      if (el) el.focus();
    }

    function closeAction() {
      const from = state.action && state.action.from;
      state.action = null;
      ctx.redraw();
      const back = from && document.getElementById(from);
      if (back) back.focus();
    }

    function actionTitle(a) {
      return t('principals.' + a.kind + '.title', { name: a.p.name });
    }

    // ------------------------------------------------------------ own token

    const rotateOwn = actionForm({
      test: 'rotate-own',
      submitLabel: () => t('principals.own.submit'),
      fields: () => [
        h('p', { class: 'help people-gap' }, t('principals.own.intro')),
        field({ id: 'po-expires', name: 'expires_at', type: 'date', label: t('principals.create.expires'), help: t('principals.create.expiresHelp') }),
      ],
      run: async (v, key) => {
        // the page's own loads finish first: none goes out with the old token
        await ctx.rpc.idle();
        return ctx.rpc.call('principal.rotate_token', { ...v, idempotency_key: key });
      },
      success: () => t('principals.own.done'),
      done: async (res) => {
        // the old token fails from now on: the console goes on with the new one
        if (res.token) {
          setToken(res.token);
          showToken(res.token, res.name, true);
        }
        await load();
      },
      redraw: focusToken,
    });

    // ------------------------------------------------------------ tables

    function rowActions(where, p) {
      const mine = me() && p.principal_id === me().principal_id;
      const out = [];
      const btn = (kind, label, test) => h('button', {
        type: 'button', class: 'button secondary people-small', id: where + '-' + kind + '-' + p.principal_id,
        'data-test': test, dataset: { principalId: p.principal_id },
        on: { click: () => openAction(kind, p, where + '-' + kind + '-' + p.principal_id) },
      }, label, h('span', { class: 'sr-only' }, ' ', p.name));
      if (p.state === 'pending' && !mine) {
        if (p.created_by && me() && p.created_by === me().principal_id) {
          out.push(h('span', { class: 'sub', 'data-test': 'own-pending' }, t('principals.confirm.notYou')));
        } else {
          out.push(btn('confirm', t('principals.confirm.button'), 'confirm-principal'));
        }
      }
      const onlyOneStep = (p.roles || []).every((r) => r === 'partner' || r === 'auditor');
      if (!mine && p.state !== 'revoked' && p.state !== 'pending' && onlyOneStep) {
        out.push(btn('rotate', t('principals.rotate.button'), 'rotate-principal'));
      }
      if (!mine && p.state !== 'revoked') out.push(btn('revoke', t('principals.revoke.button'), 'revoke-principal'));
      if (mine) out.push(h('span', { class: 'sub' }, t('principals.thisIsYou')));
      return h('div', { class: 'people-row-actions' }, out);
    }

    function principalColumns(where) {
      const cols = [
        { key: 'name', label: t('principals.col.name'), cell: (p) => [p.name, h('span', { class: 'sub code' }, p.principal_id)] },
        {
          key: 'roles', label: t('principals.col.roles'),
          cell: (p) => [rolesText(p.roles), p.partner_id ? h('span', { class: 'sub' }, t('principals.partnerIs', { id: p.partner_id })) : null],
        },
        {
          key: 'state', label: t('principals.col.state'),
          cell: (p) => [badge('principals.state', p.state),
            h('span', { class: 'sub' }, p.token_expires_at ? t('principals.expiresOn', { when: dateTime(p.token_expires_at) }) : t('principals.never')),
            p.login && p.login !== 'token' ? h('span', { class: 'sub' }, t('principals.login.' + p.login)) : null],
        },
        { key: 'created', label: t('principals.col.created'), cell: (p) => [date(p.created_at), h('span', { class: 'sub' }, t('principals.by', { name: whoName(state.names, p.created_by, me()) }))] },
        { key: 'last_used_at', label: t('principals.col.lastUsed'), cell: (p) => (p.last_used_at ? dateTime(p.last_used_at) : t('principals.neverUsed')) },
      ];
      cols.push({ key: 'actions', label: t('principals.col.actions'), cell: (p) => rowActions(where, p) });
      return cols;
    }

    return {
      load,
      draw(root) {
        root.append(pageHeading(t('principals.title')));
        root.append(h('p', { class: 'intro' }, t('principals.intro')));
        if (state.token) {
          root.append(tokenPanel({
            ...state.token,
            onHide: () => { state.token = null; ctx.redraw(); const el = document.getElementById('page-title'); if (el) el.focus(); },
          }));
        }
        if (state.error) { root.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (state.loading && !state.all.length) { root.append(loading()); return; }

        if (state.action) {
          root.append(section(actionTitle(state.action), 'action-part', state.action.form.draw()));
        }

        const pending = state.all.filter((p) => p.state === 'pending');
        root.append(section(t('principals.pendingTitle'), 'pending-part',
          h('p', { class: 'help' }, t('principals.pendingIntro')),
          table({
            test: 'pending-table',
            caption: t('principals.pendingCaption', { count: number(pending.length) }),
            empty: t('principals.pendingEmpty'),
            rows: pending,
            rowAttrs: (p) => ({ 'data-test': 'pending-row', dataset: { principalId: p.principal_id } }),
            columns: principalColumns('pending').filter((c) => !['state', 'last_used_at'].includes(c.key)),
          })));

        const rows = shown();
        const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
        if (state.page > pages) state.page = pages;
        const slice = rows.slice((state.page - 1) * PAGE_SIZE, state.page * PAGE_SIZE);
        const filters = filterForm({
          test: 'principals-filters',
          onApply: (f) => {
            state.filters = { state: f.namedItem('state').value, role: f.namedItem('role').value, name: f.namedItem('name').value };
            state.page = 1;
            ctx.redraw();
            say(t('principals.filtered', { count: number(shown().length) }));
          },
          fields: [
            field({ id: 'filter-name', name: 'name', label: t('principals.filterName'), value: state.filters.name, autocomplete: 'off' }),
            selectField({ id: 'filter-state', name: 'state', label: t('principals.filterState'), anyLabel: t('filters.any'), value: state.filters.state, options: STATES.map((s) => ({ value: s, label: t('principals.state.' + s) })) }),
            selectField({ id: 'filter-role', name: 'role', label: t('principals.filterRole'), anyLabel: t('filters.any'), value: state.filters.role, options: ROLES.map((r) => ({ value: r, label: t('roles.' + r) })) }),
          ],
        });
        root.append(section(t('principals.listTitle'), 'principals-part',
          filters,
          h('p', { 'data-test': 'principals-count' }, t('principals.count', { count: number(rows.length), all: number(state.all.length) })),
          state.more ? h('p', { class: 'help' }, t('principals.tooMany', { count: number(state.all.length) })) : null,
          table({
            test: 'principals-table',
            caption: t('principals.caption'),
            empty: t('principals.empty'),
            rows: slice,
            rowAttrs: (p) => ({ 'data-test': 'principal-row', dataset: { principalId: p.principal_id, state: p.state } }),
            columns: principalColumns('all'),
          }),
          pager({
            page: number(state.page),
            busy: false,
            hasPrev: state.page > 1,
            hasNext: state.page < pages,
            onPrev: () => { state.page -= 1; ctx.redraw(); },
            onNext: () => { state.page += 1; ctx.redraw(); },
          })));

        root.append(section(t('principals.create.title'), 'create-part', create.draw()));
        root.append(section(t('principals.own.title'), 'own-part', rotateOwn.draw()));
      },
    };
  },
};
