// Shared pieces of the grants pages: exact decimal arithmetic on money strings
// (never floats), the evidence documents (POST /documents, GET /documents/{id},
// docs/protocol.md "Milestones and evidence"), and a few small builders.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { RpcError } from '../rpc.js';
import { getToken } from '../session.js';
import { statusBadge } from '../ui.js';
import { number } from '../format.js';

export const GRANT_STATES = ['submitted', 'approved', 'rejected', 'withdrawn', 'completed', 'cancelled'];
export const MILESTONE_STATES = ['open', 'submitted', 'accepted'];
export const TRANCHE_STATES = ['pending', 'paid', 'failed'];

// ---------------------------------------------------------------- money as decimals

const DEC_RE = /^(-?)(\d+)(?:\.(\d+))?$/;

// '1250.50' -> {v: 125050n, scale: 2}; null for anything else
export function dec(s) {
  const m = DEC_RE.exec(String(s ?? ''));
  if (!m) return null;
  return { v: BigInt(m[1] + m[2] + (m[3] || '')), scale: (m[3] || '').length };
}

function at(x, scale) {
  return x.v * 10n ** BigInt(scale - x.scale);
}

export function cmp(a, b) {
  const s = Math.max(a.scale, b.scale);
  const x = at(a, s);
  const y = at(b, s);
  return x < y ? -1 : (x > y ? 1 : 0);
}

function combine(a, b, sign) {
  const s = Math.max(a.scale, b.scale);
  return { v: at(a, s) + sign * at(b, s), scale: s };
}

export function add(a, b) { return combine(a, b, 1n); }
export function sub(a, b) { return combine(a, b, -1n); }

// {v, scale} -> '1250.50'
export function decString(x) {
  const neg = x.v < 0n;
  let digits = (neg ? -x.v : x.v).toString();
  if (x.scale > 0) {
    digits = digits.padStart(x.scale + 1, '0');
    digits = digits.slice(0, -x.scale) + '.' + digits.slice(-x.scale);
  }
  return (neg ? '-' : '') + digits;
}

// ---------------------------------------------------------------- badges

export function grantBadge(status) {
  return GRANT_STATES.includes(status) ? statusBadge('grantStatus', status) : status;
}

export function milestoneBadge(status) {
  return MILESTONE_STATES.includes(status) ? statusBadge('milestoneStatus', status) : status;
}

export function trancheBadge(status) {
  return TRANCHE_STATES.includes(status) ? statusBadge('tranche.status', status) : status;
}

// A short note (an aside that is no error)
export function note(text, test, kind = '') {
  return h('p', { class: ['notice', kind ? 'notice-' + kind : null], 'data-test': test }, text);
}

// ---------------------------------------------------------------- documents

const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024; // the daemon's default max_document_bytes

// The type a file's first bytes show (the daemon checks the same way, never by name).
export async function sniff(file) {
  const b = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  const starts = (...bytes) => bytes.every((x, i) => b[i] === x);
  if (starts(0x25, 0x50, 0x44, 0x46, 0x2d)) return 'application/pdf';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  return null;
}

// What is wrong with a chosen file, as a sentence, or null when it may be sent.
export async function fileProblem(file) {
  if (file.size > MAX_DOCUMENT_BYTES) return t('milestone.evidence.tooLarge', { name: file.name });
  if (!(await sniff(file))) return t('milestone.evidence.badType', { name: file.name });
  return null;
}

async function errorOf(res) {
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (body && body.error && typeof body.error === 'object') {
    const e = body.error;
    return new RpcError(typeof e.code === 'number' ? e.code : null, e.message, e.data, res.status);
  }
  return new RpcError(null, 'HTTP ' + res.status, { reason: 'http_status', status: res.status }, res.status);
}

// A 401 from a document request: let the RPC client see it too, so the console
// signs out with the reason (main.js handles -32001 for every call).
async function recheck(rpc, err) {
  if (err.code === -32001) {
    try { await rpc.call('system.whoami'); } catch (e) { /* handled by the client */ }
  }
}

// The bearer token when signed in by one; none when the browser's client
// certificate signs the requests in (TLS carries it).
function auth(headers = {}) {
  const token = getToken();
  return token ? { ...headers, Authorization: 'Bearer ' + token } : headers;
}

async function send(url, options) {
  try {
    return await fetch(url, { cache: 'no-store', redirect: 'error', ...options });
  } catch (e) {
    throw new RpcError(null, String(e && e.message), { reason: 'network' });
  }
}

// Stores one file; `key` makes a retry answer the same document.
export async function uploadDocument(rpc, file, key) {
  const type = await sniff(file);
  const q = file.name ? '?filename=' + encodeURIComponent(file.name.slice(0, 255)) : '';
  const res = await send('/documents' + q, {
    method: 'POST',
    headers: auth({ 'Content-Type': type || 'application/octet-stream', 'Idempotency-Key': key }),
    body: file,
  });
  if (res.status !== 201 && res.status !== 200) {
    const err = await errorOf(res);
    await recheck(rpc, err);
    throw err;
  }
  const body = await res.json();
  return body.result;
}

// Fetches a document with the bearer token and hands it to the browser as a download.
export async function downloadDocument(rpc, doc) {
  const res = await send('/documents/' + encodeURIComponent(doc.document_id), {
    headers: auth(),
  });
  if (!res.ok) {
    const err = await errorOf(res);
    await recheck(rpc, err);
    throw err;
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: doc.filename || doc.document_id, class: 'sr-only' }, doc.filename || doc.document_id);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export function fileSize(bytes) {
  const n = Number(bytes) || 0;
  if (n >= 1024 * 1024) return t('milestone.evidence.sizeMB', { n: number(Math.round(n / 104857.6) / 10) });
  if (n >= 1024) return t('milestone.evidence.sizeKB', { n: number(Math.ceil(n / 1024)) });
  return t('milestone.evidence.sizeB', { n: number(n) });
}

