// DOM helpers. Every element is built with createElement and every text goes
// in through textContent / text nodes: no HTML parsing of data anywhere.

// h('td', {class: 'num', dataset: {col: 'available'}}, 'text', childNode, [more])
// attrs: class, dataset, on (map of event listeners), boolean attributes
// (true sets "", false/null/undefined leaves out), everything else setAttribute.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') {
        el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      } else if (key === 'dataset') {
        for (const [k, v] of Object.entries(value)) {
          if (v !== undefined && v !== null) el.dataset[k] = String(v);
        }
      } else if (key === 'on') {
        for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
      } else if (key === 'value' && (tag === 'input' || tag === 'select' || tag === 'textarea')) {
        el.value = value;
      } else if (/^on/i.test(key) || key === 'style') {
        // The Content-Security-Policy forbids inline handlers and styles.
        throw new Error('h(): attribute not allowed: ' + key);
      } else {
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return prefix + '-' + uid;
}
