// Finding a beneficiary by the whole full name or the whole national id
// (returnee.find, docs/protocol.md): the search of #/returnees, of #/privacy
// and of the grant application on #/grants. fundd finds people through a keyed
// hash of each (docs/privacy.md), so a part of a name finds nobody: the form
// offers no type-ahead and searches only when it is sent, and an empty result
// says why. What was typed stays in the page's memory, never in the URL or in
// storage.
//
//   const finder = returneeFinder({ rpc: ctx.rpc, redraw: ctx.redraw, ids: 'find',
//     test: { form, submit, clear, error, table, row },   // the data-test names
//     title: () => t(..), help: () => t(..), fields: () => [{ id, name, label }] });
//   section(.., finder.form(), finder.results({ caption, columns }));
//
// A field named name or national_id fills that param of one search (with both,
// a person matches both); a field named query is searched as a name and as a
// national id at once, in one request, a person found both ways shown once.
// Any other field is the screen's own: before(terms), if given, sees what was
// typed first and returns true when it has dealt with it (nothing is searched).
// With one field, the help is that field's own; with more, one paragraph above
// them describes them all. Nothing typed is said at the form and nothing is sent.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { number } from '../format.js';
import { describe, markFields } from '../errors.js';
import { field, say, table } from '../ui.js';

// the error of a search with nothing typed
const NOTHING = { nothing: true };

// The params of each returnee.find call for what was typed.
function searches(terms) {
  if (terms.query) return [{ name: terms.query }, { national_id: terms.query }];
  const one = {};
  if (terms.name) one.name = terms.name;
  if (terms.national_id) one.national_id = terms.national_id;
  return Object.keys(one).length ? [one] : [];
}

// The searches in one request: {found, error}, each person found once (in the
// order of the answers), or the first error when no search was answered.
async function findAll(rpc, list) {
  let answers;
  try {
    answers = await rpc.batch(list.map((params) => ({ method: 'returnee.find', params })));
  } catch (err) {
    return { found: null, error: err };
  }
  if (answers.every((a) => a.error)) return { found: null, error: answers[0].error };
  const seen = new Map();
  for (const a of answers) {
    for (const r of (a.result && a.result.returnees) || []) if (!seen.has(r.returnee_id)) seen.set(r.returnee_id, r);
  }
  return { found: [...seen.values()], error: null };
}

// shownTitle: the form's title as an h3 (else an h2 for screen readers only,
// under a section that says it). needOne, empty: the screen's own words for
// nothing typed and for nobody found.
export function returneeFinder({
  rpc, redraw, ids, test, title, help, fields, before, needOne, empty,
  shownTitle = false, formClass = 'filters', buttonClass = 'button',
}) {
  const s = { terms: {}, searched: {}, busy: false, found: null, error: null };
  const nothingText = () => (needOne ? needOne() : t('returneeFind.needOne'));
  const emptyText = () => (empty ? empty() : t('returneeFind.empty'));

  async function run(form) {
    if (s.busy) return;
    const terms = {};
    for (const f of fields()) terms[f.name] = form.elements.namedItem(f.name).value.trim();
    s.terms = terms;
    if (before && before(terms)) return;
    const list = searches(terms);
    if (!list.length) {
      Object.assign(s, { found: null, error: NOTHING });
      say(nothingText(), 'error');
      redraw();
      return;
    }
    Object.assign(s, { busy: true, error: null });
    redraw();
    const { found, error } = await findAll(rpc, list);
    Object.assign(s, { busy: false, found, error, searched: terms });
    if (error) {
      if (!error.unauthenticated) say(describe(error), 'error');
    } else {
      say(found.length ? t('returneeFind.done', { count: number(found.length) }) : emptyText());
    }
    redraw();
  }

  function clear() {
    Object.assign(s, { terms: {}, found: null, error: null });
    redraw();
  }

  function form() {
    const helpId = ids + '-help';
    const list = fields();
    const one = list.length === 1;
    const el = h('form', {
      class: formClass, role: 'search', 'data-test': test.form, novalidate: true, 'aria-labelledby': ids + '-title',
      on: { submit: (ev) => { ev.preventDefault(); run(ev.currentTarget); } },
    },
    shownTitle ? h('h3', { id: ids + '-title' }, title()) : h('h2', { id: ids + '-title', class: 'sr-only' }, title()),
    one ? null : h('div', { class: 'find-help' }, h('p', { id: helpId, class: 'help', 'data-test': helpId }, help())),
    list.map((f) => {
      const box = field({
        id: f.id, name: f.name, label: f.label, value: s.terms[f.name], autocomplete: 'off', help: one ? help() : undefined,
      });
      if (!one) box.querySelector('input').setAttribute('aria-describedby', helpId);
      return box;
    }),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: buttonClass, 'data-test': test.submit, 'aria-disabled': s.busy ? 'true' : null },
        s.busy ? t('forms.working') : t('returneeFind.submit')),
      s.found || s.error ? h('button', {
        type: 'button', class: 'button secondary', 'data-test': test.clear, on: { click: clear },
      }, t('returneeFind.clear')) : null));
    if (s.error && (s.error === NOTHING || !markFields(el, s.error))) {
      el.append(h('p', { class: 'error-text', role: 'alert', 'data-test': test.error },
        s.error === NOTHING ? nothingText() : describe(s.error)));
    }
    return el;
  }

  // The people found as a table (null before a search): caption, a text or a
  // function of the terms searched; columns as ui.js table takes them.
  function results({ caption, columns }) {
    if (!s.found) return null;
    return table({
      test: test.table,
      caption: typeof caption === 'function' ? caption(s.searched) : caption,
      empty: emptyText(),
      rows: s.found,
      rowAttrs: (r) => ({ 'data-test': test.row, dataset: { returneeId: r.returnee_id } }),
      columns,
    });
  }

  return { form, results };
}
