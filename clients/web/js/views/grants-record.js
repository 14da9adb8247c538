// #/grant?id=gr_... (admin, approver, auditor): one application, with what it
// takes to decide on it: its terms, the fund's available money now
// (fund.balance), the decisions so far and how many approvals are still
// needed, the milestones with their evidence (milestone.list, document.get,
// GET /documents/{id}), the tranches (disbursement.list) and the corrections
// (grant.history). An approver approves, rejects or recuses; an admin
// corrects, withdraws or cancels, adds milestones, submits evidence and
// creates tranches; admins and approvers accept or return evidence.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { money, number, date, dateTime, list } from '../format.js';
import { describe, errorPanel, markField } from '../errors.js';
import { hasRole, principal, referenceData } from '../session.js';
import { actionForm, details, field, link, loading, pageHeading, personName, say, section, table } from '../ui.js';
import { add, cmp, dec, decString, sub } from '../decimal.js';
import { CATEGORIES, regionName } from './queue.js';
import {
  downloadDocument, fileProblem, fileSize, grantBadge, milestoneBadge, note, trancheBadge,
  uploadDocument,
} from './grants-util.js';

const MANY = 100;
const KINDS = ['returnee', 'displaced', 'refugee', 'asylum_seeker'];
const HISTORY_FIELDS = ['amount', 'category', 'purpose'];

// A message to say once the next grant page has loaded (after "Apply" opens it).
let pending = null;
export function flash(message) { pending = message; }

function me() {
  const p = principal();
  return p ? p.principal_id : null;
}

function who(name, id) {
  return name || id || t('grant.history.outside');
}

export const grantView = {
  id: 'grant',
  path: '/grant',
  titleKey: 'grant.title',
  navKey: 'grant.title',
  roles: ['admin', 'approver', 'auditor'],
  hidden: true,
  parent: 'grants',
  create(ctx) {
    const state = {
      loading: true, error: null, ref: null, grant: null, balance: null, balanceError: null,
      tranches: [], milestones: [], history: [], docs: new Map(), parts: {},
      files: [], fileErrors: [],
    };
    const grantId = () => ctx.params().get('id') || '';

    async function load(announce = false) {
      state.loading = true;
      state.error = null;
      const id = grantId();
      try {
        if (!state.ref) state.ref = await referenceData(ctx.rpc);
        const [g, ds, ms, hist] = await ctx.rpc.batch([
          { method: 'grant.get', params: { grant_id: id } },
          { method: 'disbursement.list', params: { grant_id: id, limit: MANY } },
          { method: 'milestone.list', params: { grant_id: id, limit: MANY } },
          { method: 'grant.history', params: { grant_id: id, limit: MANY } },
        ]);
        if (g.error) throw g.error;
        state.grant = g.result;
        state.parts = { tranches: ds.error || null, milestones: ms.error || null, history: hist.error || null };
        state.tranches = ds.error ? [] : ds.result.disbursements || [];
        state.milestones = ms.error ? [] : ms.result.milestones || [];
        state.history = hist.error ? [] : hist.result.history || [];
        const docIds = [...new Set(state.milestones.flatMap((m) => m.document_ids || []))]
          .filter((d) => !state.docs.has(d));
        const more = await ctx.rpc.batch([
          { method: 'fund.balance', params: { code: state.grant.fund } },
          ...docIds.map((d) => ({ method: 'document.get', params: { document_id: d } })),
        ]);
        state.balance = more[0].error ? null : more[0].result;
        state.balanceError = more[0].error || null;
        docIds.forEach((d, i) => { if (more[i + 1].result) state.docs.set(d, more[i + 1].result); });
      } catch (err) {
        state.error = err;
        if (!err.unauthenticated) say(describe(err), 'error');
      }
      state.loading = false;
      if (!state.error && pending) {
        say(pending, 'success');
        pending = null;
      } else if (!state.error && announce) {
        say(t('grant.loaded', { id }));
      }
    }

    const reload = async () => { await load(); };
    const g = () => state.grant;

    // ------------------------------------------------------------ approver

    const approveForm = actionForm({
      test: 'approve-form',
      title: () => t('grant.approve.title'),
      intro: () => t('grant.approve.intro'),
      submitLabel: () => t('grant.approve.submit'),
      fields: () => [
        field({ id: 'approve-comment', name: 'comment', type: 'textarea', label: t('grant.approve.comment'), help: t('grant.approve.commentHelp') }),
      ],
      run: (v, key) => ctx.rpc.call('grant.approve', { grant_id: g().grant_id, ...v, idempotency_key: key }),
      success: (r) => (r.status === 'approved'
        ? t('grant.approve.doneApproved', { amount: money(r.committed, r.currency) })
        : t('grant.approve.donePartial', {
          count: number(Math.max(r.approvals_needed - (r.approvals || []).length, 0)),
        })),
      done: reload,
      redraw: ctx.redraw,
    });

    const rejectForm = actionForm({
      test: 'reject-form',
      title: () => t('grant.reject.title'),
      intro: () => t('grant.reject.intro'),
      submitLabel: () => t('grant.reject.submit'),
      fields: () => [
        field({ id: 'reject-reason', name: 'reason', type: 'textarea', required: true, label: t('grant.reject.reason'), help: t('grant.reject.reasonHelp') }),
      ],
      run: (v, key) => ctx.rpc.call('grant.reject', { grant_id: g().grant_id, ...v, idempotency_key: key }),
      success: () => t('grant.reject.done'),
      done: reload,
      redraw: ctx.redraw,
    });

    const recuseForm = actionForm({
      test: 'recuse-form',
      title: () => t('grant.recuse.title'),
      intro: () => t('grant.recuse.intro'),
      submitLabel: () => t('grant.recuse.submit'),
      fields: () => [
        field({ id: 'recuse-reason', name: 'reason', type: 'textarea', required: true, label: t('grant.recuse.reason') }),
      ],
      run: (v, key) => ctx.rpc.call('grant.recuse', { grant_id: g().grant_id, ...v, idempotency_key: key }),
      success: () => t('grant.recuse.done'),
      done: reload,
      redraw: ctx.redraw,
    });

    // ------------------------------------------------------------ admin: the application

    const updateForm = actionForm({
      test: 'update-form',
      title: () => t('grant.update.title'),
      intro: () => t('grant.update.intro'),
      submitLabel: () => t('grant.update.submit'),
      fields: () => [
        field({ id: 'update-amount', name: 'amount', money: true, label: t('grant.update.amount', { currency: g().currency }), value: g().amount }),
        field({
          id: 'update-category', name: 'category', type: 'select', label: t('grant.update.category'), value: g().category,
          options: CATEGORIES.map((c) => ({ value: c, label: t('category.' + c) })),
        }),
        field({ id: 'update-purpose', name: 'purpose', type: 'textarea', label: t('grant.update.purpose'), value: g().purpose }),
      ],
      run: (v, key) => {
        // only what changed: an unchanged field is no correction
        const x = g();
        const params = { grant_id: x.grant_id, idempotency_key: key };
        if ((v.amount || '') !== x.amount) params.amount = v.amount || '';
        if (v.category && v.category !== x.category) params.category = v.category;
        if ((v.purpose || '') !== x.purpose) params.purpose = v.purpose || '';
        if (Object.keys(params).length === 2) return Promise.resolve({ unchanged: true });
        return ctx.rpc.call('grant.update', params);
      },
      success: (r) => (r.unchanged ? t('grant.update.unchanged') : t('grant.update.done')),
      done: reload,
      redraw: ctx.redraw,
    });

    const withdrawForm = actionForm({
      test: 'withdraw-form',
      title: () => t('grant.withdraw.title'),
      intro: () => t('grant.withdraw.intro'),
      submitLabel: () => t('grant.withdraw.submit'),
      fields: () => [
        field({ id: 'withdraw-reason', name: 'reason', type: 'textarea', required: true, label: t('grant.withdraw.reason') }),
      ],
      run: (v, key) => ctx.rpc.call('grant.withdraw', { grant_id: g().grant_id, ...v, idempotency_key: key }),
      success: () => t('grant.withdraw.done'),
      done: reload,
      redraw: ctx.redraw,
    });

    const cancelForm = actionForm({
      test: 'cancel-form',
      title: () => t('grant.cancel.title'),
      intro: () => t('grant.cancel.intro'),
      submitLabel: () => t('grant.cancel.submit'),
      fields: () => [
        field({ id: 'cancel-reason', name: 'reason', type: 'textarea', required: true, label: t('grant.cancel.reason') }),
      ],
      run: (v, key) => ctx.rpc.call('grant.cancel', { grant_id: g().grant_id, ...v, idempotency_key: key }),
      success: () => t('grant.cancel.done'),
      done: reload,
      redraw: ctx.redraw,
    });

    // ------------------------------------------------------------ milestones

    function milestoneLabel(m) {
      return t('milestone.option', {
        due: date(m.due_on), amount: money(m.amount, m.currency), what: m.evidence_required.slice(0, 60),
      });
    }

    function milestoneRemaining() {
      let left = dec(g().amount);
      for (const m of state.milestones) { const x = dec(m.amount); if (x && left) left = sub(left, x); }
      return left ? decString(left) : null;
    }

    const milestoneForm = actionForm({
      test: 'milestone-form',
      title: () => t('milestone.add.title'),
      intro: () => t('milestone.add.intro'),
      submitLabel: () => t('milestone.add.submit'),
      fields: () => {
        const left = milestoneRemaining();
        return [
          field({ id: 'milestone-due', name: 'due_on', type: 'date', required: true, label: t('milestone.add.due') }),
          field({ id: 'milestone-evidence', name: 'evidence_required', type: 'textarea', required: true, label: t('milestone.add.evidence'), help: t('milestone.add.evidenceHelp') }),
          field({
            id: 'milestone-amount', name: 'amount', money: true, required: true, label: t('milestone.add.amount', { currency: g().currency }),
            help: left !== null ? t('milestone.add.amountHelp', { amount: money(left, g().currency) }) : null,
          }),
        ];
      },
      run: (v, key) => ctx.rpc.call('grant.add_milestone', { grant_id: g().grant_id, ...v, idempotency_key: key }),
      success: (m) => t('milestone.add.done', { due: date(m.due_on), amount: money(m.amount, m.currency) }),
      done: reload,
      redraw: ctx.redraw,
    });

    async function chooseFiles(input) {
      const files = [...input.files];
      const ok = [];
      const problems = [];
      for (const f of files) {
        const p = await fileProblem(f);
        if (p) problems.push(p); else ok.push(f);
      }
      state.files = ok;
      state.fileErrors = problems;
      if (problems.length) {
        markField(input, problems.join(' '));
      } else {
        input.removeAttribute('aria-invalid');
        const msg = document.getElementById('evidence-files-error');
        if (msg) msg.hidden = true;
      }
      const chosen = document.querySelector('[data-test="evidence-chosen"]');
      if (chosen) chosen.textContent = ok.length ? t('milestone.evidence.chosen', { names: list(ok.map((f) => f.name)) }) : '';
    }

    const evidenceForm = actionForm({
      test: 'evidence-form',
      title: () => t('milestone.evidence.title'),
      intro: () => t('milestone.evidence.intro'),
      submitLabel: () => t('milestone.evidence.submit'),
      fields: () => {
        const open = state.milestones.filter((m) => m.status === 'open');
        const files = field({ id: 'evidence-files', label: t('milestone.evidence.files'), help: t('milestone.evidence.filesHelp') });
        const input = files.querySelector('input');
        input.type = 'file';
        input.multiple = true;
        input.removeAttribute('name');
        input.setAttribute('accept', 'application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg');
        input.addEventListener('change', () => { chooseFiles(input); });
        return [
          field({
            id: 'evidence-milestone', name: 'milestone_id', type: 'select', required: true, label: t('milestone.evidence.milestone'),
            options: open.map((m) => ({ value: m.milestone_id, label: milestoneLabel(m) })),
          }),
          files,
          h('p', { class: 'help', 'data-test': 'evidence-chosen', 'aria-live': 'polite' },
            state.files.length ? t('milestone.evidence.chosen', { names: list(state.files.map((f) => f.name)) }) : ''),
          field({ id: 'evidence-note', name: 'note', type: 'textarea', label: t('milestone.evidence.note') }),
        ];
      },
      run: async (v, key) => {
        const ids = [];
        for (const [i, f] of state.files.entries()) {
          const doc = await uploadDocument(ctx.rpc, f, key + '-d' + i + '-' + f.size);
          state.docs.set(doc.document_id, doc);
          ids.push(doc.document_id);
        }
        return ctx.rpc.call('milestone.submit', { ...v, document_ids: ids, idempotency_key: key });
      },
      success: (m) => t('milestone.evidence.done', { due: date(m.due_on) }),
      done: async () => { state.files = []; await reload(); },
      redraw: ctx.redraw,
    });

    function decidable() {
      return state.milestones.filter((m) => m.status === 'submitted' && m.submitted_by !== me());
    }

    const acceptForm = actionForm({
      test: 'accept-evidence-form',
      title: () => t('milestone.accept.title'),
      intro: () => t('milestone.accept.intro'),
      submitLabel: () => t('milestone.accept.submit'),
      fields: () => [
        field({
          id: 'accept-milestone', name: 'milestone_id', type: 'select', required: true, label: t('milestone.accept.milestone'),
          options: decidable().map((m) => ({ value: m.milestone_id, label: milestoneLabel(m) })),
        }),
        field({ id: 'accept-comment', name: 'comment', type: 'textarea', label: t('milestone.accept.comment') }),
      ],
      run: (v, key) => ctx.rpc.call('milestone.accept', { ...v, idempotency_key: key }),
      success: (m) => t('milestone.accept.done', { due: date(m.due_on), amount: money(m.amount, m.currency) }),
      done: reload,
      redraw: ctx.redraw,
    });

    const returnForm = actionForm({
      test: 'reject-evidence-form',
      title: () => t('milestone.reject.title'),
      intro: () => t('milestone.reject.intro'),
      submitLabel: () => t('milestone.reject.submit'),
      fields: () => [
        field({
          id: 'reject-milestone', name: 'milestone_id', type: 'select', required: true, label: t('milestone.reject.milestone'),
          options: decidable().map((m) => ({ value: m.milestone_id, label: milestoneLabel(m) })),
        }),
        field({ id: 'reject-evidence-reason', name: 'reason', type: 'textarea', required: true, label: t('milestone.reject.reason') }),
      ],
      run: (v, key) => ctx.rpc.call('milestone.reject', { ...v, idempotency_key: key }),
      success: () => t('milestone.reject.done'),
      done: reload,
      redraw: ctx.redraw,
    });

    // ------------------------------------------------------------ tranches

    function stillToPay() {
      let left = dec(g().amount);
      if (!left) return null;
      for (const d of state.tranches) {
        if (d.status === 'failed') continue;
        const x = dec(d.amount);
        if (x) left = sub(left, x);
        const back = dec(d.refunded);
        if (back) left = add(left, back);
      }
      return decString(left);
    }

    const trancheForm = actionForm({
      test: 'tranche-form',
      title: () => t('tranche.create.title'),
      intro: () => t('tranche.create.intro'),
      submitLabel: () => t('tranche.create.submit'),
      fields: () => {
        const left = stillToPay();
        const payable = state.milestones.filter((m) => m.status === 'accepted' && !m.released_by);
        const failed = state.tranches.filter((d) => d.status === 'failed' && !d.retried_by);
        return [
          field({
            id: 'tranche-amount', name: 'amount', money: true, required: true, label: t('tranche.create.amount', { currency: g().currency }),
            help: left !== null ? t('tranche.create.amountHelp', { amount: money(left, g().currency) }) : null,
          }),
          payable.length ? field({
            id: 'tranche-milestone', name: 'milestone_id', type: 'select', label: t('tranche.create.milestone'),
            anyLabel: t('tranche.create.noMilestone'), help: t('tranche.create.milestoneHelp'),
            options: payable.map((m) => ({ value: m.milestone_id, label: milestoneLabel(m) })),
          }) : null,
          failed.length ? field({
            id: 'tranche-retry', name: 'retry_of', type: 'select', label: t('tranche.create.retry'),
            anyLabel: t('tranche.create.noRetry'),
            options: failed.map((d) => ({ value: d.disbursement_id, label: t('tranche.create.retryOption', { id: d.disbursement_id, amount: money(d.amount, d.currency) }) })),
          }) : null,
          field({ id: 'tranche-reference', name: 'reference', label: t('tranche.create.reference'), help: t('tranche.create.referenceHelp') }),
          field({ id: 'tranche-account', name: 'payee_account', label: t('tranche.create.account'), help: t('tranche.create.accountHelp'), autocomplete: 'off' }),
        ];
      },
      run: (v, key) => ctx.rpc.call('disbursement.create', { grant_id: g().grant_id, ...v, idempotency_key: key }),
      success: (d) => t('tranche.create.done', { amount: money(d.amount, d.currency) }),
      done: reload,
      redraw: ctx.redraw,
    });

    // ------------------------------------------------------------ drawing

    function summary() {
      const x = g();
      const regions = state.ref ? state.ref.regions : [];
      const fund = state.ref && state.ref.funds.find((f) => f.code === x.fund);
      return section(t('grant.summary.title'), 'grant-summary', details([
        [t('grant.summary.status'), grantBadge(x.status), 'status'],
        // an erased beneficiary's name is null: personName says so
        [t('grant.summary.beneficiary'), [personName(x.beneficiary_name), ' ', h('span', { class: 'sub' },
          KINDS.includes(x.beneficiary_kind) ? [t('grant.kind.' + x.beneficiary_kind), ' · '] : null,
          h('span', { class: 'code' }, x.returnee_id))], 'beneficiary'],
        [t('grant.summary.amount'), money(x.amount, x.currency), 'amount'],
        [t('grant.summary.purpose'), h('span', { class: 'purpose' }, x.purpose), 'purpose'],
        [t('grant.summary.category'), t('category.' + x.category), 'category'],
        [t('grant.summary.region'), regionName(regions, x.region_code, x.region), 'region'],
        [t('grant.summary.fund'), fund ? t('grants.fundOption', { code: fund.code, name: fund.name, currency: fund.currency }) : x.fund, 'fund'],
        [t('grant.summary.applied'), dateTime(x.created_at), 'created_at'],
        [t('grant.summary.decided'), x.decided_at ? dateTime(x.decided_at) : null, 'decided_at'],
        [t('grant.summary.reason'), x.reason, 'reason'],
        [t('grant.summary.committed'), money(x.committed, x.currency), 'committed'],
        [t('grant.summary.disbursed'), money(x.disbursed, x.currency), 'disbursed'],
      ], 'grant-details'));
    }

    function fundNow() {
      const x = g();
      const b = state.balance;
      if (!b) {
        return section(t('grant.fund.title'), 'grant-fund',
          state.balanceError ? h('p', { class: 'error-text' }, describe(state.balanceError)) : null);
      }
      let cover = null;
      const avail = dec(b.available);
      const amount = dec(x.amount);
      if (x.status === 'submitted' && avail && amount) {
        cover = cmp(avail, amount) >= 0
          ? note(t('grant.fund.covers'), 'fund-covers')
          : note(t('grant.fund.short'), 'fund-short', 'error');
      }
      return section(t('grant.fund.title'), 'grant-fund',
        details([
          [t('grant.fund.available'), money(b.available, b.currency), 'available'],
          [t('grant.fund.committed'), money(b.committed, b.currency), 'committed'],
          [t('grant.fund.disbursed'), money(b.disbursed, b.currency), 'disbursed'],
        ], 'fund-details'),
        cover);
    }

    function decisionsPart() {
      const x = g();
      const have = (x.approvals || []).length;
      const need = x.approvals_needed;
      const decisions = Array.isArray(x.decisions) ? x.decisions
        : (x.approvals || []).map((a) => ({ ...a, decision: 'approve' }));
      const recusals = x.recusals || [];
      const out = [
        h('p', { 'data-test': 'approvals-count' },
          t('grant.decisions.count', { have: number(have), need: number(need) }),
          x.status === 'submitted' ? [' ', t('grant.decisions.stillNeeded', { count: number(Math.max(need - have, 0)) })] : null),
        table({
          test: 'decisions-table',
          caption: t('grant.decisions.caption'),
          empty: t('grant.decisions.none'),
          rows: decisions,
          rowAttrs: (d) => ({ 'data-test': 'decision-row', dataset: { principalId: d.principal_id } }),
          columns: [
            { key: 'name', label: t('grant.decisions.col.who'), cell: (d) => who(d.name, d.principal_id) },
            { key: 'decision', label: t('grant.decisions.col.decision'), cell: (d) => (d.decision === 'reject' ? t('grant.decisions.reject') : t('grant.decisions.approve')) },
            { key: 'at', label: t('grant.decisions.col.at'), cell: (d) => dateTime(d.at) },
            { key: 'comment', label: t('grant.decisions.col.comment'), cell: (d) => d.comment || '' },
          ],
        }),
      ];
      if (recusals.length) {
        out.push(table({
          test: 'recusals-table',
          caption: t('grant.decisions.recusals'),
          empty: '',
          rows: recusals,
          rowAttrs: (r) => ({ 'data-test': 'recusal-row', dataset: { principalId: r.principal_id } }),
          columns: [
            { key: 'name', label: t('grant.decisions.col.who'), cell: (r) => who(r.name, r.principal_id) },
            { key: 'at', label: t('grant.decisions.col.at'), cell: (r) => dateTime(r.at) },
            { key: 'reason', label: t('grant.decisions.col.reason'), cell: (r) => r.reason || '' },
          ],
        }));
      }
      return section(t('grant.decisions.title'), 'grant-decisions', out);
    }

    function approverPart() {
      const x = g();
      if (!hasRole('approver') || x.status !== 'submitted') return null;
      const mine = x.created_by === me();
      const decided = (x.decisions || x.approvals || []).some((d) => d.principal_id === me());
      const recused = (x.recusals || []).some((r) => r.principal_id === me());
      if (decided || recused) {
        return section(t('grant.yours.title'), 'grant-yours',
          note(recused ? t('grant.yours.recused') : t('grant.yours.decided'), 'already-decided'),
          h('p', null, link('/queue', null, t('grant.yours.queue'), { 'data-test': 'back-to-queue' })));
      }
      return section(t('grant.yours.title'), 'grant-yours',
        mine ? note(t('grant.yours.mine'), 'own-application') : null,
        approveForm.draw(), rejectForm.draw(), recuseForm.draw());
    }

    function adminPart() {
      const x = g();
      if (!hasRole('admin')) return null;
      if (x.status === 'submitted') {
        return section(t('grant.manage.title'), 'grant-manage', updateForm.draw(), withdrawForm.draw());
      }
      if (x.status === 'approved') return section(t('grant.manage.title'), 'grant-manage', cancelForm.draw());
      return null;
    }

    function docButton(id) {
      const d = state.docs.get(id);
      const name = d ? (d.filename || d.document_id) : id;
      return h('li', null, h('button', {
        type: 'button', class: 'linkish', 'data-test': 'document-download', dataset: { documentId: id },
        'aria-label': t('milestone.documents.downloadNamed', { name }),
        on: {
          click: async () => {
            try {
              await downloadDocument(ctx.rpc, d || { document_id: id });
              say(t('milestone.documents.downloaded', { name }));
            } catch (err) {
              if (!err.unauthenticated) say(describe(err), 'error');
            }
          },
        },
      }, name),
      d ? h('span', { class: 'sub' }, t('milestone.documents.meta', { type: d.content_type, size: fileSize(d.size), when: dateTime(d.created_at) })) : null);
    }

    function milestonesPart() {
      const x = g();
      const admin = hasRole('admin');
      const out = [];
      if (state.parts.milestones) out.push(h('p', { class: 'error-text' }, describe(state.parts.milestones)));
      out.push(table({
        test: 'milestones-table',
        caption: t('milestone.caption'),
        empty: t('milestone.none'),
        rows: state.milestones,
        rowAttrs: (m) => ({ 'data-test': 'milestone-row', dataset: { milestoneId: m.milestone_id } }),
        columns: [
          {
            key: 'due_on', label: t('milestone.col.due'), cell: (m) => [date(m.due_on),
              m.overdue ? h('span', { class: 'sub gr-overdue', 'data-test': 'overdue' }, t('milestone.overdue')) : null],
          },
          { key: 'evidence_required', label: t('milestone.col.evidence'), cell: (m) => h('span', { class: 'purpose' }, m.evidence_required) },
          { key: 'amount', num: true, label: t('milestone.col.amount'), cell: (m) => money(m.amount, m.currency) },
          { key: 'status', label: t('milestone.col.status'), cell: (m) => milestoneBadge(m.status) },
          {
            key: 'documents', label: t('milestone.col.documents'), cell: (m) => ((m.document_ids || []).length
              ? h('ul', { class: 'gr-docs' }, m.document_ids.map(docButton)) : t('milestone.documents.none')),
          },
          {
            key: 'note', label: t('milestone.col.note'), cell: (m) => [
              m.note ? h('span', { class: 'purpose' }, m.note) : null,
              m.submitted_at ? h('span', { class: 'sub' }, t('milestone.submittedAt', { when: dateTime(m.submitted_at) })) : null,
              m.reason ? h('span', { class: 'sub' }, t('milestone.returnedBecause', { reason: m.reason })) : null,
              m.released_by ? h('span', { class: 'sub' }, t('milestone.paidBy', { id: m.released_by })) : null,
            ],
          },
        ],
      }));
      if (admin && ['submitted', 'approved'].includes(x.status)) out.push(milestoneForm.draw());
      if (admin && state.milestones.some((m) => m.status === 'open')) out.push(evidenceForm.draw());
      if (hasRole('admin', 'approver')) {
        const own = state.milestones.filter((m) => m.status === 'submitted' && m.submitted_by === me());
        for (const m of own) out.push(note(t('milestone.ownEvidence', { due: date(m.due_on) }), 'own-evidence'));
        if (decidable().length) out.push(acceptForm.draw(), returnForm.draw());
      }
      return section(t('milestone.title'), 'grant-milestones', out);
    }

    function tranchesPart() {
      const x = g();
      const out = [];
      if (state.parts.tranches) out.push(h('p', { class: 'error-text' }, describe(state.parts.tranches)));
      out.push(table({
        test: 'tranches-table',
        caption: t('tranche.caption'),
        empty: t('tranche.none'),
        rows: state.tranches,
        rowAttrs: (d) => ({ 'data-test': 'tranche-row', dataset: { disbursementId: d.disbursement_id } }),
        columns: [
          { key: 'disbursement_id', label: t('tranche.col.id'), cell: (d) => h('span', { class: 'code' }, d.disbursement_id) },
          { key: 'created_at', label: t('tranche.col.created'), cell: (d) => dateTime(d.created_at) },
          { key: 'amount', num: true, label: t('tranche.col.amount'), cell: (d) => money(d.amount, d.currency) },
          { key: 'status', label: t('tranche.col.status'), cell: (d) => trancheBadge(d.status) },
          {
            key: 'details', label: t('tranche.col.details'), cell: (d) => [
              d.reference ? h('span', { class: 'sub' }, t('tranche.reference', { ref: d.reference })) : null,
              d.payee_account ? h('span', { class: 'sub' }, t('tranche.account', { account: d.payee_account })) : null,
              d.milestone_id ? h('span', { class: 'sub' }, t('tranche.forMilestone', { id: d.milestone_id })) : null,
              d.status === 'pending' ? h('span', { class: 'sub' }, t('tranche.waiting')) : null,
              d.paid_at ? h('span', { class: 'sub' }, t('tranche.paidAt', { when: dateTime(d.paid_at), ref: d.bank_ref || '' })) : null,
              d.fail_reason ? h('span', { class: 'sub' }, t('tranche.failed', { reason: d.fail_reason })) : null,
              dec(d.refunded) && dec(d.refunded).v > 0n ? h('span', { class: 'sub' }, t('tranche.refunded', { amount: money(d.refunded, d.currency) })) : null,
            ],
          },
        ],
      }));
      if (hasRole('admin') && x.status === 'approved') {
        out.push(trancheForm.draw());
        out.push(h('p', { class: 'help' }, link('/payments', null, t('tranche.toPayments'), { 'data-test': 'to-payments' })));
      }
      return section(t('tranche.title'), 'grant-tranches', out);
    }

    function change(name, value) {
      const x = g();
      if (value === null || value === undefined) return t('grant.history.none');
      if (name === 'amount') return money(value, x.currency);
      if (name === 'category' && CATEGORIES.includes(value)) return t('category.' + value);
      return String(value);
    }

    function fieldName(f) {
      return HISTORY_FIELDS.includes(f) ? t('grant.history.field.' + f) : f;
    }

    function historyPart() {
      const out = [];
      if (state.parts.history) out.push(h('p', { class: 'error-text' }, describe(state.parts.history)));
      out.push(table({
        test: 'history-table',
        caption: t('grant.history.caption'),
        empty: t('grant.history.empty'),
        rows: state.history,
        rowAttrs: () => ({ 'data-test': 'history-row' }),
        columns: [
          { key: 'at', label: t('grant.history.col.at'), cell: (c) => dateTime(c.at) },
          { key: 'name', label: t('grant.history.col.who'), cell: (c) => who(c.name, c.principal_id) },
          {
            key: 'changes', label: t('grant.history.col.changes'), cell: (c) => h('ul', { class: 'gr-changes' },
              (c.fields || Object.keys(c.new || {})).map((f) => h('li', null, t('grant.history.change', {
                field: fieldName(f), old: change(f, (c.old || {})[f]), new: change(f, (c.new || {})[f]),
              })))),
          },
          {
            key: 'withdrawn', label: t('grant.history.col.withdrawn'), cell: (c) => ((c.withdrawn_approvals || []).length
              ? list(c.withdrawn_approvals.map((a) => who(a.name, a.principal_id))) : t('grant.history.noneWithdrawn')),
          },
        ],
      }));
      return section(t('grant.history.title'), 'grant-history', out);
    }

    return {
      load,
      draw(root) {
        const x = g();
        const wrap = h('div', { class: 'gr-page' });
        root.append(wrap);
        const id = grantId();
        wrap.append(pageHeading(t('grant.heading', { id }), x && !state.error ? [' ', grantBadge(x.status)] : null));
        wrap.append(h('p', { class: 'gr-back' },
          link('/grants', null, t('grant.back'), { 'data-test': 'back-to-grants' }),
          hasRole('approver') ? [' · ', link('/queue', null, t('grant.toQueue'), { 'data-test': 'to-queue' })] : null));
        if (state.error) { wrap.append(errorPanel(state.error, () => ctx.refresh())); return; }
        if (!x) { wrap.append(loading()); return; }
        wrap.append(summary(), fundNow(), decisionsPart());
        const mine = approverPart();
        if (mine) wrap.append(mine);
        const manage = adminPart();
        if (manage) wrap.append(manage);
        wrap.append(milestonesPart(), tranchesPart(), historyPart());
        wrap.append(h('p', null, h('button', {
          type: 'button', class: 'button secondary', 'data-test': 'refresh', on: { click: () => ctx.refresh() },
        }, t('app.refresh'))));
      },
    };
  },
};
