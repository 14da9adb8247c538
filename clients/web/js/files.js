// Files to and from fundd beside /rpc (docs/protocol.md): the exports
// (GET /export/...) and evidence documents (POST /documents, GET /documents/ID),
// with the session's bearer token, or none when the browser's client certificate
// signs the requests in (TLS carries it). A refusal is thrown as an RpcError.

import { h } from './dom.js';
import { RpcError } from './rpc.js';
import { getToken } from './session.js';

export function authHeaders(headers = {}) {
  const token = getToken();
  return token ? { ...headers, Authorization: 'Bearer ' + token } : headers;
}

// fetch, with a failure to reach the daemon as an RpcError (reason network).
export async function send(url, options = {}) {
  try {
    return await fetch(url, { cache: 'no-store', redirect: 'error', ...options, headers: authHeaders(options.headers) });
  } catch (e) {
    throw new RpcError(null, String(e && e.message), { reason: 'network' });
  }
}

// A refused answer as an RpcError: its JSON-RPC error when it has one (401, 403,
// the reports' and documents' refusals), else the HTTP status, with the
// server's line of text kept as serverText for the support reference.
export async function refusal(res) {
  const text = await res.text().catch(() => '');
  try {
    const json = JSON.parse(text);
    if (json && json.error && typeof json.error === 'object') {
      const e = json.error;
      return new RpcError(typeof e.code === 'number' ? e.code : null, e.message, e.data, res.status);
    }
  } catch (e) { /* not JSON: a line of text */ }
  const err = new RpcError(null, text, { reason: 'http_status', status: res.status }, res.status);
  err.serverText = text.trim().slice(0, 300);
  return err;
}

// After a 401 the session has ended: one JSON-RPC call lets the console sign
// out and say why, as it does for any call (main.js).
export async function afterRefusal(rpc, err) {
  if (err.httpStatus === 401 || err.code === -32001) {
    try { await rpc.call('system.whoami'); } catch (e) { /* handled by the client */ }
  }
}

// Hands a Blob to the browser as a download named filename.
export function saveBlob(blob, filename) {
  const href = URL.createObjectURL(blob);
  const a = h('a', { href, download: filename, class: 'sr-only', tabindex: '-1' }, filename);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60000);
}

// GETs url and saves the answer as filename; returns its size in bytes. An
// answer cut off half-way is never saved in part (reason interrupted).
export async function download(rpc, url, filename) {
  const res = await send(url);
  if (!res.ok) {
    const err = await refusal(res);
    await afterRefusal(rpc, err);
    throw err;
  }
  let blob;
  try {
    blob = await res.blob();
  } catch (e) {
    throw new RpcError(null, String(e && e.message), { reason: 'interrupted' });
  }
  saveBlob(blob, filename);
  return blob.size;
}
