// <hearth-sparkline>: a small inline-SVG line chart of recent values, with the latest value
// and the range in words (for screen readers too). Set `.values = [numbers]`; attributes
// `label` and `unit` name what it shows.

import { h, replace } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 200;
const HEIGHT = 40;

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

function format(value) {
  if (!Number.isFinite(value)) return '—';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export class Sparkline extends HTMLElement {
  #values = [];

  set values(values) {
    this.#values = (values ?? []).filter((v) => typeof v === 'number' && Number.isFinite(v));
    this.render();
  }

  get values() {
    return this.#values;
  }

  connectedCallback() {
    this.render();
  }

  render() {
    const label = this.getAttribute('label') ?? '';
    const unit = this.getAttribute('unit') ?? '';
    const values = this.#values;
    const last = values.at(-1);
    const min = Math.min(...values);
    const max = Math.max(...values);
    const summary = values.length
      ? `${label}: latest ${format(last)} ${unit}, range ${format(min)}–${format(max)} over ${values.length} requests`
      : `${label}: no requests yet`;

    const chart = svg('svg', {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'sparkline-chart', role: 'img',
      'aria-label': summary, preserveAspectRatio: 'none',
    });
    if (values.length > 0) {
      const span = max - min || 1;
      const step = values.length > 1 ? WIDTH / (values.length - 1) : 0;
      const points = values.map((v, i) => {
        const x = values.length > 1 ? i * step : WIDTH / 2;
        const y = HEIGHT - 3 - ((v - min) / span) * (HEIGHT - 6);
        return [x, y];
      });
      const line = points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
      chart.append(svg('polygon', {
        class: 'sparkline-area',
        points: `0,${HEIGHT} ${line} ${points.at(-1)[0].toFixed(1)},${HEIGHT}`,
      }));
      chart.append(svg('polyline', { class: 'sparkline-line', points: line }));
      const [x, y] = points.at(-1);
      chart.append(svg('circle', { class: 'sparkline-dot', cx: x, cy: y, r: 2.5 }));
    } else {
      chart.append(svg('line', {
        class: 'sparkline-empty', x1: 0, y1: HEIGHT / 2, x2: WIDTH, y2: HEIGHT / 2,
      }));
    }

    replace(this,
      h('div', { class: 'sparkline-head' },
        h('span', { class: 'sparkline-label', text: label }),
        h('span', { class: 'sparkline-value', text: values.length ? `${format(last)} ${unit}` : '—' })),
      chart,
      h('div', { class: 'sparkline-range muted', 'aria-hidden': 'true',
        text: values.length ? `min ${format(min)} · max ${format(max)}` : 'no requests yet' }));
  }
}

customElements.define('hearth-sparkline', Sparkline);
