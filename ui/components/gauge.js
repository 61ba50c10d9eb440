// <hearth-gauge>: the machine's memory as a bar (used of total) with the pressure level.
// Set `.memory = {total, used, available, swapTotal, swapUsed, pressure, gpuLimit}` or null (unknown).

import { bytes, h, replace, tone } from './dom.js';

export class Gauge extends HTMLElement {
  #memory = null;

  set memory(memory) {
    this.#memory = memory ?? null;
    this.render();
  }

  get memory() {
    return this.#memory;
  }

  connectedCallback() {
    this.render();
  }

  render() {
    const memory = this.#memory;
    if (!memory || !memory.total) {
      replace(this, h('p', { class: 'muted', text: 'Memory: this platform does not tell.' }));
      return;
    }
    const used = memory.used ?? memory.total - (memory.available ?? 0);
    const fraction = Math.max(0, Math.min(1, used / memory.total));
    const percent = Math.round(fraction * 100);
    const pressure = memory.pressure ?? null;
    const level = pressure ?? (fraction > 0.9 ? 'critical' : fraction > 0.75 ? 'warn' : 'normal');
    const text = `${bytes(used)} of ${bytes(memory.total)} used (${percent}%)`;
    // CSSOM, not a style attribute: a strict CSP allows the former only.
    const fill = h('div', { class: 'gauge-fill' });
    fill.style.width = `${percent}%`;
    replace(this,
      h('div', {
        class: `gauge gauge-${tone(level)}`, role: 'meter', 'aria-label': 'Memory used',
        'aria-valuemin': 0, 'aria-valuemax': memory.total, 'aria-valuenow': used,
        'aria-valuetext': text,
      }, fill),
      h('p', { class: 'gauge-text' },
        h('span', { class: 'gauge-used', text }),
        h('span', { class: 'muted', text: ` · ${bytes(memory.available)} available` }),
        memory.gpuLimit
          ? h('span', { class: 'muted gauge-gpu', text: ` · GPU limit ${bytes(memory.gpuLimit.bytes)}` })
          : null),
      h('p', { class: 'gauge-text' },
        h('span', { text: 'Pressure: ' }),
        h('span', { class: `state state-${tone(level)}` },
          h('span', { class: 'dot', 'aria-hidden': 'true' }),
          h('span', { class: 'gauge-pressure', text: pressure ?? 'not reported' })),
        memory.swapTotal
          ? h('span', { class: 'muted', text: ` · swap ${bytes(memory.swapUsed)} of ${bytes(memory.swapTotal)}` })
          : null));
  }
}

customElements.define('hearth-gauge', Gauge);
