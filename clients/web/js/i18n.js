// Translations: i18n/<lang>/<part>.json for each language and each part of
// the console (nested objects; the same keys in all three languages; no
// top-level key in two parts). t('a.b.c', {name}) looks a key up in the
// current language, then in English, and replaces {name} placeholders.

export const LANGS = ['en', 'hy', 'ru'];
export const PARTS = ['common', 'grants', 'money', 'people', 'audit', 'partner', 'privacy'];
const STORAGE_KEY = 'fundd.lang';

const loaded = new Map();
let current = 'en';
let dict = {};
let fallback = {};
const listeners = new Set();

async function fetchPart(lang, part) {
  const url = new URL('../i18n/' + lang + '/' + part + '.json', import.meta.url);
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error('cannot load ' + url + ': HTTP ' + res.status);
  return res.json();
}

// A language's parts, fetched at once and merged at the top level.
async function fetchLang(lang) {
  if (loaded.has(lang)) return loaded.get(lang);
  const parts = await Promise.all(PARTS.map((part) => fetchPart(lang, part)));
  const data = {};
  parts.forEach((obj, i) => {
    for (const [key, value] of Object.entries(obj)) {
      if (key in data) throw new Error('i18n/' + lang + '/' + PARTS[i] + '.json: "' + key + '" is in another part too');
      data[key] = value;
    }
  });
  loaded.set(lang, data);
  return data;
}

function lookup(obj, key) {
  let node = obj;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object' || !(part in node)) return undefined;
    node = node[part];
  }
  return typeof node === 'string' ? node : undefined;
}

function interpolate(text, vars) {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : whole);
}

export function has(key) {
  return lookup(dict, key) !== undefined || lookup(fallback, key) !== undefined;
}

export function t(key, vars) {
  const text = lookup(dict, key) ?? lookup(fallback, key);
  return text === undefined ? key : interpolate(text, vars);
}

export function lang() {
  return current;
}

function initialLang() {
  let stored = null;
  try { stored = sessionStorage.getItem(STORAGE_KEY); } catch (e) { /* storage off */ }
  if (LANGS.includes(stored)) return stored;
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const base = String(l).toLowerCase().split('-')[0];
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

export async function setLang(next) {
  if (!LANGS.includes(next)) next = 'en';
  fallback = await fetchLang('en');
  dict = await fetchLang(next);
  current = next;
  try { sessionStorage.setItem(STORAGE_KEY, next); } catch (e) { /* storage off */ }
  document.documentElement.lang = next;
  for (const fn of listeners) fn(next);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

export async function initI18n() {
  await setLang(initialLang());
}
