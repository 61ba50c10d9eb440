// <hearth-providers>: every provider of the configuration as a card — whether its server
// answers (with the error when it does not), its API, base URL, API key reference and the
// service that runs it, and its models: the configured ones (edit, remove) and the ones the
// server lists that are not configured yet ("Add"). Providers are added, edited and removed
// here too. Every edit is one `/admin/config/set` (or `unset`) of `providers.<id>` or
// `providers.<id>.models`, made on the document as the server has it now; a refusal's
// messages go next to the fields they name (field-error.js).
//
// Fires `hearth-config-changed` (bubbling) after each saved edit. `refresh()` asks the
// providers again whether they answer (each probe takes up to 2 s).

import { configSet, configUnset, get } from '../api.js';
import { bytes, h, keyPath, replace, tokens } from './dom.js';
import { clearDiagnostics, clearOnEdit, isPathPrefix, showDiagnostics, showError } from './field-error.js';
import { field } from './page.js';

const APIS = ['ollama', 'openai-completions', 'openai-responses', 'anthropic-messages'];

// Where each API's server usually is, as a placeholder for the base URL.
const BASE_URLS = {
  ollama: 'http://127.0.0.1:11434',
  'openai-completions': 'http://127.0.0.1:8080/v1',
  'openai-responses': 'https://api.openai.com/v1',
  'anthropic-messages': 'https://api.anthropic.com',
};

export class ProviderList extends HTMLElement {
  connectedCallback() {
    if (this.cards) return;
    this.document = null;
    this.warnings = [];
    this.probed = null;
    this.editing = 0; // open edit forms; a refresh does not rebuild the cards under them
    this.stale = false;
    this.cards = h('div', { class: 'provider-cards', 'data-testid': 'provider-list' });
    this.checkButton = h('button', {
      type: 'button', class: 'button button-small', 'data-testid': 'refresh-providers', text: 'Check again',
      'aria-label': 'Check again whether each provider answers', onclick: () => this.refresh(),
    });
    this.addSection = h('section', { class: 'card', 'data-testid': 'provider-add-form' },
      h('h3', { text: 'Add a provider' }));
    replace(this,
      h('section', { class: 'card providers-card' },
        h('div', { class: 'card-head' }, h('h3', { text: 'Providers' }), this.checkButton),
        h('p', { class: 'muted small', text: 'A provider is a server Hearth sends requests to. Models are named provider/model.' }),
        this.cards),
      this.addSection);
    this.renderAddForm();
    this.load();
  }

  /** Reads the configuration and asks each provider whether it answers. */
  async load() {
    await this.loadDocument();
    await this.refresh();
  }

  async loadDocument() {
    try {
      const config = await get('/admin/config');
      this.document = config.document ?? {};
      this.warnings = config.warnings ?? [];
      this.render();
    } catch (error) {
      replace(this.cards, h('p', { class: 'field-error', role: 'alert', text: `Could not read the configuration: ${error.message}` }));
    }
  }

  /** Asks each provider again whether it answers, and what it lists. */
  async refresh() {
    this.checkButton.disabled = true;
    const [providers, services] = await Promise.allSettled([get('/admin/providers'), get('/admin/services')]);
    this.checkButton.disabled = false;
    if (providers.status === 'fulfilled') {
      this.probed = new Map((providers.value.providers ?? []).map((p) => [p.id, p]));
      this.probeError = null;
    } else {
      this.probed = new Map();
      this.probeError = `Could not ask the providers: ${providers.reason.message}`;
    }
    // A provider whose service is stopped does not answer, and that is no fault.
    this.serviceStates = new Map(services.status === 'fulfilled'
      ? (services.value.services ?? []).map((s) => [s.name, s.state]) : []);
    if (this.editing > 0) {
      // Only the parts that show reachability; the open form stays as it is.
      for (const id of Object.keys(this.document?.providers ?? {})) this.renderReach(id);
    } else {
      this.render();
    }
  }

  providersOf() {
    const providers = this.document?.providers;
    return providers && typeof providers === 'object' ? providers : {};
  }

  render() {
    if (!this.document) return;
    if (this.editing > 0) {
      this.stale = true;
      return;
    }
    this.stale = false;
    const providers = Object.entries(this.providersOf());
    this.parts = new Map();
    replace(this.cards, providers.length === 0
      ? h('p', { class: 'muted', 'data-testid': 'no-providers', text: 'No providers yet: use what was found on this machine (below), or add one.' })
      : providers.map(([id, provider]) => this.card(id, provider ?? {})));
  }

  card(id, provider) {
    const path = keyPath('providers', id);
    const reach = h('span', { class: 'reach', 'data-testid': `reach-${id}` });
    const error = h('p', { class: 'provider-error', 'data-testid': `provider-error-${id}`, hidden: true });
    const service = h('dd', { 'data-testid': `provider-service-${id}`, text: '—' });
    const models = h('div', { class: 'provider-models' });
    const editArea = h('div', { class: 'provider-edit' });
    const status = h('div', { class: 'card-errors', 'aria-live': 'polite' });
    const card = h('article', { class: 'provider-card', 'data-testid': `provider-card-${id}`, 'data-path': path, 'data-provider': id },
      h('div', { class: 'card-head' },
        h('h4', {}, h('span', { class: 'model-name', text: id }), reach),
        h('div', { class: 'button-row' },
          h('button', {
            type: 'button', class: 'button button-small', text: 'Edit', 'data-testid': `provider-edit-${id}`,
            'aria-label': `Edit provider ${id}`, onclick: () => this.editProvider(id, card),
          }),
          h('button', {
            type: 'button', class: 'button button-small button-danger', text: 'Remove', 'data-testid': `provider-remove-${id}`,
            'aria-label': `Remove provider ${id}`, onclick: (event) => this.removeProvider(id, event.currentTarget, status),
          }))),
      error,
      h('dl', { class: 'facts provider-facts' },
        h('div', {}, h('dt', { text: 'API' }), h('dd', { 'data-testid': `provider-api-${id}`, text: provider.api ?? '—' })),
        h('div', {}, h('dt', { text: 'Base URL' }), h('dd', {}, h('code', { 'data-testid': `provider-url-${id}`, text: provider.baseUrl ?? '—' }))),
        provider.apiKey ? h('div', {}, h('dt', { text: 'API key' }), h('dd', {}, h('code', { text: provider.apiKey }))) : null,
        h('div', {}, h('dt', { text: 'Service' }), service)),
      editArea,
      models,
      status);
    this.parts.set(id, { card, reach, error, service, models, editArea, status, path });
    this.renderReach(id);
    // The configuration's standing warnings about this provider (a key not in the store).
    const mine = this.warnings.filter((w) => isPathPrefix(path, String(w.path ?? '')) && w.path !== path);
    if (mine.length) {
      showDiagnostics(status, mine.map((w) => ({ ...w, path: '', message: `${label(w.path.slice(path.length + 1))}: ${w.message}` })), status);
    }
    return card;
  }

  /** The reachability dot, the error, the service and the listed models of one card. */
  renderReach(id) {
    const parts = this.parts?.get(id);
    if (!parts) return;
    const probe = this.probed?.get(id);
    const { card, reach, error, service } = parts;
    const serviceState = probe?.service ? this.serviceStates?.get(probe.service) : null;
    // Not answering because Hearth has not started its server (exclusive residency, or a
    // service starting) is said as such, in a calmer tone.
    const waiting = probe && !probe.reachable && ['stopped', 'starting', 'restarting'].includes(serviceState);
    card.dataset.reachable = probe ? String(probe.reachable) : 'unknown';
    card.dataset.waiting = String(Boolean(waiting));
    if (!this.probed) {
      replace(reach, stateDot('idle', 'checking…'));
    } else if (!probe) {
      replace(reach, stateDot('idle', this.probeError ? 'unknown' : 'not checked yet'));
    } else if (waiting) {
      const starting = ['starting', 'restarting'].includes(serviceState);
      replace(reach, stateDot(starting ? 'warn' : 'idle', `not reachable: its service is ${serviceState}`));
    } else {
      replace(reach, stateDot(probe.reachable ? 'ok' : 'bad', probe.reachable ? 'reachable' : 'not reachable'));
    }
    const why = probe && !probe.reachable ? probe.error || 'no answer' : this.probeError;
    error.hidden = !why;
    error.classList.toggle('provider-error-waiting', Boolean(waiting));
    error.textContent = waiting && !['starting', 'restarting'].includes(serviceState)
      ? `${why} — using one of its models starts service ${probe.service}`
      : why ?? '';
    service.textContent = probe?.service ? `${probe.service}${serviceState ? ` (${serviceState})` : ''}` : '—';
    if (!parts.modelFormOpen) this.renderModels(id);
  }

  renderModels(id) {
    const parts = this.parts.get(id);
    const provider = this.providersOf()[id] ?? {};
    const configured = Array.isArray(provider.models) ? provider.models : [];
    const ids = new Set(configured.map((m) => m?.id));
    const listed = (this.probed?.get(id)?.listed ?? []).filter((m) => !ids.has(m));
    const rows = [
      ...configured.map((m, index) => h('tr', { 'data-testid': `provider-model-${id}/${m?.id}` },
        h('th', { scope: 'row' }, h('span', { class: 'model-name', text: m?.id ?? '' })),
        h('td', { class: 'number', text: tokens(m?.contextWindow) }),
        h('td', { class: 'number', text: tokens(m?.maxTokens) }),
        h('td', { class: 'number', text: bytes(m?.sizeBytes) }),
        h('td', {}, h('div', { class: 'button-row' },
          h('button', {
            type: 'button', class: 'button button-small', text: 'Edit', 'data-testid': `model-edit-${id}/${m?.id}`,
            'aria-label': `Edit model ${id}/${m?.id}`, onclick: () => this.modelForm(id, index),
          }),
          h('button', {
            type: 'button', class: 'button button-small button-danger', text: 'Remove', 'data-testid': `model-remove-${id}/${m?.id}`,
            'aria-label': `Remove model ${id}/${m?.id}`, onclick: (event) => this.removeModel(id, m?.id, event.currentTarget),
          }))))),
      ...listed.map((model) => h('tr', { class: 'row-listed', 'data-testid': `provider-listed-${id}/${model}` },
        h('th', { scope: 'row' }, h('span', { class: 'model-name', text: model })),
        h('td', { colspan: 3, class: 'muted', text: 'the server offers it; not configured' }),
        h('td', {}, h('button', {
          type: 'button', class: 'button button-small button-primary', text: 'Add', 'data-testid': `add-listed-${id}/${model}`,
          'aria-label': `Add model ${id}/${model}`, onclick: (event) => this.addListed(id, model, event.currentTarget),
        })))),
    ];
    replace(parts.models,
      rows.length === 0
        ? h('p', { class: 'muted small', text: configured.length === 0 && this.probed?.get(id)?.reachable
          ? 'No models configured, and the server lists none.'
          : 'No models configured: Hearth offers whatever the server lists once it answers.' })
        : h('table', { class: 'table compact' },
          h('thead', {}, h('tr', {}, ['Model', 'Context', 'Max output', 'Size', ''].map((t) => h('th', { scope: 'col', text: t })))),
          h('tbody', {}, rows)),
      h('div', { class: 'button-row' },
        h('button', {
          type: 'button', class: 'button button-small', text: 'Add a model', 'data-testid': `model-add-${id}`,
          'aria-label': `Add a model to ${id}`, onclick: () => this.modelForm(id, null),
        })));
  }

  /** The configuration as the server has it now (edits are made on it, not on what was shown). */
  async freshProvider(id) {
    const config = await get('/admin/config');
    this.document = config.document ?? {};
    this.warnings = config.warnings ?? [];
    const provider = this.providersOf()[id];
    if (!provider || typeof provider !== 'object') throw new Error(`provider ${id} is no longer configured`);
    return provider;
  }

  /** Saves `value` at `path`; on a refusal shows its messages in `scope` and returns null. */
  async save(path, value, scope, fallback) {
    try {
      const answer = await configSet(path, value);
      return answer ?? {};
    } catch (error) {
      clearDiagnostics(scope);
      fallback.replaceChildren();
      // The errors, and the warnings about what was edited (not the configuration's others).
      const shown = (error.diagnostics ?? [])
        .filter((d) => d.severity !== 'warning' || isPathPrefix(path, String(d.path ?? '')));
      if (shown.length) showDiagnostics(scope, shown, fallback);
      else showError(fallback, error.message);
      scope.querySelector('[aria-invalid="true"]')?.focus();
      return null;
    }
  }

  /** After a saved edit: the cards again, a fresh probe, and the page told. */
  async changed() {
    this.dispatchEvent(new CustomEvent('hearth-config-changed', { bubbles: true }));
    await this.loadDocument();
    await this.refresh();
  }

  open() {
    this.editing += 1;
  }

  close() {
    this.editing = Math.max(0, this.editing - 1);
    if (this.editing === 0 && this.stale) this.render();
  }

  editProvider(id, card) {
    const parts = this.parts.get(id);
    if (parts.providerFormOpen) return;
    const provider = this.providersOf()[id] ?? {};
    const path = parts.path;
    const api = apiSelect(`${path}.api`, provider.api, `provider-api-input-${id}`);
    const baseUrl = h('input', {
      type: 'text', 'data-path': `${path}.baseUrl`, 'data-testid': `provider-baseUrl-input-${id}`,
      value: provider.baseUrl ?? '', autocomplete: 'off', spellcheck: 'false',
    });
    const apiKey = h('input', {
      type: 'text', 'data-path': `${path}.apiKey`, 'data-testid': `provider-apiKey-input-${id}`,
      value: provider.apiKey ?? '', autocomplete: 'off', spellcheck: 'false', placeholder: 'keychain:NAME or env:NAME',
    });
    const errors = h('div', { class: 'form-errors' });
    const done = () => {
      parts.providerFormOpen = false;
      parts.editArea.replaceChildren();
      this.close();
    };
    const form = h('form', { class: 'provider-form', novalidate: true },
      h('div', { class: 'form-row' },
        field('API', api),
        field('Base URL', baseUrl),
        field('API key', apiKey, 'A reference to a secret, never the key itself. Empty: none.')),
      errors,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'button button-primary', text: 'Save', 'data-testid': `provider-save-${id}` }),
        h('button', { type: 'button', class: 'button', text: 'Cancel', onclick: done })));
    clearOnEdit(form);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      let current;
      try {
        current = await this.freshProvider(id);
      } catch (error) {
        showError(errors, error.message);
        return;
      }
      // In the order a person writes them: api, baseUrl, apiKey, then the rest (models).
      const { api: _api, baseUrl: _baseUrl, apiKey: _apiKey, ...rest } = current;
      const value = {
        api: api.value,
        baseUrl: baseUrl.value.trim(),
        ...(apiKey.value.trim() ? { apiKey: apiKey.value.trim() } : {}),
        ...rest,
      };
      const answer = await this.save(path, value, form, errors);
      if (!answer) return;
      done();
      await this.changed();
    });
    parts.providerFormOpen = true;
    this.open();
    replace(parts.editArea, form);
    baseUrl.focus();
    card.scrollIntoView?.({ block: 'nearest' });
  }

  async removeProvider(id, button, status) {
    if (!window.confirm(`Remove provider ${id} and its models from Hearth's configuration? The server itself is not touched.`)) return;
    button.disabled = true;
    status.replaceChildren();
    try {
      await configUnset(keyPath('providers', id));
      await this.changed();
    } catch (error) {
      button.disabled = false;
      if (error.diagnostics?.length) {
        // What the removal would break (a primary model, a service's provider) is elsewhere.
        showDiagnostics(status, error.diagnostics.filter((d) => d.severity !== 'warning'), status);
      } else {
        showError(status, error.message);
      }
    }
  }

  /** The form to add a model (`index` null) or edit the model at `index`. */
  modelForm(id, index) {
    const parts = this.parts.get(id);
    if (parts.modelFormOpen) {
      parts.models.querySelector('input')?.focus();
      return;
    }
    const provider = this.providersOf()[id] ?? {};
    const models = Array.isArray(provider.models) ? provider.models : [];
    const at = index ?? models.length;
    const model = index === null ? {} : models[index] ?? {};
    const base = `${parts.path}.models[${at}]`;
    const input = (key, props) => h('input', {
      type: 'text', 'data-path': `${base}.${key}`, 'data-testid': `model-${key}-input`,
      autocomplete: 'off', spellcheck: 'false', ...props,
    });
    const modelId = input('id', { value: model.id ?? '', placeholder: 'qwen3:8b' });
    const context = input('contextWindow', { value: model.contextWindow ?? '', inputmode: 'numeric', placeholder: 'optional' });
    const maxTokens = input('maxTokens', { value: model.maxTokens ?? '', inputmode: 'numeric', placeholder: 'optional' });
    const size = input('sizeBytes', { value: model.sizeBytes ?? '', placeholder: 'optional, like 4.4 GiB' });
    const errors = h('div', { class: 'form-errors' });
    const done = () => {
      parts.modelFormOpen = false;
      this.close();
      this.renderModels(id);
    };
    const form = h('form', { class: 'model-form', novalidate: true, 'data-testid': `model-form-${id}` },
      h('h5', { text: index === null ? `Add a model to ${id}` : `Edit ${id}/${model.id ?? ''}` }),
      h('div', { class: 'form-row' },
        field('Model id', modelId, 'As the server names it.'),
        field('Context window', context, 'In tokens.'),
        field('Max output', maxTokens, 'In tokens; longer requests are clamped.'),
        field('Size on disk', size, 'Bytes, or like 4.4 GiB: for the memory check.')),
      errors,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'button button-primary', text: index === null ? 'Add model' : 'Save', 'data-testid': 'model-save' }),
        h('button', { type: 'button', class: 'button', text: 'Cancel', onclick: done })));
    clearOnEdit(form);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearDiagnostics(form);
      errors.replaceChildren();
      if (!modelId.value.trim()) {
        showDiagnostics(form, [{ path: `${base}.id`, message: 'A model needs an id.' }], errors);
        modelId.focus();
        return;
      }
      let current;
      try {
        current = await this.freshProvider(id);
      } catch (error) {
        showError(errors, error.message);
        return;
      }
      const list = Array.isArray(current.models) ? [...current.models] : [];
      // Keep what this form does not show (name, input, reasoning).
      const edited = { ...(index === null ? {} : list[index] ?? {}), id: modelId.value.trim() };
      for (const [key, control, parse] of [['contextWindow', context, number], ['maxTokens', maxTokens, number], ['sizeBytes', size, sizeBytes]]) {
        const text = control.value.trim();
        if (text) edited[key] = parse(text);
        else delete edited[key];
      }
      if (index === null) list.push(edited);
      else list[index] = edited;
      const answer = await this.save(`${parts.path}.models`, list, form, errors);
      if (!answer) return;
      parts.modelFormOpen = false;
      this.close();
      await this.changed();
    });
    parts.modelFormOpen = true;
    this.open();
    replace(parts.models, form);
    modelId.focus();
  }

  async removeModel(id, modelId, button) {
    const parts = this.parts.get(id);
    button.disabled = true;
    parts.status.replaceChildren();
    try {
      const current = await this.freshProvider(id);
      const list = (Array.isArray(current.models) ? current.models : []).filter((m) => m?.id !== modelId);
      const answer = await this.save(`${parts.path}.models`, list, parts.card, parts.status);
      if (answer) await this.changed();
      else button.disabled = false;
    } catch (error) {
      button.disabled = false;
      showError(parts.status, error.message);
    }
  }

  async addListed(id, modelId, button) {
    const parts = this.parts.get(id);
    button.disabled = true;
    parts.status.replaceChildren();
    try {
      const current = await this.freshProvider(id);
      const list = Array.isArray(current.models) ? [...current.models] : [];
      if (!list.some((m) => m?.id === modelId)) list.push({ id: modelId });
      const answer = await this.save(`${parts.path}.models`, list, parts.card, parts.status);
      if (answer) await this.changed();
      else button.disabled = false;
    } catch (error) {
      button.disabled = false;
      showError(parts.status, error.message);
    }
  }

  renderAddForm() {
    const id = h('input', {
      type: 'text', 'data-testid': 'provider-new-id', autocomplete: 'off', spellcheck: 'false',
      placeholder: 'ollama', pattern: '[a-z0-9_-]+',
    });
    const api = apiSelect(null, 'openai-completions', 'provider-new-api');
    const baseUrl = h('input', { type: 'text', 'data-testid': 'provider-new-baseUrl', autocomplete: 'off', spellcheck: 'false' });
    const apiKey = h('input', {
      type: 'text', 'data-testid': 'provider-new-apiKey', autocomplete: 'off', spellcheck: 'false',
      placeholder: 'optional: keychain:NAME or env:NAME',
    });
    const placeholder = () => { baseUrl.placeholder = BASE_URLS[api.value] ?? 'http://127.0.0.1:8080/v1'; };
    api.addEventListener('change', placeholder);
    placeholder();
    // The fields name the config paths of the provider being added, once its id is known.
    const aim = () => {
      const path = keyPath('providers', id.value.trim() || '?');
      id.dataset.path = path;
      api.dataset.path = `${path}.api`;
      baseUrl.dataset.path = `${path}.baseUrl`;
      apiKey.dataset.path = `${path}.apiKey`;
      return path;
    };
    aim();
    const result = h('div', { class: 'install-result', 'data-testid': 'provider-add-result', 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'provider-add-submit', text: 'Add provider' });
    const form = h('form', { class: 'provider-form', novalidate: true },
      h('div', { class: 'form-row' },
        field('Id', id, 'Lower-case letters, digits, - and _: models are named id/model.'),
        field('API', api),
        field('Base URL', baseUrl, 'Where its server answers.'),
        field('API key', apiKey, 'For a cloud API: a reference to a secret, never the key itself.')),
      h('div', { class: 'actions' }, submit, result));
    clearOnEdit(form);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const name = id.value.trim();
      const path = aim();
      clearDiagnostics(form);
      result.replaceChildren();
      const local = [];
      if (!name) local.push({ path, message: 'A provider needs an id.' });
      else if (Object.hasOwn(this.providersOf(), name)) local.push({ path, message: `provider \`${name}\` already exists: edit it above` });
      if (local.length) {
        showDiagnostics(form, local, result);
        id.focus();
        return;
      }
      const value = { api: api.value, baseUrl: baseUrl.value.trim(), models: [] };
      if (apiKey.value.trim()) value.apiKey = apiKey.value.trim();
      submit.disabled = true;
      replace(result, h('span', { class: 'muted', text: 'Adding…' }));
      const answer = await this.save(path, value, form, result);
      submit.disabled = false;
      if (!answer) {
        if (result.firstChild?.classList?.contains('muted')) result.replaceChildren();
        return;
      }
      form.reset();
      api.value = 'openai-completions';
      placeholder();
      aim();
      replace(result, h('span', { class: 'save-status', role: 'status', text: `Added ${name}.` }));
      await this.changed();
    });
    replace(this.addSection, h('h3', { text: 'Add a provider' }), form);
  }
}

/** A provider's key as the card names it (`apiKey` → `API key`; `models[0].id` as it is). */
function label(key) {
  return { api: 'API', baseUrl: 'Base URL', apiKey: 'API key' }[key] ?? key;
}

function apiSelect(path, chosen, testid) {
  const select = h('select', { 'data-testid': testid, ...(path ? { 'data-path': path } : {}) },
    APIS.map((api) => h('option', { value: api, text: api, selected: api === chosen })));
  if (chosen && !APIS.includes(chosen)) select.append(h('option', { value: chosen, text: chosen, selected: true }));
  return select;
}

function stateDot(toneName, text) {
  return h('span', { class: `state state-${toneName}` },
    h('span', { class: 'dot', 'aria-hidden': 'true' }), h('span', { class: 'state-text', text }));
}

/** A whole number as typed, else the text itself (the server says what is wrong with it). */
function number(text) {
  return /^\d+$/.test(text) ? Number(text) : text;
}

const SIZE_UNITS = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

/** Bytes from `4.4 GB`, `800 MiB` or `123456`; else the text (the server refuses it at its field). */
function sizeBytes(text) {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?$/i.exec(text.replace(/,/g, ''));
  if (!match) return text;
  const bytes = Number(match[1]) * (SIZE_UNITS[(match[2] ?? 'b').toLowerCase()] ?? 1);
  return Math.round(bytes);
}

customElements.define('hearth-providers', ProviderList);
