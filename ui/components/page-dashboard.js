// <hearth-dashboard>: what is running now — backends (services and providers) with health,
// resident models and their sizes, the memory gauge, tok/s and time-to-first-token
// sparklines, requests in flight and recent blocked tool calls. Live: refreshes the affected
// parts on each server event, polls /admin/stats every 5 s and the whole state every 10 s.
// When nothing can answer yet, one line on top says what to do, and while no model is
// configured, what discovery found on this machine is offered right under it.

import { get, subscribe } from '../api.js';
import { bytes, clock, debounce, duration, h, replace, section, stateBadge } from './dom.js';
import { Page } from './page.js';
import './gauge.js';
import './setup-proposal.js';
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
    this.nextStep = h('div', { class: 'next-step', 'data-testid': 'next-step', role: 'status', hidden: true });
    this.setupSlot = h('div', { 'data-testid': 'dashboard-setup' });
    this.services = new Map();
    // What the next-step line is computed from; each part arrives on its own.
    this.status = null;
    this.probed = null;
    this.setup = null;
    this.keepSetup = false;

    replace(this.body,
      this.nextStep,
      this.setupSlot,
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

    const refreshState = debounce(() => {
      this.loadState();
      this.loadProviders();
    }, 250);
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
    this.addEventListener('hearth-setup', (event) => {
      // A failed look counts as nothing found: the line then says what to install.
      if (event.detail.state === 'loaded') this.setup = { empty: event.detail.empty };
      else if (event.detail.state === 'failed') this.setup = { empty: true };
      if (event.detail.state === 'applied') {
        // Keep what was added in view; the rest of the page catches up.
        this.keepSetup = true;
        refreshState();
      }
      this.renderNextStep();
    });
    this.every(5000, () => this.loadStats());
    // Events can be missed (one that came before the stream opened); the state is re-read too.
    this.every(10000, () => {
      this.loadState();
      this.loadProviders();
    });
    this.loadState();
    this.loadProviders();
    this.loadStats();
  }

  /** Asks every provider whether it answers (up to 2 s); fills the providers' column. */
  async loadProviders() {
    try {
      const answer = await get('/admin/providers');
      this.probed = new Map((answer.providers ?? []).map((p) => [p.id, p]));
    } catch {
      // An older server, or a failure the page notice already shows: no reachability.
      this.probed = null;
    }
    if (this.status) this.renderProviders(this.status.providers ?? []);
    this.renderNextStep();
  }

  /** The one line on top: what to do when nothing can answer a request yet (hidden otherwise). */
  renderNextStep() {
    const line = nextStep(this.status, this.probed, this.services, this.setup);
    this.nextStep.hidden = !line;
    this.nextStep.dataset.kind = line?.kind ?? '';
    // Rewritten only when it changes, so a screen reader says it once.
    const said = line ? `${line.text}\n${(line.links ?? []).map((l) => l.href).join(' ')}` : '';
    if (said === this.said) return this.showSetup();
    this.said = said;
    replace(this.nextStep, line
      ? h('p', { class: `notice ${line.kind === 'starting' ? 'notice-info' : 'notice-warn'}` },
        h('strong', { text: line.text }),
        (line.links ?? []).map((link) => [' ', h('a', { href: link.href, text: link.text })]))
      : null);
    this.showSetup();
  }

  /** While no model is configured, what was found is offered right here. */
  showSetup() {
    const noModel = this.status && modelCount(this.status) === 0;
    if ((noModel || this.keepSetup) && !this.setupSlot.firstChild) {
      this.setupSlot.append(h('hearth-setup', { 'notes-open': true }));
    } else if (!noModel && !this.keepSetup && this.setupSlot.firstChild) {
      this.setupSlot.replaceChildren();
    }
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
    this.renderNextStep();
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

    this.status = status;
    this.renderProviders(status.providers ?? []);
  }

  renderProviders(providers) {
    replace(this.providers, providers.length === 0
      ? h('p', { class: 'muted', text: 'No providers configured.' })
      : h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, ['Provider', 'Reachable', 'API', 'Base URL', 'Models'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, providers.map((p) => {
          const probe = this.probed?.get(p.id);
          return h('tr', { 'data-testid': `provider-${p.id}`, 'data-reachable': probe ? String(probe.reachable) : 'unknown' },
            h('th', { scope: 'row', text: p.id }),
            h('td', {}, reachability(probe, this.probed !== null, this.services)),
            h('td', { text: p.api ?? '' }),
            h('td', {}, h('code', { text: p.baseUrl ?? '' })),
            h('td', { text: (p.models ?? []).join(', ') || '—' }));
        }))));
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
    this.renderNextStep();
    if (this.status && this.probed) this.renderProviders(this.status.providers ?? []);
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

/** How many models the configuration lists (what `/admin/status` says of its providers). */
function modelCount(status) {
  return (status.providers ?? []).reduce((n, p) => n + (p.models?.length ?? 0), 0);
}

/**
 * What to do next, when nothing can answer a request for `default` yet: `{kind, text, links}`,
 * or null when the default agent's model can be reached (or it is not known yet).
 */
function nextStep(status, probed, services, setup) {
  if (!status) return null;
  const models = { href: '#/models', text: 'Models & providers' };
  if (modelCount(status) === 0) {
    if (setup === null) return { kind: 'no-model', text: 'No model yet: looking at what this machine has…' };
    return setup.empty
      ? { kind: 'no-model', text: 'No model yet: install Ollama, LM Studio or llama.cpp, or add a provider on the Models page', links: [models] }
      : { kind: 'no-model', text: 'No model yet: use what was found below' };
  }
  const agent = (status.agents ?? []).find((a) => a.id === status.defaultAgent);
  const model = agent?.model ?? status.primary;
  if (!model) return { kind: 'no-primary', text: 'No primary model: pick one on the Models page', links: [models] };
  const providerId = model.split('/')[0];
  const probe = probed?.get(providerId);
  if (!probe || probe.reachable) return null;
  const service = probe.service ? services.get(probe.service) : null;
  if (service && ['starting', 'restarting'].includes(service.state)) {
    return { kind: 'starting', text: `${model} is loading: its service ${service.name} is starting…` };
  }
  return {
    kind: 'unreachable',
    text: `${providerId} does not answer at ${probe.baseUrl}: start it, or pick another model`,
    links: service ? [{ href: '#/services', text: 'Services' }, models] : [models],
  };
}

/**
 * A provider's reachability as a dot and words, and the error under it. One whose service is
 * stopped or starting is not reachable by design: said so, in a calmer tone.
 */
function reachability(probe, asked, services) {
  if (!probe) return h('span', { class: 'muted', text: asked ? '—' : 'checking…' });
  const state = probe.service ? services.get(probe.service)?.state : null;
  const waiting = !probe.reachable && ['stopped', 'starting', 'restarting'].includes(state);
  const badge = stateBadge(probe.reachable ? 'reachable' : waiting ? `not reachable: service ${state}` : 'not reachable');
  badge.className = `state state-${probe.reachable ? 'ok' : waiting ? (state === 'stopped' ? 'idle' : 'warn') : 'bad'}`;
  if (probe.error) badge.title = probe.error;
  return h('span', {}, badge, !probe.reachable && probe.error
    ? h('div', { class: 'muted small reach-error', text: probe.error }) : null);
}

function fact(term, value, testid) {
  return h('div', {}, h('dt', { text: term }), h('dd', { 'data-testid': testid, text: value }));
}

function lastExit(exit) {
  if (exit === null || exit === undefined) return '';
  return typeof exit === 'object' ? `last exit: ${JSON.stringify(exit)}` : `last exit: ${exit}`;
}

customElements.define('hearth-dashboard', DashboardPage);
