// JSON-RPC 2.0 over POST /rpc with a bearer token (docs/protocol.md).
//
//   const rpc = createClient({ getToken, onUnauthenticated });
//   const me = await rpc.call('system.whoami');
//   const [a, b] = await rpc.batch([{method, params}, ...]); // each {result} or {error}
//   await rpc.idle();   // no request on its way
//
// Failures are thrown (call) or returned (batch items) as RpcError, which
// always has a code and a reason: the server's error.data.reason, or one of the
// client's own reasons (code null): network, timeout, bad_response, http_status.

export class RpcError extends Error {
  constructor(code, message, data, httpStatus) {
    super(message || (data && data.reason) || 'error');
    this.name = 'RpcError';
    this.code = code;
    this.data = data && typeof data === 'object' ? data : {};
    this.reason = this.data.reason || null;
    this.httpStatus = httpStatus || null;
  }

  get unauthenticated() {
    return this.code === -32001;
  }
}

const TIMEOUT_MS = 30000;
let nextId = 1;

function errorOf(obj, httpStatus) {
  const e = obj && obj.error;
  if (!e || typeof e !== 'object') {
    return new RpcError(null, 'bad response', { reason: 'bad_response' }, httpStatus);
  }
  return new RpcError(typeof e.code === 'number' ? e.code : null, e.message, e.data, httpStatus);
}

// signedIn(): whether the session has credentials (a token, or the browser's
// certificate). After signing out, a call still made by a page that was loading
// is not sent: it fails at once as -32001 signed_out.
export function createClient({ endpoint = '/rpc', getToken, signedIn, onUnauthenticated }) {
  function ended(opts) {
    return opts.token === undefined && signedIn && !signedIn();
  }

  let inFlight = 0;
  let waiting = [];

  // Resolves once no request is on its way (before replacing the session's own
  // token, so that none is refused for carrying the old one).
  function idle() {
    return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => waiting.push(resolve));
  }

  function settled() {
    inFlight -= 1;
    if (inFlight === 0) {
      const ready = waiting;
      waiting = [];
      ready.forEach((resolve) => resolve());
    }
  }

  async function post(body, token) {
    inFlight += 1;
    try {
      return await send(body, token);
    } finally {
      settled();
    }
  }

  async function send(body, token) {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    let res;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        cache: 'no-store',
        redirect: 'error',
        signal: ctl.signal,
      });
    } catch (e) {
      const reason = e && e.name === 'AbortError' ? 'timeout_client' : 'network';
      throw new RpcError(null, String(e && e.message), { reason });
    } finally {
      clearTimeout(timer);
    }
    if (res.status === 204) return { status: 204, json: null };
    let json;
    try {
      json = await res.json();
    } catch (e) {
      throw new RpcError(null, 'HTTP ' + res.status, {
        reason: res.ok ? 'bad_response' : 'http_status', status: res.status,
      }, res.status);
    }
    return { status: res.status, json };
  }

  // A request sent with a token the session has since replaced (its own token
  // rotated while the request was on its way) is sent once more with the new
  // one: the refusal concerned the old token, not the session.
  function replaced(token, opts) {
    const now = getToken();
    return opts.token === undefined && !!token && !!now && now !== token;
  }

  function authFailed(err, opts) {
    if (err.unauthenticated && !opts.quietAuth && onUnauthenticated) onUnauthenticated(err);
    return err;
  }

  // opts.token: use this token instead of the stored one (signing in);
  // opts.quietAuth: do not run onUnauthenticated for a -32001 (signing in).
  async function call(method, params, opts = {}) {
    if (ended(opts)) throw authFailed(new RpcError(-32001, 'signed out', { reason: 'signed_out' }), opts);
    const id = nextId++;
    const req = { jsonrpc: '2.0', id, method };
    if (params && Object.keys(params).length) req.params = params;
    const token = opts.token !== undefined ? opts.token : getToken();
    const { status, json } = await post(req, token);
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      throw new RpcError(null, 'bad response', { reason: 'bad_response' }, status);
    }
    if (json.error) {
      const err = errorOf(json, status);
      if (err.unauthenticated && replaced(token, opts)) return call(method, params, opts);
      throw authFailed(err, opts);
    }
    if (!('result' in json) || (json.id !== id && json.id !== null)) {
      throw new RpcError(null, 'bad response', { reason: 'bad_response' }, status);
    }
    return json.result;
  }

  // Up to 100 calls in one request; answers come back in the calls' order as
  // {result} or {error: RpcError}. A failure of the whole request is thrown.
  async function batch(calls, opts = {}) {
    if (!calls.length) return [];
    if (ended(opts)) throw authFailed(new RpcError(-32001, 'signed out', { reason: 'signed_out' }), opts);
    const out = [];
    for (let i = 0; i < calls.length; i += 100) {
      const chunk = calls.slice(i, i + 100);
      const reqs = chunk.map(({ method, params }) => {
        const req = { jsonrpc: '2.0', id: nextId++, method };
        if (params && Object.keys(params).length) req.params = params;
        return req;
      });
      const token = opts.token !== undefined ? opts.token : getToken();
      const { status, json } = await post(reqs, token);
      if (!Array.isArray(json)) {
        // 401 (and a malformed batch) answer one error object for the whole request
        const err = errorOf(json, status);
        if (err.unauthenticated && replaced(token, opts)) {
          out.push(...await batch(chunk, opts));
          continue;
        }
        throw authFailed(err, opts);
      }
      const byId = new Map(json.map((r) => [r && r.id, r]));
      for (const req of reqs) {
        const r = byId.get(req.id);
        if (!r) out.push({ error: new RpcError(null, 'no answer', { reason: 'bad_response' }, status) });
        else if (r.error) out.push({ error: authFailed(errorOf(r, status), opts) });
        else out.push({ result: r.result });
      }
    }
    return out;
  }

  return { call, batch, idle };
}
