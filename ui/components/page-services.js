// <hearth-services>: the inference servers Hearth runs — state, pid, port, command — with
// Start / Stop / Restart, and for the selected one its log tail and its launchd plist.

import { get, getText, post, query, seg, subscribe } from '../api.js';
import { debounce, h, keepFocus, replace, stateBadge } from './dom.js';
import { Page } from './page.js';

export class ServicesPage extends Page {
  static title = 'Services';

  mount() {
    this.services = [];
    this.selected = null;
    this.table = h('div', { 'data-testid': 'service-list' });
    this.detail = h('div', { class: 'service-detail' });
    replace(this.body,
      h('section', { class: 'card' }, h('h3', { text: 'Services' }), this.table),
      this.detail);
    const reload = debounce(() => this.load(), 250);
    this.onCleanup(subscribe((event) => {
      if (event.type === 'service' || event.type === 'reconnected') reload();
    }));
    this.load();
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
      replace(this.table, h('p', { class: 'muted', text: 'No services configured. Add one under `services` in hearth.json, or with `hearth services install`.' }));
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
      h('td', {}, h('div', { class: 'button-row' }, act('start', 'Start'), act('stop', 'Stop'), act('restart', 'Restart')), status));
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
    if (!name) {
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

/** A command as one shell-like line (arrays are quoted where needed). */
function commandText(command) {
  if (command == null) return '—';
  if (Array.isArray(command)) {
    return command.map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : `'${String(part).replace(/'/g, "'\\''")}'`)).join(' ');
  }
  return String(command);
}

customElements.define('hearth-services', ServicesPage);
