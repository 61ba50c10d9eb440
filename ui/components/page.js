// The base of every page element: a heading, a status line for load errors, and cleanups
// (timers, event subscriptions) that run when the router swaps the page out.

import { h } from './dom.js';

export class Page extends HTMLElement {
  #cleanups = [];

  /** The page's title, shown as its heading. */
  static title = '';

  connectedCallback() {
    this.classList.add('page');
    this.heading = h('h2', { tabindex: '-1', class: 'page-title', text: this.constructor.title });
    this.notice = h('div', { class: 'page-notice', 'aria-live': 'polite' });
    this.body = h('div', { class: 'page-body' });
    this.replaceChildren(this.heading, this.notice, this.body);
    this.mount();
  }

  disconnectedCallback() {
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
  }

  /** Runs `fn` when the page goes away. */
  onCleanup(fn) {
    this.#cleanups.push(fn);
  }

  /** setInterval that stops with the page. */
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    this.onCleanup(() => clearInterval(timer));
  }

  /** Shows a page-level error (or clears it with null). */
  showNotice(error) {
    this.notice.replaceChildren();
    if (error) {
      this.notice.append(h('p', { class: 'notice notice-bad', role: 'alert', text: error.message ?? String(error) }));
    }
  }

  /** Subclasses build their content here. */
  mount() {}
}

/** A labelled form field: `<div class=field><label>…</label>control hint</div>`. */
let fieldSerial = 0;
export function field(label, control, hint) {
  if (!control.id) control.id = `field-${++fieldSerial}`;
  return h('div', { class: 'field' },
    h('label', { for: control.id, text: label }),
    control,
    hint ? h('p', { class: 'field-hint muted', text: hint }) : null);
}
