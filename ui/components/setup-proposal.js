// <hearth-setup>: "Found on this machine" — what discovery finds here (running servers,
// installed server programs, model files) as the configuration it proposes to add: providers
// with their models, services with their commands, the primary model, the notes. One button,
// "Use these", applies it all (POST /admin/setup/apply, which never overwrites an entry) and
// shows what was added and kept.
//
// With the `notes-open` attribute, the notes (why something found is not proposed) are shown
// unfolded when nothing is proposed. Fires `hearth-setup` (bubbling) with `detail: {state:
// 'loaded', empty}` after each look (`{state: 'failed'}` when it could not look) and `{state:
// 'applied', applied}` after "Use these", so the page around it refreshes.

import { get, post } from '../api.js';
import { bytes, commandLine, h, replace, tokens } from './dom.js';
import { showDiagnostics, showError } from './field-error.js';

export class SetupProposal extends HTMLElement {
  #busy = false;

  /** Whether "Use these" is being applied. */
  get busy() {
    return this.#busy;
  }

  connectedCallback() {
    if (this.content) return;
    this.classList.add('setup');
    this.apply = h('button', {
      type: 'button', class: 'button button-primary', 'data-testid': 'setup-apply', text: 'Use these',
      disabled: true, onclick: () => this.useThese(),
    });
    this.lookAgain = h('button', {
      type: 'button', class: 'button button-small', 'data-testid': 'setup-refresh', text: 'Look again',
      'aria-label': 'Look again for servers and models on this machine', onclick: () => this.load(),
    });
    this.status = h('div', { class: 'setup-status', 'data-testid': 'setup-status', 'aria-live': 'polite' });
    this.result = h('div', { class: 'setup-result', 'data-testid': 'setup-result', 'aria-live': 'polite' });
    this.content = h('div', { 'data-testid': 'setup-proposal' });
    replace(this,
      h('section', { class: 'card setup-card' },
        h('div', { class: 'card-head' },
          h('h3', { text: 'Found on this machine' }),
          h('div', { class: 'button-row' }, this.lookAgain, this.apply)),
        this.status, this.result, this.content));
    this.load();
  }

  /** Asks discovery again (about a second) and shows its proposal. */
  async load() {
    this.lookAgain.disabled = true;
    this.apply.disabled = true;
    replace(this.status, h('p', { class: 'muted', text: 'Looking for servers, programs and model files…' }));
    try {
      const answer = await get('/admin/setup');
      this.status.replaceChildren();
      this.render(answer);
      this.dispatchEvent(new CustomEvent('hearth-setup', { bubbles: true, detail: { state: 'loaded', empty: Boolean(answer?.empty) } }));
    } catch (error) {
      showError(this.status, `Could not look at this machine: ${error.message}`);
      this.dispatchEvent(new CustomEvent('hearth-setup', { bubbles: true, detail: { state: 'failed' } }));
    } finally {
      this.lookAgain.disabled = this.#busy;
    }
  }

  render(answer) {
    const proposal = answer?.proposal ?? {};
    const providers = proposal.providers ?? [];
    const services = proposal.services ?? [];
    const notes = proposal.notes ?? [];
    const empty = Boolean(answer?.empty);
    this.dataset.empty = String(empty);
    this.apply.disabled = empty || this.#busy;
    const sizes = new Map(providers.map((p) => [p.id, p.provider?.models ?? []]));

    replace(this.content,
      empty
        ? h('p', { class: 'muted', 'data-testid': 'setup-nothing', text: 'Nothing new found on this machine: what it has is configured already, or there is nothing yet.' })
        : h('p', { class: 'muted', text: 'Hearth can add these to its configuration. Nothing you already have is changed.' }),
      providers.length ? h('h4', { text: 'Providers' }) : null,
      providers.length ? h('ul', { class: 'setup-list' }, providers.map((p) => providerItem(p, services))) : null,
      services.length ? h('h4', { text: 'Services (servers Hearth starts for you)' }) : null,
      services.length ? h('ul', { class: 'setup-list' }, services.map((s) => serviceItem(s, sizes))) : null,
      proposal.primary
        ? h('p', { class: 'setup-primary', 'data-testid': 'setup-primary' },
          h('span', { class: 'muted', text: 'Primary model: ' }), h('span', { class: 'model-name', text: proposal.primary }))
        : null,
      notes.length
        ? h('details', { class: 'setup-notes', 'data-testid': 'setup-notes', open: empty && this.hasAttribute('notes-open') },
          h('summary', { text: `Notes (${notes.length})` }),
          h('ul', {}, notes.map((note) => h('li', { text: note }))))
        : null);
  }

  /** Applies the proposal, shows what was added and kept, and looks again. */
  async useThese() {
    this.#busy = true;
    this.apply.disabled = true;
    this.lookAgain.disabled = true;
    replace(this.result, h('p', { class: 'muted', text: 'Adding…' }));
    try {
      const answer = await post('/admin/setup/apply', {});
      const applied = answer?.applied ?? {};
      const added = applied.added ?? [];
      const kept = applied.kept ?? [];
      const warnings = answer?.warnings ?? [];
      replace(this.result, h('div', { class: 'notice notice-ok', role: 'status', 'data-testid': 'setup-applied' },
        h('strong', { text: added.length ? 'Added' : 'Nothing was added' }),
        added.length ? h('ul', { 'data-testid': 'setup-added' }, added.map((line) => h('li', { text: line }))) : null,
        kept.length ? h('p', { class: 'muted small', text: 'Kept as they were:' }) : null,
        kept.length ? h('ul', { class: 'muted small', 'data-testid': 'setup-kept' }, kept.map((line) => h('li', { text: line }))) : null,
        added.some((line) => line.startsWith('service ') || line.startsWith('primary '))
          ? h('p', { class: 'muted small', text: 'The primary model\'s server is starting; it answers once it has loaded the model.' })
          : null),
      warnings.length
        ? h('ul', { class: 'warnings' }, warnings.map((w) => h('li', { class: `diag diag-${w.severity}` },
          h('code', { text: w.path || '(file)' }), ' ', w.message ?? '')))
        : null);
      this.dispatchEvent(new CustomEvent('hearth-setup', { bubbles: true, detail: { state: 'applied', applied } }));
    } catch (error) {
      this.result.replaceChildren();
      if (error.diagnostics?.length) showDiagnostics(this.result, error.diagnostics, this.result);
      else showError(this.result, error.message);
    } finally {
      this.#busy = false;
      await this.load();
    }
  }
}

function providerItem(p, services) {
  const provider = p.provider ?? {};
  const models = provider.models ?? [];
  // A provider a proposed service runs: where it comes from is said once, at the service.
  const runBy = p.running ? null : services.find((s) => s.service?.provider === p.id);
  return h('li', { 'data-testid': `setup-provider-${p.id}` },
    h('div', { class: 'setup-line' },
      h('span', { class: 'model-name', text: p.id }),
      p.running
        ? h('span', { class: 'badge badge-ok', text: 'answering now' })
        : h('span', { class: 'badge', text: runBy ? `run by the service ${runBy.name}` : 'not answering yet' }),
      h('span', { class: 'muted small', text: `${provider.api ?? ''} · ` }),
      h('code', { class: 'small', text: provider.baseUrl ?? '' })),
    runBy ? null : h('div', { class: 'muted small', text: p.origin ?? '' }),
    models.length
      ? h('ul', { class: 'setup-models' }, models.map((m) => h('li', { 'data-model': m.id },
        h('span', { class: 'model-name', text: m.id }),
        h('span', { class: 'muted', text: [bytes(m.sizeBytes), m.contextWindow ? `${tokens(m.contextWindow)} of context` : null]
          .filter((part) => part && part !== '—').join(' · ') }))))
      : null);
}

function serviceItem(s, sizes) {
  const service = s.service ?? {};
  const models = sizes.get(service.provider) ?? [];
  const size = models.map((m) => m.sizeBytes).find((n) => typeof n === 'number');
  return h('li', { 'data-testid': `setup-service-${s.name}` },
    h('div', { class: 'setup-line' },
      h('span', { class: 'model-name', text: s.name }),
      typeof size === 'number' ? h('span', { class: 'badge', 'data-testid': `setup-service-size-${s.name}`, text: bytes(size) }) : null,
      service.port ? h('span', { class: 'muted small', text: `port ${service.port}` }) : null),
    h('div', { class: 'muted small', text: s.origin ?? '' }),
    h('code', { class: 'command small', text: commandLine([service.program, ...(service.args ?? [])].filter(Boolean)) }));
}

customElements.define('hearth-setup', SetupProposal);
