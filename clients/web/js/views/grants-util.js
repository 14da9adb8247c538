// Shared pieces of the grants pages: the evidence documents (POST /documents, GET /documents/{id},
// docs/protocol.md "Milestones and evidence"), and a few small builders.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { afterRefusal, download, refusal, send } from '../files.js';
import { statusBadge } from '../ui.js';
import { number } from '../format.js';

export const GRANT_STATES = ['submitted', 'approved', 'rejected', 'withdrawn', 'completed', 'cancelled'];
export const MILESTONE_STATES = ['open', 'submitted', 'accepted'];
export const TRANCHE_STATES = ['pending', 'paid', 'failed'];

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

// Stores one file; `key` makes a retry answer the same document.
export async function uploadDocument(rpc, file, key) {
  const type = await sniff(file);
  const q = file.name ? '?filename=' + encodeURIComponent(file.name.slice(0, 255)) : '';
  const res = await send('/documents' + q, {
    method: 'POST',
    headers: { 'Content-Type': type || 'application/octet-stream', 'Idempotency-Key': key },
    body: file,
  });
  if (res.status !== 201 && res.status !== 200) {
    const err = await refusal(res);
    await afterRefusal(rpc, err);
    throw err;
  }
  const body = await res.json();
  return body.result;
}

// Saves a document (with the bearer token) as a download.
export function downloadDocument(rpc, doc) {
  return download(rpc, '/documents/' + encodeURIComponent(doc.document_id), doc.filename || doc.document_id);
}

export function fileSize(bytes) {
  const n = Number(bytes) || 0;
  if (n >= 1024 * 1024) return t('milestone.evidence.sizeMB', { n: number(Math.round(n / 104857.6) / 10) });
  if (n >= 1024) return t('milestone.evidence.sizeKB', { n: number(Math.ceil(n / 1024)) });
  return t('milestone.evidence.sizeB', { n: number(n) });
}

