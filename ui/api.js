// The admin API client: JSON in and out over the same-origin session cookie, errors as
// `ApiError` (status, message, code, diagnostics), an NDJSON line reader for streamed answers,
// and one shared EventSource on /admin/events that pages subscribe to.

/** An admin API failure: HTTP status, the server's message and code, config diagnostics. */
export class ApiError extends Error {
  constructor(status, message, { code = null, type = null, diagnostics = [] } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.type = type;
    this.diagnostics = diagnostics;
  }
}

/** Fired on `window` when the server says this browser has no (valid) session. */
export const UNAUTHORIZED = 'hearth:unauthorized';

function options(method, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined || method !== 'GET') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  return init;
}

/** Turns a non-2xx answer into an ApiError, reading the `{error: {...}}` body if there is one. */
async function failure(response) {
  let message = `${response.status} ${response.statusText}`.trim();
  let extra = {};
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    const error = body?.error ?? body;
    if (typeof error?.message === 'string') message = error.message;
    extra = {
      code: error?.code ?? null,
      type: error?.type ?? null,
      diagnostics: Array.isArray(body?.diagnostics) ? body.diagnostics
        : Array.isArray(error?.diagnostics) ? error.diagnostics : [],
    };
  } catch {
    if (text.trim()) message = text.trim().slice(0, 500);
  }
  // 401: the session is gone. 403 `admin_only`: this browser has no session at all (it
  // reached /ui/ without the login link), which the user fixes the same way.
  if (response.status === 401 || (response.status === 403 && extra.code === 'admin_only')) {
    message = 'Session expired — run `hearth open` again';
    window.dispatchEvent(new CustomEvent(UNAUTHORIZED));
  }
  return new ApiError(response.status, message, extra);
}

async function send(method, path, body) {
  let response;
  try {
    response = await fetch(path, options(method, body));
  } catch (error) {
    throw new ApiError(0, `Hearth is not answering (${error.message})`);
  }
  if (!response.ok) throw await failure(response);
  return response;
}

/** GET, parsed as JSON. */
export async function get(path) {
  const response = await send('GET', path);
  return response.json();
}

/** GET, as text (logs, plists). */
export async function getText(path) {
  const response = await send('GET', path);
  return response.text();
}

/** POST a JSON body, parse the JSON answer (empty answers give null). */
export async function post(path, body) {
  const response = await send('POST', path, body);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/** DELETE, parse the JSON answer. */
export async function del(path) {
  const response = await send('DELETE', path);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/**
 * POST and read an NDJSON answer, calling `onLine(object)` for each line as it arrives.
 * Resolves with the last object.
 */
export async function postNdjson(path, body, onLine) {
  const response = await send('POST', path, body);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let last = null;
  const take = (line) => {
    if (!line.trim()) return;
    last = JSON.parse(line);
    onLine(last);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      take(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  }
  take(buffer + decoder.decode());
  return last;
}

/** Percent-encodes one path segment (service, agent and token names). */
export const seg = (name) => encodeURIComponent(name);

/** A query string from an object, skipping empty values; arrays repeat the key. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const one of [value].flat()) {
      if (one !== undefined && one !== null && String(one) !== '') search.append(key, one);
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// One EventSource for the whole app, opened while anyone listens.
const listeners = new Set();
const statusListeners = new Set();
let source = null;
let live = 'closed';

function setLive(state) {
  live = state;
  for (const fn of statusListeners) fn(state);
}

let opened = false;
let retry = null;

function deliver(event) {
  for (const fn of listeners) {
    try {
      fn(event);
    } catch (error) {
      console.error('event listener failed', error);
    }
  }
}

function open() {
  const current = new EventSource('/admin/events', { withCredentials: true });
  source = current;
  current.onopen = () => {
    setLive('open');
    // Events may have been missed while away: listeners refresh on `reconnected`.
    if (opened) deliver({ type: 'reconnected' });
    opened = true;
  };
  current.onerror = () => {
    if (current.readyState !== EventSource.CLOSED) {
      setLive('reconnecting');
      return;
    }
    // The browser gives up after an HTTP error (a restart in progress, a lost session): try
    // again later ourselves while anyone listens.
    setLive('closed');
    clearTimeout(retry);
    retry = setTimeout(() => {
      if (source === current && listeners.size > 0) open();
    }, 5000);
  };
  current.onmessage = (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    deliver(event);
  };
}

/**
 * Calls `fn(event)` for each server event (`{type: "service"|"switch", ...}`, and
 * `{type: "reconnected"}` after the stream was lost); returns unsubscribe.
 */
export function subscribe(fn) {
  listeners.add(fn);
  if (!source) open();
  return () => {
    listeners.delete(fn);
    if (listeners.size === 0 && source) {
      clearTimeout(retry);
      source.close();
      source = null;
      setLive('closed');
    }
  };
}

/** Calls `fn(state)` with the event stream's state: open, reconnecting, closed. */
export function onLiveChange(fn) {
  statusListeners.add(fn);
  fn(live);
  return () => statusListeners.delete(fn);
}

/** Sets one config value (`agents[1].tools`, `bindings`, `gateway.port`); `{document, warnings}`. */
export function configSet(path, value) {
  return post('/admin/config/set', { path, value });
}

/** Removes one config value; same answer as configSet. */
export function configUnset(path) {
  return post('/admin/config/unset', { path });
}
