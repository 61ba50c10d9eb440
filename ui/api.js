// The admin API client: JSON in and out with the page's session (the `x-hearth-session`
// header), errors as `ApiError` (status, message, code, diagnostics), an NDJSON line reader for
// streamed answers, and one shared event stream on /admin/events that pages subscribe to.
//
// The session comes from a one-time login link (`/ui/#login=<code>`, made by `hearth open` or
// the app) and is kept in sessionStorage: this tab's, this origin's (port included). It is
// never a cookie, which the browser would also send to every other port of 127.0.0.1.

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

const SESSION_KEY = 'hearth.session';

/** The headers that carry this tab's session, with `extra`. */
function withSession(extra) {
  const session = sessionStorage.getItem(SESSION_KEY);
  return session ? { ...extra, 'X-Hearth-Session': session } : extra;
}

/**
 * Signs in when the page was opened by a login link (`#login=<code>&page=<tab>`): the link's
 * fragment leaves the address bar and history first (the code works once anyway), then the
 * code is traded for a session. Resolves with whether the tab has a session.
 */
export async function signInFromLink() {
  if (!location.hash.startsWith('#login=')) return sessionStorage.getItem(SESSION_KEY) !== null;
  const params = new URLSearchParams(location.hash.slice(1));
  const page = /^[a-z]+$/.test(params.get('page') ?? '') ? params.get('page') : 'dashboard';
  history.replaceState(null, '', `#/${page}`);
  let response;
  try {
    response = await fetch('/ui/session', {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify({ code: params.get('login') }),
    });
  } catch (error) {
    throw new ApiError(0, `Hearth is not answering (${error.message})`);
  }
  if (!response.ok) {
    sessionStorage.removeItem(SESSION_KEY);
    throw await failure(response);
  }
  const { session } = await response.json();
  sessionStorage.setItem(SESSION_KEY, session);
  return true;
}

/** Ends this tab's session on the server and forgets it. */
export async function signOut() {
  const headers = withSession({});
  sessionStorage.removeItem(SESSION_KEY);
  if (headers['X-Hearth-Session']) {
    await fetch('/ui/session', { method: 'DELETE', headers }).catch(() => {});
  }
}

function options(method, body) {
  const init = { method, headers: withSession({ Accept: 'application/json' }) };
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
  // 401: the session is gone (or the login link was spent). 403 `admin_only`: this tab has no
  // session at all (it reached /ui/ without the login link), which the user fixes the same way.
  if (response.status === 401 || (response.status === 403 && extra.code === 'admin_only')) {
    if (extra.code !== 'invalid_login_code') message = 'Session expired — run `hearth open` again';
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

// One event stream for the whole app, open while anyone listens. It is read with fetch, not
// EventSource, which cannot send the session header.
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

/** The `data:` of one server-sent event (its lines joined), or null for a comment-only one. */
function eventData(block) {
  const data = block.split(/\r?\n/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
  return data.length ? data.join('\n') : null;
}

/** Tries again after `delay` ms while `current` is still the stream anyone wants. */
function again(current, delay) {
  clearTimeout(retry);
  retry = setTimeout(() => {
    if (source === current && listeners.size > 0) open();
  }, delay);
}

async function open() {
  const current = { controller: new AbortController() };
  source = current;
  let response;
  try {
    response = await fetch('/admin/events', {
      headers: withSession({ Accept: 'text/event-stream' }),
      cache: 'no-store',
      signal: current.controller.signal,
    });
  } catch {
    if (source === current) {
      setLive('reconnecting');
      again(current, 2000);
    }
    return;
  }
  if (!response.ok) {
    // A restart in progress: later. A lost session: not until the user signs in again.
    setLive('closed');
    const error = await failure(response);
    if (error.status !== 401 && error.status !== 403) again(current, 5000);
    return;
  }
  setLive('open');
  // Events may have been missed while away: listeners refresh on `reconnected`.
  if (opened) deliver({ type: 'reconnected' });
  opened = true;
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const data = eventData(buffer.slice(0, end));
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        if (data === null) continue;
        try {
          deliver(JSON.parse(data));
        } catch {
          // Not an event of ours.
        }
      }
    }
  } catch {
    // Aborted (nobody listens) or the connection dropped.
  }
  if (source === current) {
    setLive('reconnecting');
    again(current, 2000);
  }
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
      source.controller.abort();
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
