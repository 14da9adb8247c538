// Charts as SVG, each with its numbers as a table for screen readers (the
// drawing is aria-hidden; the table is the accessible form of the same data).
//
//   barChart({ title, test, rows: [{ label, value, text }] })
//     horizontal bars, one per row: label, bar, text (the formatted value)
//   columnChart({ title, test, rows: [{ label, value, text }] })
//     vertical columns in row order (a series over time), labels under them
//
// value: a number or a decimal string; only the drawing uses it as a float (a
// bar's length). The figures a person reads are always `text`, formatted from
// the exact decimal by format.js.

import { h, nextId } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined && v !== false) el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function magnitude(v) {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

function dataTable(captionId, title, rows, labelHead, valueHead) {
  return h('table', { class: 'sr-only chart-table', 'aria-labelledby': captionId },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, labelHead), h('th', { scope: 'col', class: 'num' }, valueHead))),
    h('tbody', null, rows.map((r) => h('tr', null,
      h('th', { scope: 'row' }, r.label), h('td', { class: 'num' }, r.text)))));
}

function figure(test, title, captionId, drawing, table) {
  return h('figure', { class: 'chart', 'data-test': test },
    h('figcaption', { id: captionId, class: 'chart-title' }, title),
    drawing, table);
}

// labelHead, valueHead: the table's column headings.
export function barChart({ title, test, rows, labelHead, valueHead }) {
  const captionId = nextId('chart');
  const width = 640;
  const rowH = 28;
  const labelW = 220;
  const textW = 130;
  const barMax = width - labelW - textW - 16;
  const max = Math.max(0, ...rows.map((r) => Math.abs(magnitude(r.value))));
  const height = Math.max(rowH * rows.length, rowH);
  const svg = s('svg', {
    class: 'chart-svg', viewBox: '0 0 ' + width + ' ' + height, width: '100%',
    preserveAspectRatio: 'xMinYMin meet', 'aria-hidden': 'true', focusable: 'false',
  }, rows.map((r, i) => {
    const v = magnitude(r.value);
    const len = max > 0 ? Math.max(Math.round((Math.abs(v) / max) * barMax), v !== 0 ? 2 : 0) : 0;
    const y = i * rowH;
    return s('g', { 'data-label': r.label },
      s('text', { class: 'chart-label', x: labelW - 8, y: y + rowH / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, r.label),
      s('rect', { class: v < 0 ? 'chart-bar chart-bar-neg' : 'chart-bar', x: labelW, y: y + 5, width: len, height: rowH - 10, rx: 2 }),
      s('text', { class: 'chart-value', x: labelW + len + 6, y: y + rowH / 2, 'dominant-baseline': 'middle' }, r.text));
  }));
  return figure(test, title, captionId, svg, dataTable(captionId, title, rows, labelHead, valueHead));
}

export function columnChart({ title, test, rows, labelHead, valueHead }) {
  const captionId = nextId('chart');
  const colW = Math.max(28, Math.min(64, Math.floor(600 / Math.max(rows.length, 1))));
  const width = Math.max(colW * rows.length, 200);
  const top = 22;
  const plot = 160;
  const height = top + plot + 34;
  const max = Math.max(0, ...rows.map((r) => magnitude(r.value)));
  const min = Math.min(0, ...rows.map((r) => magnitude(r.value)));
  const span = max - min || 1;
  const zero = top + (max / span) * plot;
  const svg = s('svg', {
    class: 'chart-svg', viewBox: '0 0 ' + width + ' ' + height, width: '100%',
    preserveAspectRatio: 'xMinYMin meet', 'aria-hidden': 'true', focusable: 'false',
  },
  s('line', { class: 'chart-axis', x1: 0, x2: width, y1: zero, y2: zero }),
  rows.map((r, i) => {
    const v = magnitude(r.value);
    const len = (Math.abs(v) / span) * plot;
    const x = i * colW + 4;
    const y = v >= 0 ? zero - len : zero;
    return s('g', { 'data-label': r.label },
      s('rect', { class: v < 0 ? 'chart-bar chart-bar-neg' : 'chart-bar', x, y, width: colW - 8, height: Math.max(len, v !== 0 ? 1 : 0) }),
      s('text', { class: 'chart-label', x: x + (colW - 8) / 2, y: height - 12, 'text-anchor': 'middle' }, r.label));
  }));
  return figure(test, title, captionId, svg, dataTable(captionId, title, rows, labelHead, valueHead));
}
