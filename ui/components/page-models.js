// <hearth-models>: "Models & providers". Every configured model with its resident/active
// markers, size and backend; "Use" switches the active model and shows the switch's steps live
// from the NDJSON answer; "Warm up" runs the same for the active model (start it if needed,
// one-token warm-up); "Unload all"; "Force" overrides the memory check. Then the providers
// (reachable or not, their models; added, edited, removed: provider-list.js), what was found
// on this machine (setup-proposal.js), the last switch's outcome, and the benchmark (run here
// or with `hearth bench`) and its history.

import { get, post, postNdjson, subscribe } from '../api.js';
import { bytes, debounce, h, keepFocus, replace, section, stateBadge } from './dom.js';
import { Page } from './page.js';
import './provider-list.js';
import './setup-proposal.js';
import './step-list.js';

export class ModelsPage extends Page {
  static title = 'Models & providers';

  mount() {
    this.info = h('div', { class: 'summary' });
    this.force = h('input', { type: 'checkbox', id: 'switch-force', 'data-testid': 'switch-force' });
    this.unloadButton = h('button', {
      type: 'button', class: 'button', 'data-testid': 'unload-all', text: 'Unload all',
      onclick: () => this.unloadAll(),
    });
    this.active = null;
    this.warmButton = h('button', {
      type: 'button', class: 'button', 'data-testid': 'warm-up', text: 'Warm up', disabled: true,
      title: 'Load the active model and answer one token, so the next request does not pay a cold start',
      onclick: () => this.active && this.activate(this.active, { warmUp: true }),
    });
    this.bench = h('div', { 'data-testid': 'bench-history' });
    this.actionStatus = h('div', { class: 'action-status', 'aria-live': 'polite' });
    this.table = h('div', { 'data-testid': 'model-list' });
    this.switchPanel = h('div', { class: 'switch-panel', hidden: true });
    this.lastSwitch = h('div', { 'data-testid': 'last-switch' });
    this.switchRunning = false;
    this.providers = h('hearth-providers');
    this.setup = h('hearth-setup', { 'data-testid': 'models-setup' });

    replace(this.body,
      this.info,
      h('div', { class: 'toolbar' },
        h('label', { class: 'checkbox', for: 'switch-force' }, this.force,
          ' Force (switch even when the memory check refuses)'),
        h('div', { class: 'button-row' }, this.warmButton, this.unloadButton)),
      this.actionStatus,
      section('Models', {}, this.table),
      this.switchPanel,
      this.providers,
      this.setup,
      section('Last switch', {}, this.lastSwitch),
      h('section', { class: 'card' },
        h('div', { class: 'card-head' },
          h('h3', { text: 'Benchmarks' }),
          h('div', { class: 'button-row' },
            this.benchButton = h('button', { type: 'button', class: 'button button-small', 'data-testid': 'run-bench', text: 'Bench the active model',
              onclick: () => this.runBench() }),
            h('button', { type: 'button', class: 'button button-small', 'data-testid': 'refresh-bench', text: 'Refresh',
              'aria-label': 'Refresh the benchmark history', onclick: () => this.loadBench() }))),
        this.benchStatus = h('p', { class: 'muted', 'data-testid': 'bench-status', 'aria-live': 'polite' }),
        this.bench));

    const reload = debounce(() => this.load(), 250);
    // A service that starts or stops changes whether its provider answers.
    const probe = debounce(() => this.providers.refresh(), 500);
    this.onCleanup(subscribe((event) => {
      if (event.type === 'switch') {
        if (!this.switchRunning) this.renderLastSwitch(event);
        if (event.state !== 'running') reload();
      } else if (event.type === 'service' || event.type === 'reconnected') {
        reload();
        probe();
        if (event.type === 'reconnected') this.loadBench();
      }
    }));
    // An edit of the providers changes the models; what was found changes both.
    this.addEventListener('hearth-config-changed', (event) => {
      if (event.target === this.providers) {
        reload();
        if (!this.setup.busy) this.setup.load();
      }
    });
    this.addEventListener('hearth-setup', (event) => {
      if (event.detail.state === 'applied') {
        reload();
        this.providers.load();
      }
    });
    // Servers come and go without telling Hearth: ask again now and then.
    this.every(15000, () => this.providers.refresh());
    this.load();
    this.loadBench();
  }

  /** Benchmarks the active model on the server (3 answers of up to 64 tokens), then shows it. */
  async runBench() {
    this.benchButton.disabled = true;
    this.benchStatus.className = 'muted';
    this.benchStatus.textContent = 'Benchmarking: a warm-up, then three answers…';
    try {
      const outcome = await post('/admin/bench', { runs: 3, maxTokens: 64 });
      const record = outcome.record ?? {};
      this.benchStatus.textContent = `${record.model}: ${Number(record.decodeTokensPerSecond ?? 0).toFixed(1)} tokens/s, `
        + `${Math.round(record.ttftMs ?? 0)} ms to first token${record.contended ? ' (another model was resident)' : ''}`;
      await this.loadBench();
    } catch (error) {
      this.benchStatus.className = 'field-error';
      this.benchStatus.setAttribute('role', 'alert');
      this.benchStatus.textContent = error.message;
    } finally {
      this.benchButton.disabled = false;
    }
  }

  async loadBench() {
    let history;
    try {
      history = (await get('/admin/bench')).history ?? [];
    } catch (error) {
      // An older server has no /admin/bench: nothing to show, as with no benchmark yet.
      if (error.status !== 404) {
        replace(this.bench, h('p', { class: 'field-error', role: 'alert', text: `Could not read the benchmark history: ${error.message}` }));
        return;
      }
      history = [];
    }
    replace(this.bench, benchTable(history));
  }

  async load() {
    try {
      const models = await get('/admin/models');
      this.showNotice(null);
      this.render(models);
    } catch (error) {
      this.showNotice(error);
    }
  }

  render(data) {
    const memory = data.memory;
    this.active = data.active ?? null;
    this.warmButton.disabled = this.switchRunning || !this.active;
    this.warmButton.setAttribute('aria-label', this.active ? `Warm up ${this.active}` : 'Warm up (no active model)');
    replace(this.info, h('dl', { class: 'facts' },
      fact('Active', data.active ?? 'none'),
      fact('Residency', data.residency === 'exclusive'
        ? 'exclusive (one model in memory at a time)' : data.residency ?? '—'),
      fact('Memory available', memory ? `${bytes(memory.available)} of ${bytes(memory.total)}` : '—'),
      // Apple silicon only: what the GPU may wire (iogpu.wired_limit_mb), a ceiling for any model.
      memory?.gpuLimit ? fact('GPU limit', `${bytes(memory.gpuLimit.bytes)}${
        memory.gpuLimit.wiredLimitMb === 0 ? ' (macOS default)' : ` (iogpu.wired_limit_mb=${memory.gpuLimit.wiredLimitMb})`}`) : null),
    data.contention ? h('p', { class: 'notice notice-warn', role: 'status', text: data.contention }) : null);

    const models = data.models ?? [];
    keepFocus(this.table, () => replace(this.table, models.length === 0
      ? h('p', { class: 'muted', text: 'No models configured yet: use what was found on this machine, or add a provider and its models below.' })
      : h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, ['Model', 'State', 'Size', 'Estimated peak', 'Context', 'Backend', '']
          .map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, models.map((m) => this.row(m))))));

    if (!this.switchRunning) this.renderLastSwitch(data.lastSwitch);
  }

  row(m) {
    const ref = m.model;
    const use = h('button', {
      type: 'button', class: 'button button-primary', 'data-testid': `use-${ref}`,
      'aria-label': `Use ${ref}`, text: 'Use', disabled: this.switchRunning,
      onclick: () => this.activate(ref),
    });
    use.classList.add('use-button');
    return h('tr', {
      'data-testid': `model-${ref}`, 'data-active': String(Boolean(m.active)),
      'data-resident': String(Boolean(m.resident)), class: m.active ? 'row-active' : '',
    },
    h('th', { scope: 'row' }, h('span', { class: 'model-name', text: ref })),
    h('td', {},
      m.active ? h('span', { class: 'badge badge-ok', 'data-testid': `active-${ref}`, text: 'active' }) : null,
      m.resident ? h('span', { class: 'badge', 'data-testid': `resident-${ref}`, text: 'resident' }) : null,
      !m.active && !m.resident ? h('span', { class: 'muted', text: 'not loaded' }) : null),
    h('td', { class: 'number', text: bytes(m.sizeBytes) }),
    h('td', { class: 'number', text: bytes(m.estimatedPeak) }),
    h('td', { class: 'number', text: m.contextWindow ? `${m.contextWindow} tokens` : '—' }),
    h('td', {}, m.service ? [h('span', { text: `${m.service} ` }), stateBadge(m.serviceState)]
      : h('span', { class: 'muted', text: m.api ?? '' })),
    h('td', {}, use));
  }

  setButtons(disabled) {
    for (const button of this.querySelectorAll('.use-button')) button.disabled = disabled;
    this.unloadButton.disabled = disabled;
    this.warmButton.disabled = disabled || !this.active;
  }

  /** Switches to `model` (or, `warmUp`, makes the active one resident and warm), showing the steps. */
  async activate(model, { warmUp = false } = {}) {
    this.switchRunning = true;
    this.warming = warmUp;
    this.setButtons(true);
    const steps = h('hearth-step-list', { 'data-testid': 'switch-progress' });
    const result = h('p', { class: 'switch-result', 'data-testid': 'switch-result', role: 'status', 'aria-live': 'polite' });
    const elapsed = h('span', { class: 'muted' });
    this.switchPanel.hidden = false;
    replace(this.switchPanel, section(warmUp ? `Warming up ${model}` : `Switching to ${model}`, { class: 'card' }, steps, result, elapsed));
    steps.progress = { model, state: 'running', steps: [] };
    const body = warmUp ? { model } : { model, force: this.force.checked };
    try {
      const last = await postNdjson('/admin/models/activate', body, (progress) => {
        steps.progress = progress;
        if (typeof progress.elapsedMs === 'number') elapsed.textContent = `${(progress.elapsedMs / 1000).toFixed(1)} s`;
      });
      if (!last) {
        this.fail(result, 'the server ended the switch without a word');
      } else if (last.state === 'done') {
        result.className = 'switch-result result-ok';
        result.textContent = 'done';
      } else {
        this.fail(result, last.error ?? `switch ${last.state}`);
      }
    } catch (error) {
      this.fail(result, error.message);
    } finally {
      this.switchRunning = false;
      this.setButtons(false);
      this.load();
    }
  }

  fail(result, text) {
    result.className = 'switch-result result-bad';
    result.setAttribute('role', 'alert');
    result.textContent = text;
    if (/memory|force/i.test(text) && !this.force.checked && !this.warming) {
      result.after(h('p', { class: 'muted', text: 'Tick "Force" to switch anyway.' }));
    }
  }

  renderLastSwitch(progress) {
    if (!progress) {
      replace(this.lastSwitch, h('p', { class: 'muted', text: 'No switch since Hearth started.' }));
      return;
    }
    const steps = h('hearth-step-list');
    steps.progress = progress;
    replace(this.lastSwitch,
      h('p', {},
        h('span', { text: `${progress.model ?? ''}: ` }),
        stateBadge(progress.state),
        typeof progress.elapsedMs === 'number'
          ? h('span', { class: 'muted', text: ` in ${(progress.elapsedMs / 1000).toFixed(1)} s` }) : null),
      progress.state === 'failed' && progress.error
        ? h('p', { class: 'notice notice-bad', 'data-testid': 'last-switch-error', text: progress.error })
        : null,
      steps);
  }

  async unloadAll() {
    this.unloadButton.disabled = true;
    replace(this.actionStatus, h('p', { class: 'muted', text: 'Unloading…' }));
    try {
      const answer = await post('/admin/models/unload', {});
      const done = answer?.unloaded ?? [];
      replace(this.actionStatus, h('p', { role: 'status', 'data-testid': 'unload-result',
        text: done.length ? `Unloaded ${done.join(', ')}.` : 'Nothing was resident.' }));
    } catch (error) {
      replace(this.actionStatus, h('p', { class: 'field-error', role: 'alert', text: error.message }));
    } finally {
      this.unloadButton.disabled = this.switchRunning;
      this.load();
    }
  }
}

const BENCH_ROWS = 20;

/** The bench history (oldest first from the server) as a table, newest first. */
function benchTable(history) {
  const records = history.filter((r) => r && typeof r === 'object').slice(-BENCH_ROWS).reverse();
  if (records.length === 0) {
    return h('p', { class: 'muted', text: 'No benchmarks yet: run `hearth bench`.' });
  }
  const number = (value, digits) => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '—');
  return h('table', { class: 'table' },
    h('thead', {}, h('tr', {}, ['When', 'Model', 'Tokens/s', 'Time to first token', 'Runs', 'Note']
      .map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, records.map((r) => h('tr', { 'data-contended': String(Boolean(r.contended)) },
      h('td', { text: typeof r.at === 'number' ? new Date(r.at * 1000).toLocaleString() : '—',
        title: r.hearth ? `Hearth ${r.hearth}` : null }),
      h('th', { scope: 'row' }, h('span', { class: 'model-name', text: r.model ?? '—' })),
      h('td', { class: 'number', text: number(r.decodeTokensPerSecond, 1),
        title: typeof r.tokens === 'number' ? `${r.tokens} tokens decoded (at most ${r.maxTokens ?? '?'} per run)` : null }),
      h('td', { class: 'number', text: typeof r.ttftMs === 'number' ? `${number(r.ttftMs, 0)} ms` : '—' }),
      h('td', { class: 'number', text: r.runs ?? '—' }),
      h('td', {}, r.contended ? h('span', { class: 'badge state-warn', text: 'another model was resident' }) : null)))));
}

function fact(term, value) {
  return h('div', {}, h('dt', { text: term }), h('dd', { text: value }));
}

customElements.define('hearth-models', ModelsPage);
