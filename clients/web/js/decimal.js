// Money as the wire carries it, decimal strings, computed exactly with BigInt:
// never as floating-point numbers.
//
//   dec('1250.50') -> {v: 125050n, scale: 2}   (null for anything else)
//   add, sub, cmp on those; decString(x) -> '1250.50'
//   sum(['1.50', '2.25']) -> '3.75'   (a value that is no decimal counts as 0)
//   isZero('0.00'), abs('-5.00') -> '5.00', same('1.50', '1.5')

const DEC_RE = /^(-?)(\d+)(?:\.(\d+))?$/;

export function dec(s) {
  const m = DEC_RE.exec(String(s ?? ''));
  if (!m) return null;
  const v = BigInt(m[2] + (m[3] || ''));
  return { v: m[1] ? -v : v, scale: (m[3] || '').length };
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

export function decString(x) {
  const neg = x.v < 0n;
  let digits = (neg ? -x.v : x.v).toString();
  if (x.scale > 0) {
    digits = digits.padStart(x.scale + 1, '0');
    digits = digits.slice(0, -x.scale) + '.' + digits.slice(-x.scale);
  }
  return (neg ? '-' : '') + digits;
}

export function sum(values) {
  let total = { v: 0n, scale: 0 };
  for (const v of values) total = add(total, dec(v) || { v: 0n, scale: 0 });
  return decString(total);
}

export function isZero(s) {
  const x = dec(s);
  return !x || x.v === 0n;
}

export function abs(s) {
  const text = String(s ?? '');
  return text.startsWith('-') ? text.slice(1) : text;
}

// Whether two decimal strings are the same number ('1.50' and '1.5').
export function same(a, b) {
  const x = dec(a);
  const y = dec(b);
  return x && y ? cmp(x, y) === 0 : String(a) === String(b);
}
