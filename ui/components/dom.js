// DOM helpers shared by every page: an element builder that only ever sets text (never
// innerHTML), an HTML escape for the rare string template, and formatters for bytes and times.
// Server values are hostile input: they reach the page through textContent and attributes only.

/**
 * Builds an element. `props`: `class`, `text`, `on<event>` listeners, DOM properties
 * (`value`, `checked`, `disabled`, `selected`, `hidden`), anything else as an attribute
 * (`data-testid`, `aria-*`, ...). Children: nodes, strings (as text), arrays, null (skipped).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'readOnly', 'open']);

function setProps(el, props) {
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

/** Appends children (nodes, strings, nested arrays; null/undefined/false skipped). */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Escapes text for an HTML template (prefer `h` and textContent). */
export function escape(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `1.5 GiB`; an em dash when unknown. */
export function bytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`;
}

/** `12:03:04` from unix milliseconds. */
export function clock(ms) {
  if (typeof ms !== 'number') return '—';
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

/** `3 h 12 min` from seconds. */
export function duration(seconds) {
  if (typeof seconds !== 'number') return '—';
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** A state's CSS tone: ok, warn, bad or idle. */
export function tone(state) {
  switch (state) {
    case 'running': case 'done': case 'healthy': case 'normal': case 'allowed': case 'won':
      return 'ok';
    case 'starting': case 'restarting': case 'warn': case 'skipped': case 'outranked':
      return 'warn';
    case 'failed': case 'critical': case 'denied': case 'unknown':
      return 'bad';
    default:
      return 'idle';
  }
}

/** A coloured dot plus the state in words (colour is never the only signal). */
export function stateBadge(state) {
  const text = state ?? 'unknown';
  return h('span', { class: `state state-${tone(text)}` },
    h('span', { class: 'dot', 'aria-hidden': 'true' }), h('span', { class: 'state-text', text }));
}

/** A page section with a heading. */
export function section(title, props, ...children) {
  return h('section', { class: 'card', ...props }, h('h3', { text: title }), ...children);
}

/** Runs `fn` once input settles for `ms`. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/**
 * Runs `render` (which rebuilds part of `container`) and puts the keyboard focus back on the
 * control with the same data-testid, so a live refresh does not throw a keyboard user out.
 */
export function keepFocus(container, render) {
  const active = document.activeElement;
  const testid = active && container.contains(active) ? active.getAttribute('data-testid') : null;
  render();
  if (!testid) return;
  const again = [...container.querySelectorAll('[data-testid]')].find((el) => el.getAttribute('data-testid') === testid);
  if (again && !again.disabled) again.focus();
}

/** `8,192 tokens`; an em dash when unknown. */
export function tokens(n) {
  return typeof n === 'number' && Number.isFinite(n) ? `${n.toLocaleString('en-US')} tokens` : '—';
}

/** A command (program and arguments) as one shell-like line, quoting what needs it. */
export function commandLine(command) {
  if (command == null) return '—';
  if (Array.isArray(command)) {
    return command.map((part) => {
      const text = String(part);
      return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
    }).join(' ');
  }
  return String(command);
}

/**
 * The config path of `key` under `parent`, written the way the server writes diagnostics'
 * paths: `providers.ollama`, or `providers["my provider"]` for a key that is not plain.
 */
export function keyPath(parent, key) {
  const plain = /^[A-Za-z0-9_$-]+$/.test(key) && !/^\d+$/.test(key);
  if (plain) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}
