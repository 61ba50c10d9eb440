// <hearth-dashboard>: what is running now — backends (services and providers) with health,
// resident models and their sizes, the memory gauge, tok/s and time-to-first-token
// sparklines, requests in flight and recent blocked tool calls. Live: refreshes the affected
// parts on each server event, polls /admin/stats every 5 s and the whole state every 10 s.

import { get, subscribe } from '../api.js';
import { bytes, clock, debounce, duration, h, replace, section, stateBadge } from './dom.js';
import { Page } from './page.js';
import './gauge.js';
import './sparkline.js';
import './step-list.js';

export class DashboardPage extends Page {
  static title = 'Dashboard';

  mount() {
    this.summary = h('div', { class: 'summary', 'data-testid': 'status-summary' });
    this.backends = h('div', { 'data-testid': 'backends' });
    this.providers = h('div', { 'data-testid': 'providers' });
    this.resident = h('div', { 'data-testid': 'resident-models' });
    this.gauge = h('hearth-gauge', { 'data-testid': 'memory-gauge' });
    this.tps = h('hearth-sparkline', { label: 'Tokens per second', unit: 'tok/s', 'data-testid': 'sparkline-tps' });
    this.ttft = h('hearth-sparkline', { label: 'Time to first token', unit: 'ms', 'data-testid': 'sparkline-ttft' });
    this.inFlight = h('span', { class: 'big-number', 'data-testid': 'in-flight', text: '—' });
    this.blocked = h('div', { 'data-testid': 'blocked-tools' });
    this.switching = h('div', { class: 'switch-live', 'data-testid': 'dashboard-switch', hidden: true });
    this.services = new Map();

    replace(this.body,
      this.summary,
      this.switching,
      h('div', { class: 'grid' },
        section('Backends', { class: 'card span-2' }, this.backends, h('h4', { text: 'Providers' }), this.providers),
        section('Resident models', {}, this.resident),
        section('Memory', {}, this.gauge),
        section('Requests', {},
          h('p', { class: 'in-flight' }, this.inFlight, h('span', { class: 'muted', text: ' in flight' })),
          this.tps, this.ttft),
        section('Blocked tool calls', {}, this.blocked)));

    const refreshState = debounce(() => this.loadState(), 250);
    this.onCleanup(subscribe((event) => {
      if (event.type === 'service') {
        this.patchService(event);
        refreshState();
      } else if (event.type === 'switch') {
        this.showSwitch(event);
        if (event.state !== 'running') refreshState();
      } else if (event.type === 'reconnected') {
        refreshState();
        this.loadStats();
      }
    }));
    this.every(5000, () => this.loadStats());
    // Events can be missed (one that came before the stream opened); the state is re-read too.
    this.every(10000, () => this.loadState());
    this.loadState();
    this.loadStats();
  }

  async loadState() {
    const [status, models, services] = await Promise.allSettled([
      get('/admin/status'), get('/admin/models'), get('/admin/services'),
    ]);
    const failed = [status, models, services].find((r) => r.status === 'rejected');
    this.showNotice(failed ? failed.reason : null);
    if (status.status === 'fulfilled') this.renderStatus(status.value);
    if (models.status === 'fulfilled') this.renderModels(models.value);
    const list = services.status === 'fulfilled' ? services.value.services
      : status.status === 'fulfilled' ? status.value.services : null;
    if (list) this.renderServices(list);
  }

  async loadStats() {
    try {
      this.renderStats(await get('/admin/stats'));
    } catch (error) {
      this.inFlight.textContent = '—';
      replace(this.blocked, h('p', { class: 'muted', text: `Stats unavailable: ${error.message}` }));
    }
  }

  renderStatus(status) {
    const active = status.primary ?? '—';
    const warnings = [...(status.warnings ?? []), ...(status.refusedChange ?? [])];
    replace(this.summary,
      h('dl', { class: 'facts' },
        fact('Active model', active, 'active-model'),
        fact('Default agent', status.defaultAgent ?? '—'),
        fact('Listening on', status.listen ?? '—'),
        fact('Up for', duration(status.uptimeSeconds)),
        fact('Version', status.version ?? '—')),
      status.contention
        ? h('p', { class: 'notice notice-warn', role: 'status', text: `Contention: ${status.contention}` })
        : null,
      status.refusedChange?.length
        ? h('p', { class: 'notice notice-bad', text: 'The last edit of the configuration file was refused; the running configuration is unchanged.' })
        : null,
      warnings.length
        ? h('ul', { class: 'warnings' }, warnings.map((w) => h('li', { class: `diag diag-${w.severity}` },
          h('code', { text: w.path || '(file)' }), ' ', w.message ?? '', w.hint ? ` — ${w.hint}` : '')))
        : null);

    const providers = status.providers ?? [];
    replace(this.providers, providers.length === 0
      ? h('p', { class: 'muted', text: 'No providers configured.' })
      : h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, ['Provider', 'API', 'Base URL', 'Models'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, providers.map((p) => h('tr', { 'data-testid': `provider-${p.id}` },
          h('td', { text: p.id }), h('td', { text: p.api ?? '' }),
          h('td', {}, h('code', { text: p.baseUrl ?? '' })),
          h('td', { text: (p.models ?? []).join(', ') || '—' }))))));
  }

  renderServices(services) {
    // The list has no event text: keep the last event's words for each service.
    const previous = this.services;
    this.services = new Map(services.map((s) => [s.name, { message: previous.get(s.name)?.message, ...s }]));
    this.drawServices();
  }

  patchService(event) {
    const known = this.services.get(event.service) ?? { name: event.service };
    this.services.set(event.service, {
      ...known, state: event.state, pid: event.pid, restarts: event.restarts, message: event.message,
    });
    this.drawServices();
  }

  drawServices() {
    const services = [...this.services.values()];
    replace(this.backends, services.length === 0
      ? h('p', { class: 'muted', text: 'No services: Hearth runs no inference server itself (see Services).' })
      : h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, ['Service', 'State', 'Provider', 'PID', 'Port', 'Restarts', 'Last event']
          .map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, services.map((s) => h('tr', { 'data-testid': `backend-${s.name}`, 'data-state': s.state ?? 'unknown' },
          h('th', { scope: 'row', text: s.name }),
          h('td', {}, stateBadge(s.state)),
          h('td', { text: s.provider ?? '—' }),
          h('td', { text: s.pid ?? '—' }),
          h('td', { text: s.port ?? '—' }),
          h('td', { text: s.restarts ?? 0 }),
          h('td', { class: 'muted', text: s.message ?? lastExit(s.lastExit) }))))));
  }

  renderModels(models) {
    this.gauge.memory = models.memory;
    const resident = models.resident ?? [];
    replace(this.resident, resident.length === 0
      ? h('p', { class: 'muted', text: 'No model is resident.' })
      : h('ul', { class: 'list' }, resident.map((r) => h('li', { 'data-model': r.model },
        h('span', { class: 'model-name', text: r.model }),
        r.model === models.active ? h('span', { class: 'badge badge-ok', text: 'active' }) : null,
        h('span', { class: 'muted', text: ` ${bytes(r.size)}${r.service ? ` · ${r.service}` : ''}` })))),
    models.contention ? h('p', { class: 'notice notice-warn', text: models.contention }) : null);
  }

  renderStats(stats) {
    this.inFlight.textContent = String(stats.inFlight ?? 0);
    const recent = [...(stats.recent ?? [])].sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
    this.tps.values = recent.map((r) => r.tokensPerSecond);
    this.ttft.values = recent.map((r) => r.ttftMs);
    const blocked = [...(stats.blocked ?? [])].sort((a, b) => (b.at ?? 0) - (a.at ?? 0)).slice(0, 10);
    replace(this.blocked, blocked.length === 0
      ? h('p', { class: 'muted', text: 'No tool call blocked recently.' })
      : h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, ['Time', 'Agent', 'Tool'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, blocked.map((b) => h('tr', {},
          h('td', { text: clock(b.at) }), h('td', { text: b.agent ?? '—' }), h('td', {}, h('code', { text: b.tool ?? '' })))))));
  }

  showSwitch(progress) {
    this.switching.hidden = false;
    const steps = h('hearth-step-list');
    steps.progress = progress;
    const word = progress.state === 'running' ? 'Switching to' : progress.state === 'done' ? 'Switched to' : 'Switch failed:';
    replace(this.switching,
      h('p', {}, h('strong', { text: `${word} ${progress.model ?? ''}` }),
        progress.error ? h('span', { class: 'field-error-inline', text: ` ${progress.error}` }) : null),
      steps);
    if (progress.state !== 'running') {
      clearTimeout(this.hideSwitch);
      this.hideSwitch = setTimeout(() => { this.switching.hidden = true; }, 15000);
    }
  }
}

function fact(term, value, testid) {
  return h('div', {}, h('dt', { text: term }), h('dd', { 'data-testid': testid, text: value }));
}

function lastExit(exit) {
  if (exit === null || exit === undefined) return '';
  return typeof exit === 'object' ? `last exit: ${JSON.stringify(exit)}` : `last exit: ${exit}`;
}

customElements.define('hearth-dashboard', DashboardPage);
