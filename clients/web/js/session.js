// The signed-in principal. The bearer token lives in sessionStorage only
// (this tab, until it closes or the user signs out): never localStorage,
// cookies or the URL.

const TOKEN_KEY = 'fundd.token';
// Set while signed in by the client certificate the browser presents (no token
// is sent then: TLS carries the certificate).
const CERT_KEY = 'fundd.certificate';

let me = null;          // system.whoami's answer
let reference = null;   // {funds, regions} of the page open now

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  try { sessionStorage.removeItem(CERT_KEY); } catch (e) { /* storage off */ }
}

// Signed in by the browser's certificate (no token is sent; TLS carries it).
export function setCertificate() {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.setItem(CERT_KEY, 'certificate');
  } catch (e) { /* storage off */ }
}

export function byCertificate() {
  try { return sessionStorage.getItem(CERT_KEY) === 'certificate'; } catch (e) { return false; }
}

export function principal() {
  return me;
}

export function setPrincipal(p) {
  me = p;
}

export function roles() {
  return (me && Array.isArray(me.roles)) ? me.roles : [];
}

export function hasRole(...wanted) {
  const mine = roles();
  return wanted.some((r) => mine.includes(r));
}

export function signOut() {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(CERT_KEY);
  } catch (e) { /* storage off */ }
  me = null;
  reference = null;
}

// fund.list and region.list (both: any role), in one batch, fetched once per
// page opened (main.js forgets them at each page change), so a fund created
// since shows on the next page.
export function forgetReference() {
  reference = null;
}

export async function referenceData(rpc) {
  if (reference) return reference;
  const [funds, regions] = await rpc.batch([
    { method: 'fund.list' },
    { method: 'region.list' },
  ]);
  if (funds.error) throw funds.error;
  if (regions.error) throw regions.error;
  reference = {
    funds: funds.result.funds || [],
    regions: regions.result.regions || [],
  };
  return reference;
}

export function cachedReference() {
  return reference;
}
