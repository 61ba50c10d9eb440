// Validation messages next to the fields they concern. Every editable control carries
// `data-path` = its config path (`bindings[1].match.channel`); a server diagnostic goes to the
// element whose data-path is the diagnostic's path or its nearest prefix, in a `.field-error`
// (role="alert") right after a form control, or as the last child of a container (a binding
// row, an agent section). Diagnostics no element claims go to a fallback element.

import { h } from './dom.js';

const CONTROLS = new Set(['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON']);

/** Whether `prefix` is `path` or one of its ancestors (`a.b` of `a.b.c` and `a.b[0]`). */
export function isPathPrefix(prefix, path) {
  if (prefix === path) return true;
  if (!path.startsWith(prefix)) return false;
  const next = path[prefix.length];
  return next === '.' || next === '[';
}

/** The element in `scope` whose data-path is the nearest prefix of `path`, or null. */
export function fieldFor(scope, path) {
  let best = null;
  for (const el of scope.querySelectorAll('[data-path]')) {
    const candidate = el.dataset.path;
    if (isPathPrefix(candidate, path) && (!best || candidate.length > best.dataset.path.length)) {
      best = el;
    }
  }
  return best;
}

// Line numbers of a textarea's entries: blank lines are dropped, so entry 2 may be line 4.
const entryLines = new WeakMap();

/** Remembers which line each entry of a one-entry-per-line textarea came from (1-based). */
export function setEntryLines(textarea, lines) {
  entryLines.set(textarea, lines);
}

/** Splits a one-entry-per-line textarea into trimmed entries, remembering their lines. */
export function readEntries(textarea) {
  const entries = [];
  const lines = [];
  textarea.value.split('\n').forEach((line, i) => {
    if (line.trim()) {
      entries.push(line.trim());
      lines.push(i + 1);
    }
  });
  setEntryLines(textarea, lines);
  return entries;
}

/** What the message says about the part of the path below the element (`line 3: `). */
function where(target, path) {
  const rest = path.slice(target.dataset.path.length).replace(/^\./, '');
  if (!rest) return '';
  const entry = /^\[(\d+)\]$/.exec(rest);
  if (entry && target.tagName === 'TEXTAREA') {
    const line = entryLines.get(target)?.[Number(entry[1])] ?? Number(entry[1]) + 1;
    return `line ${line}: `;
  }
  return `${rest}: `;
}

let serial = 0;

function message(diagnostic, prefix) {
  const error = diagnostic.severity !== 'warning';
  return h('div', {
    class: error ? 'field-error' : 'field-warning',
    role: error ? 'alert' : 'status',
    id: `diagnostic-${++serial}`,
    'data-diagnostic': diagnostic.path ?? '',
  },
  h('span', { class: 'diagnostic-message', text: `${prefix}${diagnostic.message ?? ''}` }),
  diagnostic.hint ? h('span', { class: 'diagnostic-hint', text: ` — ${diagnostic.hint}` }) : null);
}

function place(target, el) {
  if (CONTROLS.has(target.tagName)) {
    // After the control and any messages already placed after it.
    let anchor = target;
    while (anchor.nextElementSibling?.hasAttribute('data-diagnostic')) {
      anchor = anchor.nextElementSibling;
    }
    anchor.after(el);
    if (el.classList.contains('field-error')) target.setAttribute('aria-invalid', 'true');
    const described = target.getAttribute('aria-describedby');
    target.setAttribute('aria-describedby', described ? `${described} ${el.id}` : el.id);
    target.dataset.describedByDiagnostic = 'true';
  } else {
    target.append(el);
  }
}

/** Removes every message this module placed in `scope`. */
export function clearDiagnostics(scope) {
  for (const el of scope.querySelectorAll('[data-diagnostic]')) el.remove();
  for (const el of scope.querySelectorAll('[data-described-by-diagnostic]')) {
    el.removeAttribute('aria-invalid');
    const rest = (el.getAttribute('aria-describedby') ?? '')
      .split(' ').filter((id) => id && !id.startsWith('diagnostic-')).join(' ');
    if (rest) el.setAttribute('aria-describedby', rest);
    else el.removeAttribute('aria-describedby');
    delete el.dataset.describedByDiagnostic;
  }
}

/**
 * Shows `diagnostics` ([{severity, path, message, hint}]) in `scope`, replacing earlier ones.
 * `fallback` gets those no element claims (an empty path, a field not on this page).
 * Returns the number of errors shown.
 */
export function showDiagnostics(scope, diagnostics, fallback) {
  clearDiagnostics(scope);
  let errors = 0;
  for (const diagnostic of diagnostics ?? []) {
    const path = String(diagnostic.path ?? '');
    const target = path ? fieldFor(scope, path) : null;
    if (diagnostic.severity !== 'warning') errors += 1;
    if (target) {
      place(target, message(diagnostic, where(target, path)));
    } else if (fallback) {
      fallback.append(message(diagnostic, path ? `${path}: ` : ''));
    }
  }
  return errors;
}

/** Shows one plain message (no path) in `el`, as an alert. */
export function showError(el, text) {
  el.replaceChildren(h('div', { class: 'field-error', role: 'alert', 'data-diagnostic': '', text }));
}

/**
 * When the user edits a control, drop the messages about it (they described the old value).
 * Call once per scope.
 */
export function clearOnEdit(scope) {
  const drop = (event) => {
    const target = event.target;
    if (!target?.dataset?.path) return;
    let next = target.nextElementSibling;
    while (next?.hasAttribute('data-diagnostic')) {
      const current = next;
      next = next.nextElementSibling;
      current.remove();
    }
    target.removeAttribute('aria-invalid');
  };
  scope.addEventListener('input', drop);
  scope.addEventListener('change', drop);
}
