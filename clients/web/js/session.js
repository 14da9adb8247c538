// The signed-in principal. The bearer token lives in sessionStorage only
// (this tab, until it closes or the user signs out): never localStorage,
// cookies or the URL.

const TOKEN_KEY = 'fundd.token';

let me = null;          // system.whoami's answer
let reference = null;   // {funds, regions} fetched once per session

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
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
  try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage off */ }
  me = null;
  reference = null;
}

// fund.list and region.list (both: any role), in one batch, kept per session.
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
