// Start-up, the page's frame (header, nav, status) and the hash router.

import { h, clear } from './dom.js';
import { t, lang, LANGS, initI18n, setLang, onLangChange } from './i18n.js';
import { createClient } from './rpc.js';
import * as session from './session.js';
import { describe, errorPanel } from './errors.js';
import { say, loading, pageHeading } from './ui.js';
import { list, dateTime } from './format.js';
import { signinView } from './views/signin.js';
import { dashboardView } from './views/dashboard.js';
import { queueView } from './views/queue.js';
import { contributionsView } from './views/contributions.js';
import * as grants from './views/grants.js';
import * as money from './views/money.js';
import * as people from './views/people.js';
import * as privacy from './views/privacy.js';
import * as audit from './views/audit.js';
import * as partner from './views/partner.js';

// The pages, in the order the navigation lists them. A page appears only for
// the roles that may call its methods; one with `hidden` (a record's own page,
// opened from a list) is never in the navigation.
const SECTIONS = [
  dashboardView, queueView, ...grants.views, ...money.views, contributionsView,
  ...people.views, ...privacy.views, ...audit.views, ...partner.views,
];
// Where each role lands after signing in, first match wins.
const HOME_BY_ROLE = [['admin', 'dashboard'], ['approver', 'queue'], ['partner', 'contributions'], ['auditor', 'dashboard']];

const SESSION_REASONS = ['bad_credentials', 'token_expired', 'no_credentials', 'bad_authorization_header'];

const homeView = {
  id: 'home',
  path: '/home',
  titleKey: 'home.title',
  create() {
    return {
      async load() {},
      draw(root) {
        root.append(pageHeading(t('home.title')), h('p', { class: 'intro' }, t('home.none')));
      },
    };
  },
};

let current = null;        // {def, view}
// {key, kind} shown on the sign-in screen: why the session ended, kept in the
// tab's sessionStorage so that a reload of the page still says it
const NOTICE_KEY = 'fundd.signinNotice';
let signinNotice = storedNotice();
let afterSignIn = null;    // {path, principalId}: the page to open after the next sign-in
let keepStatus = false;    // the status message outlives the next page change

const rpc = createClient({
  getToken: session.getToken,
  signedIn: () => !!(session.getToken() || session.byCertificate()),
  onUnauthenticated,
});

function $(id) { return document.getElementById(id); }

// A -32001 answer to any call: back to sign-in with the reason in words.
function onUnauthenticated(err) {
  if (!session.getToken() && !session.principal() && !session.byCertificate()) return;
  const path = currentPath();
  const lost = session.principal();
  // the page comes back only for the same principal signing in again
  afterSignIn = SECTIONS.some((sec) => sec.path === path)
    ? { path, hash: currentHash(), principalId: lost ? lost.principal_id : null } : null;
  session.signOut();
  const reason = SESSION_REASONS.includes(err.reason) ? err.reason : 'default';
  // said once, by the sign-in screen's notice (an alert), not in #status as well
  setNotice({ key: 'session.' + reason, kind: 'error' });
  drawShell();
  navigate('/signin');
}

function storedNotice() {
  try {
    const n = JSON.parse(sessionStorage.getItem(NOTICE_KEY));
    return n && typeof n.key === 'string' && /^(session|signin)\.\w+$/.test(n.key) ? n : null;
  } catch (e) {
    return null;
  }
}

function setNotice(n) {
  signinNotice = n;
  try {
    if (n) sessionStorage.setItem(NOTICE_KEY, JSON.stringify({ key: n.key, kind: n.kind }));
    else sessionStorage.removeItem(NOTICE_KEY);
  } catch (e) { /* storage off: the notice lasts until a reload */ }
}

function allowedSections() {
  return SECTIONS.filter((s) => session.hasRole(...s.roles));
}

function homePath() {
  const allowed = allowedSections().map((s) => s.id);
  for (const [role, id] of HOME_BY_ROLE) {
    if (session.hasRole(role) && allowed.includes(id)) return '/' + id;
  }
  return '/home';
}

function currentHash() {
  const hash = location.hash || '';
  return hash.startsWith('#') ? hash.slice(1) : hash;
}

function currentPath() {
  return (currentHash().split('?')[0] || '/').replace(/\/+$/, '') || '/';
}

// The page's params: #/grant?id=gr_1 -> URLSearchParams {id: 'gr_1'}
function currentParams() {
  const q = currentHash().split('?')[1];
  return new URLSearchParams(q || '');
}

// navigate('/grant?id=gr_1'), or navigate('/grant', {id: 'gr_1'})
function navigate(path, params) {
  const q = params ? new URLSearchParams(params).toString() : '';
  const target = path + (q ? '?' + q : '');
  if (currentHash() === target) route();
  else location.hash = '#' + target;
}

function redirect(path) {
  history.replaceState(null, '', '#' + path);
  return route();
}

function route() {
  const path = currentPath();
  if (!session.principal()) {
    if (path !== '/signin') {
      if (path !== '/' && path !== '/home') afterSignIn = { path, hash: currentHash(), principalId: null };
      return redirect('/signin');
    }
    return show(signinView);
  }
  if (path === '/home') {
    if (homePath() !== '/home') return redirect(homePath());
    return show(homeView);
  }
  const def = allowedSections().find((s) => s.path === path);
  if (!def) return redirect(homePath());
  return show(def);
}

// ---------------------------------------------------------------- views

const ctx = {
  rpc,
  params: () => currentParams(),
  navigate: (path, params) => navigate(path, params),
  redraw: () => drawView(),
  refresh: () => refresh(),
  signinNotice: () => signinNotice,
  signedIn,
};

// A selector that finds the focused element of the page again after a redraw.
function focusKey() {
  const main = $('main');
  const active = document.activeElement;
  if (!active || active === main || !main.contains(active)) return null;
  if (active.id) return '#' + CSS.escape(active.id);
  if (active.dataset && active.dataset.test) return '[data-test="' + CSS.escape(active.dataset.test) + '"]';
  return null;
}

function drawView(keep = focusKey()) {
  if (!current) return;
  const main = $('main');
  clear(main);
  current.view.draw(main);
  document.title = t(current.def.titleKey) + ' — ' + t('app.title');
  if (keep) {
    const again = main.querySelector(keep);
    // a pager button that just became disabled hands focus to its neighbour
    const group = again && again.disabled ? again.closest('[data-test="pager"]') : null;
    const other = group ? group.querySelector('button:not([disabled])') : null;
    if (again && !again.disabled) again.focus();
    else if (other) other.focus();
    else if (!main.contains(document.activeElement)) main.focus();
  }
}

async function refresh() {
  if (!current) return;
  const view = current.view;
  const keep = focusKey();
  const done = view.load(true);
  drawView(keep);
  await done;
  if (current && current.view === view) drawView(keep);
}

async function show(def) {
  const userMoved = current !== null;
  session.forgetReference();
  const view = def.create(ctx);
  current = { def, view };
  if (!keepStatus) say('');
  keepStatus = false;
  drawNav();
  const main = $('main');
  clear(main).append(pageHeading(t(def.titleKey)), loading());
  document.title = t(def.titleKey) + ' — ' + t('app.title');
  await view.load();
  if (!current || current.view !== view) return;
  drawView();
  if (userMoved) {
    const title = $('page-title');
    const firstField = def === signinView ? $('token') : null;
    (firstField || title || main).focus();
  }
}

// ---------------------------------------------------------------- sign in/out

// token: the bearer token signed in with, or null for the browser's certificate
async function signedIn(token, me) {
  if (token) session.setToken(token);
  else session.setCertificate();
  session.setPrincipal(me);
  setNotice(null);
  drawShell();
  keepStatus = true;
  say(t('signin.success', { name: me.name, roles: rolesText(me.roles) }), 'success');
  const wanted = afterSignIn
    && (afterSignIn.principalId === null || afterSignIn.principalId === me.principal_id)
    && allowedSections().find((sec) => sec.path === afterSignIn.path);
  const hash = wanted ? afterSignIn.hash : null;
  afterSignIn = null;
  navigate(hash || homePath());
}

function signOutClicked() {
  const byCertificate = session.byCertificate();
  session.signOut();
  afterSignIn = null;
  setNotice({ key: byCertificate ? 'signin.signedOutCertificate' : 'signin.signedOut', kind: 'info' });
  drawShell();
  navigate('/signin');
}

// ---------------------------------------------------------------- the frame

function rolesText(roles) {
  return list((roles || []).map((r) => t('roles.' + r)));
}

function drawShell() {
  $('app-title').textContent = t('app.title');
  const skip = $('skip-link');
  skip.textContent = t('app.skip');
  $('lang-label').textContent = t('lang.label');
  const select = $('lang');
  clear(select);
  for (const l of LANGS) {
    select.append(h('option', { value: l, lang: l, selected: l === lang() }, t('lang.' + l)));
  }
  select.value = lang();

  const me = session.principal();
  const who = $('who');
  who.hidden = !me;
  $('whoami-label').textContent = t('header.signedInAs');
  $('whoami-name').textContent = me ? me.name : '';
  $('whoami-roles').textContent = me ? rolesText(me.roles) : '';
  $('whoami-roles-label').textContent = t('header.roles');
  const expires = $('whoami-expires');
  expires.hidden = !(me && me.token_expires_at);
  expires.textContent = me && me.token_expires_at
    ? t('header.expires', { when: dateTime(me.token_expires_at) }) : '';
  $('sign-out').textContent = t('header.signOut');
  drawNav();
}

function drawNav() {
  const nav = $('nav');
  const ul = $('nav-list');
  clear(ul);
  nav.setAttribute('aria-label', t('nav.label'));
  const sections = session.principal() ? allowedSections().filter((s) => !s.hidden) : [];
  nav.hidden = sections.length === 0;
  for (const s of sections) {
    // a record's page (hidden) marks the list it belongs to (its `parent`)
    const here = current && (current.def === s || current.def.parent === s.id);
    ul.append(h('li', null, h('a', {
      href: '#' + s.path, id: 'nav-' + s.id, 'aria-current': here ? 'page' : null,
    }, t(typeof s.navKey === 'function' ? s.navKey() : s.navKey))));
  }
}

function wireShell() {
  $('lang').addEventListener('change', async (ev) => {
    await setLang(ev.target.value);
    say(t('lang.changed', { language: t('lang.' + lang()) }));
  });
  $('sign-out').addEventListener('click', signOutClicked);
  $('skip-link').addEventListener('click', (ev) => {
    ev.preventDefault();
    const title = $('page-title');
    (title || $('main')).focus();
  });
  onLangChange(() => {
    drawShell();
    drawView();
  });
  window.addEventListener('hashchange', route);
}

async function boot() {
  try {
    await initI18n();
  } catch (e) {
    // Without the translation files there is no text to show.
    document.documentElement.classList.add('broken');
    console.error(e);
    return;
  }
  wireShell();
  drawShell();
  // signed in earlier in this tab, by a token or by the browser's certificate
  if (session.getToken() || session.byCertificate()) {
    clear($('main')).append(loading());
    try {
      session.setPrincipal(await rpc.call('system.whoami'));
      drawShell();
    } catch (err) {
      if (err.unauthenticated) return; // onUnauthenticated has taken over
      say(describe(err), 'error');
      clear($('main')).append(errorPanel(err, () => { boot2(); }));
      return;
    }
  }
  route();
}

// "Try again" after a failed start: whoami once more, then the page.
async function boot2() {
  try {
    session.setPrincipal(await rpc.call('system.whoami'));
    drawShell();
    say('');
    route();
  } catch (err) {
    if (err.unauthenticated) return;
    say(describe(err), 'error');
    clear($('main')).append(errorPanel(err, () => { boot2(); }));
  }
}

boot();
