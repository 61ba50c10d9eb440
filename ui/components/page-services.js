// <hearth-services>: the inference servers Hearth runs — state, pid, port, command — with
// Start / Stop / Restart / Uninstall, for the selected one its log tail and its launchd plist,
// and an "Add a service" form (POST /admin/services, what `hearth services install` sends).

import { del, get, getText, post, query, seg, subscribe } from '../api.js';
import { debounce, h, keepFocus, replace, section, stateBadge } from './dom.js';
import { clearDiagnostics, clearOnEdit, readEntries, showDiagnostics, showError } from './field-error.js';
import { field, Page } from './page.js';

const TEMPLATES = ['ollama', 'mlx-lm', 'llama-server', 'whisper', 'tts', 'custom'];

// What each template runs when no program is given (the server's defaults on macOS), and what
// its model is.
const PROGRAMS = {
  ollama: '/opt/homebrew/bin/ollama',
  'mlx-lm': '/opt/homebrew/bin/mlx_lm.server',
  'llama-server': '/opt/homebrew/bin/llama-server',
  whisper: '/opt/homebrew/bin/whisper-server',
};
const MODELS = {
  ollama: 'not used: pull models with ollama',
  'mlx-lm': 'mlx-community/Qwen3-30B-A3B-4bit',
  'llama-server': '/path/to/model.gguf',
  whisper: 'ggml-base.en.bin',
};
const PORTS = { ollama: 11434, 'mlx-lm': 8080, 'llama-server': 8081, whisper: 8178, tts: 8179 };

// Install fields by the config key a diagnostic names (`services.<name>.<key>`).
const FIELDS = { template: 'template', program: 'program', port: 'port', provider: 'provider', args: 'args' };

export class ServicesPage extends Page {
  static title = 'Services';

  mount() {
    this.services = [];
    this.selected = null;
    this.table = h('div', { 'data-testid': 'service-list' });
    this.detail = h('div', { class: 'service-detail' });
    this.install = h('div', {});
    replace(this.body,
      h('section', { class: 'card' }, h('h3', { text: 'Services' }), this.table),
      section('Add a service', { 'data-testid': 'install-form' }, this.install),
      this.detail);
    this.providers = [];
    this.renderInstall();
    const reload = debounce(() => this.load(), 250);
    this.onCleanup(subscribe((event) => {
      if (event.type === 'service' || event.type === 'reconnected') reload();
    }));
    this.load();
    this.loadProviders();
  }

  async loadProviders() {
    try {
      const status = await get('/admin/status');
      this.providers = (status.providers ?? []).map((p) => p.id).filter(Boolean);
      this.fillProviders();
    } catch {
      // The list stays "none"; the page notice already says when the server is unreachable.
    }
  }

  fillProviders() {
    const select = this.installFields?.provider;
    if (!select) return;
    const chosen = select.value;
    replace(select, h('option', { value: '', text: 'none' }),
      this.providers.map((id) => h('option', { value: id, text: id, selected: id === chosen })));
  }

  renderInstall() {
    const name = h('input', {
      type: 'text', 'data-path': 'install.name', 'data-testid': 'install-name', required: true,
      placeholder: 'mlx', autocomplete: 'off', spellcheck: 'false', pattern: '[a-z0-9_-]+',
    });
    const template = h('select', { 'data-path': 'install.template', 'data-testid': 'install-template' },
      TEMPLATES.map((t) => h('option', { value: t, text: t, selected: t === 'llama-server' })));
    const program = h('input', {
      type: 'text', 'data-path': 'install.program', 'data-testid': 'install-program',
      autocomplete: 'off', spellcheck: 'false',
    });
    const model = h('input', {
      type: 'text', 'data-path': 'install.model', 'data-testid': 'install-model',
      autocomplete: 'off', spellcheck: 'false',
    });
    const port = h('input', {
      type: 'number', min: 1, max: 65535, step: 1, inputmode: 'numeric',
      'data-path': 'install.port', 'data-testid': 'install-port',
    });
    const provider = h('select', { 'data-path': 'install.provider', 'data-testid': 'install-provider' },
      h('option', { value: '', text: 'none' }));
    const args = h('textarea', {
      'data-path': 'install.args', 'data-testid': 'install-args', rows: 3, spellcheck: 'false',
      placeholder: '--ctx-size\n8192',
    });
    this.installFields = { name, template, program, model, port, provider, args };
    const placeholders = () => {
      const t = template.value;
      program.placeholder = PROGRAMS[t] ?? 'required: /absolute/path/to/server';
      model.placeholder = MODELS[t] ?? 'optional';
      port.placeholder = PORTS[t] ? String(PORTS[t]) : 'none';
    };
    template.addEventListener('change', placeholders);
    placeholders();

    const result = h('div', { class: 'install-result', 'data-testid': 'install-result', 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'install-submit', text: 'Add service' });
    const form = h('form', { class: 'install-form', novalidate: true },
      h('div', { class: 'form-row' },
        field('Name', name, 'Lower-case letters, digits, - and _.'),
        field('Template', template),
        field('Program', program, 'Absolute path; empty: the template\'s usual place.'),
        field('Model', model, 'mlx-lm: a path or Hugging Face id; llama-server: a .gguf file.'),
        field('Port', port, 'Empty: the template\'s default.'),
        field('Provider', provider, 'Activating one of its models starts this service.')),
      field('Extra arguments', args, 'One per line, appended to the template\'s command.'),
      h('div', { class: 'actions' }, submit, result));
    clearOnEdit(form);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submitInstall(form, submit, result);
    });
    replace(this.install, form);
    this.fillProviders();
  }

  async submitInstall(form, submit, result) {
    const f = this.installFields;
    const name = f.name.value.trim();
    const body = { name, template: f.template.value };
    const text = (input) => input.value.trim();
    if (text(f.program)) body.program = text(f.program);
    if (text(f.model)) body.model = text(f.model);
    const portNumber = Number(text(f.port));
    if (text(f.port)) body.port = portNumber;
    if (f.provider.value) body.provider = f.provider.value;
    body.args = readEntries(f.args);

    clearDiagnostics(form);
    result.replaceChildren();
    const local = [];
    if (!name) local.push({ path: 'install.name', message: 'A service needs a name.' });
    if (f.port.validity.badInput || (text(f.port) && !(Number.isInteger(portNumber) && portNumber >= 1 && portNumber <= 65535))) {
      local.push({ path: 'install.port', message: 'A port is a whole number from 1 to 65535.' });
    }
    if (local.length) {
      showDiagnostics(form, local, result);
      form.querySelector('[aria-invalid="true"]')?.focus();
      return;
    }
    submit.disabled = true;
    replace(result, h('span', { class: 'muted', text: 'Adding…' }));
    try {
      await post('/admin/services', body);
      this.selected = name;
      this.renderInstall();
      replace(this.install.querySelector('[data-testid="install-result"]'),
        h('span', { class: 'save-status', role: 'status', text: `Added ${name}.` }));
      await this.load();
      this.renderDetail();
      this.renderTable();
    } catch (error) {
      submit.disabled = false;
      result.replaceChildren();
      const diagnostics = installDiagnostics(error, name);
      if (diagnostics.length) showDiagnostics(form, diagnostics, result);
      else showError(result, error.message);
      form.querySelector('[aria-invalid="true"]')?.focus();
    }
  }

  async uninstall(name, button, status) {
    if (!window.confirm(`Uninstall ${name}? Hearth stops it and removes it from hearth.json (its log stays).`)) return;
    const buttons = button.parentElement.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    replace(status, h('span', { class: 'muted', text: 'uninstalling…' }));
    try {
      await del(`/admin/services/${seg(name)}`);
      await this.load();
    } catch (error) {
      for (const b of buttons) b.disabled = false;
      replace(status, h('span', { class: 'field-error', role: 'alert', text: error.message }));
    }
  }

  async load() {
    try {
      const answer = await get('/admin/services');
      this.showNotice(null);
      this.services = answer.services ?? [];
      if (!this.services.some((s) => s.name === this.selected)) {
        this.selected = this.services[0]?.name ?? null;
        this.renderDetail();
      }
      this.renderTable();
    } catch (error) {
      this.showNotice(error);
    }
  }

  renderTable() {
    if (this.services.length === 0) {
      replace(this.table, h('p', { class: 'muted', text: 'No services configured. Add one below, with `hearth services install`, or under `services` in hearth.json.' }));
      return;
    }
    keepFocus(this.table, () => replace(this.table, h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, ['Service', 'State', 'PID', 'Port', 'Restarts', 'Command', 'Actions']
        .map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, this.services.map((s) => this.row(s))))));
  }

  row(s) {
    const status = h('div', { class: 'row-status', 'aria-live': 'polite' });
    const act = (action, label) => h('button', {
      type: 'button', class: 'button button-small', text: label, 'data-testid': `${action}-${s.name}`,
      'aria-label': `${label} ${s.name}`,
      onclick: (event) => this.act(s.name, action, event.currentTarget, status),
    });
    const name = h('button', {
      type: 'button', class: 'link-button', text: s.name, 'aria-pressed': String(s.name === this.selected),
      'data-testid': `select-${s.name}`,
      title: 'Show its log and plist', onclick: () => this.select(s.name),
    });
    return h('tr', { 'data-testid': `service-${s.name}`, 'data-state': s.state ?? 'unknown', class: s.name === this.selected ? 'row-selected' : '' },
      h('th', { scope: 'row' }, name,
        h('div', { class: 'muted small', text: [s.template, s.driver, s.provider && `provider ${s.provider}`].filter(Boolean).join(' · ') })),
      h('td', {}, stateBadge(s.state), s.lastExit != null ? h('div', { class: 'muted small', text: `last exit: ${typeof s.lastExit === 'object' ? JSON.stringify(s.lastExit) : s.lastExit}` }) : null),
      h('td', { text: s.pid ?? '—' }),
      h('td', { text: s.port ?? '—' }),
      h('td', { text: s.restarts ?? 0 }),
      h('td', {}, h('code', { class: 'command', text: commandText(s.command) })),
      h('td', {}, h('div', { class: 'button-row' }, act('start', 'Start'), act('stop', 'Stop'), act('restart', 'Restart'),
        h('button', {
          type: 'button', class: 'button button-small button-danger', text: 'Uninstall',
          'data-testid': `uninstall-${s.name}`, 'aria-label': `Uninstall ${s.name}`,
          onclick: (event) => this.uninstall(s.name, event.currentTarget, status),
        })), status));
  }

  async act(name, action, button, status) {
    const buttons = button.parentElement.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    replace(status, h('span', { class: 'muted', text: `${action}…` }));
    try {
      const service = await post(`/admin/services/${seg(name)}/${action}`, {});
      if (service?.name) {
        this.services = this.services.map((s) => (s.name === service.name ? service : s));
      }
      this.renderTable();
      // The pressed button was disabled meanwhile, so keepFocus cannot see it: refocus by hand.
      this.table.querySelector(`[data-testid="${CSS.escape(button.dataset.testid)}"]`)?.focus();
      if (name === this.selected) this.loadLogs();
    } catch (error) {
      for (const b of buttons) b.disabled = false;
      replace(status, h('span', { class: 'field-error', role: 'alert', text: error.message }));
    }
  }

  select(name) {
    this.selected = name;
    this.renderTable();
    this.renderDetail();
  }

  renderDetail() {
    const name = this.selected;
    if (!name || !this.services.some((s) => s.name === name)) {
      this.detail.replaceChildren();
      return;
    }
    this.logs = h('pre', { class: 'log', 'data-testid': 'service-logs', tabindex: '0', 'aria-label': `Log of ${name}` });
    this.logFile = h('p', { class: 'muted small' });
    this.plist = h('pre', { class: 'plist', 'data-testid': 'service-plist', tabindex: '0', 'aria-label': `Plist of ${name}` });
    const service = this.services.find((s) => s.name === name);
    replace(this.detail, h('div', { class: 'grid' },
      h('section', { class: 'card span-2' },
        h('div', { class: 'card-head' },
          h('h3', { text: `Log: ${name}` }),
          h('button', { type: 'button', class: 'button button-small', 'data-testid': 'refresh-logs', text: 'Refresh', onclick: () => this.loadLogs() })),
        this.logFile, this.logs),
      h('section', { class: 'card span-2' },
        h('h3', { text: 'Command line' }),
        h('pre', { class: 'command-line', 'data-testid': 'service-command', text: commandText(service?.command) }),
        service?.workingDir ? h('p', { class: 'muted small', text: `in ${service.workingDir}` }) : null,
        h('h3', { text: 'launchd plist' }),
        this.plist)));
    this.loadLogs();
    this.loadPlist();
  }

  async loadLogs() {
    const name = this.selected;
    const logs = this.logs;
    logs.textContent = 'Loading…';
    try {
      const answer = await get(`/admin/services/${seg(name)}/logs${query({ lines: 200 })}`);
      if (logs !== this.logs) return;
      this.logFile.textContent = answer.logFile ? `Last 200 lines of ${answer.logFile}` : '';
      logs.textContent = answer.lines || '(empty)';
      logs.scrollTop = logs.scrollHeight;
    } catch (error) {
      if (logs === this.logs) logs.textContent = `Could not read the log: ${error.message}`;
    }
  }

  async loadPlist() {
    const plist = this.plist;
    plist.textContent = 'Loading…';
    try {
      const text = await getText(`/admin/services/${seg(this.selected)}/plist`);
      if (plist === this.plist) plist.textContent = text;
    } catch (error) {
      if (plist === this.plist) plist.textContent = `No plist: ${error.message}`;
    }
  }
}

/**
 * The install error as diagnostics on the install fields: `services.<name>.<key>` goes to the
 * field of that key (whether the server sent it as a diagnostic's path or named it in its
 * message); a missing `--model`/`--program` and a bad or taken name go to their field; anything
 * else keeps its path and lands by the submit button.
 */
export function installDiagnostics(error, name) {
  const local = (path) => {
    const prefix = `services.${name}.`;
    if (!path?.startsWith(prefix)) return null;
    const key = path.slice(prefix.length).split(/[.[]/)[0];
    return FIELDS[key] ? `install.${FIELDS[key]}` : null;
  };
  const given = error.diagnostics ?? [];
  if (given.length) {
    return given.map((d) => local(d.path) ? { ...d, path: local(d.path) } : clash(d, name) ?? { ...d, path: d.path ?? '' });
  }
  const message = error.message ?? String(error);
  let path = null;
  const named = /`(services\.[^`]+)`/.exec(message);
  if (named) path = local(named[1]);
  if (!path && /\(`--model`\)/.test(message)) path = 'install.model';
  if (!path && /\(`--program`\)/.test(message)) path = 'install.program';
  if (!path && (error.code === 'service_exists' || /not a valid service name/.test(message))) path = 'install.name';
  return path ? [{ path, message }] : [];
}

/**
 * The validator blames a port or provider clash on the later service in name order, which may
 * be an existing one ("services.smol.port: port 18201 is already service `side`'s" when adding
 * `side`): said from the new service's side, at its field.
 */
function clash(diagnostic, name) {
  const other = /^services\.([^.[]+)\.(port|provider)$/.exec(diagnostic.path ?? '');
  if (!other || other[1] === name) return null;
  const [, owner, key] = other;
  const port = /^port (\d+) is already service `([^`]+)`'s$/.exec(diagnostic.message ?? '');
  if (key === 'port' && port && port[2] === name) {
    return { ...diagnostic, path: 'install.port', message: `port ${port[1]} is already service \`${owner}\`'s` };
  }
  const provider = /^provider `([^`]+)` is already served by service `([^`]+)`$/.exec(diagnostic.message ?? '');
  if (key === 'provider' && provider && provider[2] === name) {
    return { ...diagnostic, path: 'install.provider', message: `provider \`${provider[1]}\` is already served by service \`${owner}\`` };
  }
  return null;
}

/** A command as one shell-like line (arrays are quoted where needed). */
function commandText(command) {
  if (command == null) return '—';
  if (Array.isArray(command)) {
    return command.map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : `'${String(part).replace(/'/g, "'\\''")}'`)).join(' ');
  }
  return String(command);
}

customElements.define('hearth-services', ServicesPage);
