// <hearth-step-list>: the steps of a model switch as they go (pending, running…, done,
// skipped, failed with its detail). Set `.progress = {model, state, steps: [{title, state,
// detail}], elapsedMs, error}`.

import { h, replace } from './dom.js';

const ICONS = { pending: '○', running: '◐', done: '✓', skipped: '–', failed: '✕' };
const WORDS = { pending: 'pending', running: 'running…', done: 'done', skipped: 'skipped', failed: 'failed' };

export class StepList extends HTMLElement {
  #progress = null;

  set progress(progress) {
    this.#progress = progress ?? null;
    this.render();
  }

  get progress() {
    return this.#progress;
  }

  connectedCallback() {
    this.render();
  }

  render() {
    const steps = this.#progress?.steps ?? [];
    if (steps.length === 0) {
      replace(this, h('p', { class: 'muted', text: this.#progress ? 'Starting…' : '' }));
      return;
    }
    replace(this, h('ol', { class: 'steps' }, steps.map((step) => {
      const state = step.state in ICONS ? step.state : 'pending';
      return h('li', { class: `step step-${state}`, 'data-state': state },
        h('span', { class: 'step-icon', 'aria-hidden': 'true', text: ICONS[state] }),
        h('span', { class: 'step-title', text: step.title ?? '' }),
        h('span', { class: 'step-state', text: WORDS[state] }),
        step.detail ? h('span', { class: 'step-detail', text: step.detail }) : null);
    })));
  }
}

customElements.define('hearth-step-list', StepList);
