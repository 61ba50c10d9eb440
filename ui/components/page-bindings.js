// <hearth-bindings>: the ordered routing rules (document.bindings) — edit agent and match
// fields, reorder, add, remove, save the whole list with config/set `bindings` — the server's
// warnings about them, and a live route simulator over the saved configuration.

import { configSet, get, query } from '../api.js';
import { debounce, h, replace, tone } from './dom.js';
import { clearDiagnostics, clearOnEdit, showDiagnostics, showError } from './field-error.js';
import { field, Page } from './page.js';

/** The match fields: label, key in the working copy, config path below `match`. */
const FIELDS = [
  ['Client', 'client', 'client'],
  ['Channel', 'channel', 'channel'],
  ['Account', 'accountId', 'accountId'],
  ['Peer kind', 'peerKind', 'peer.kind'],
  ['Peer id', 'peerId', 'peer.id'],
];

export class BindingsPage extends Page {
  static title = 'Bindings';

  mount() {
    this.bindings = [];
    this.saved = '[]';
    this.agents = [];
    this.clients = [];
    this.lastRoute = null;
    this.simSerial = 0;

    this.warnings = h('div', { class: 'warnings-box', 'data-testid': 'binding-warnings', 'aria-live': 'polite' });
    this.list = h('ol', { class: 'bindings', 'data-testid': 'binding-list' });
    this.listScope = h('div', { class: 'bindings-scope', 'data-path': 'bindings' }, this.list);
    this.formErrors = h('div', { class: 'form-errors' });
    this.status = h('span', { class: 'save-status', role: 'status', 'data-testid': 'save-bindings-status' });
    this.addButton = h('button', { type: 'button', class: 'button', 'data-testid': 'add-binding', text: 'Add binding', onclick: () => this.add() });
    this.saveButton = h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'save-bindings', text: 'Save' });
    this.form = h('form', { class: 'bindings-form', novalidate: true },
      this.listScope, this.formErrors,
      h('div', { class: 'actions' }, this.addButton, this.saveButton, this.status));
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save();
    });
    this.form.addEventListener('input', () => this.markDirty());
    this.form.addEventListener('change', () => this.markDirty());
    clearOnEdit(this.form);

    this.simulator = this.buildSimulator();
    this.clientList = h('datalist', { id: 'client-names' });
    replace(this.body,
      this.clientList,
      h('datalist', { id: 'peer-kinds' }, ['dm', 'group', 'channel'].map((k) => h('option', { value: k }))),
      h('p', { class: 'muted', text: 'Among the bindings whose every field matches, the most specific wins (peer id > peer kind > account > channel > client > catch-all); ties go to the earlier one. Empty fields match anything.' }),
      h('section', { class: 'card' }, h('h3', { text: 'Rules' }), this.warnings, this.form),
      this.simulator);
    this.load();
  }

  async load() {
    try {
      const config = await get('/admin/config');
      this.showNotice(null);
      this.adopt(config);
      this.simulate();
    } catch (error) {
      this.showNotice(error);
    }
  }

  /** Takes the server's document as the new saved state and redraws everything. */
  adopt(config) {
    const document = config.document ?? {};
    this.agents = (document.agents ?? []).map((a) => a.id);
    this.clients = (document.clients ?? []).map((c) => c.name);
    this.defaultAgent = document.defaultAgent ?? this.agents[0] ?? '';
    replace(this.clientList, this.clients.map((name) => h('option', { value: name })));
    this.bindings = (document.bindings ?? []).map(toRow);
    this.saved = JSON.stringify(this.value());
    this.render();
    this.showWarnings(config.warnings ?? []);
  }

  /** The working copy as the config file's `bindings`. */
  value() {
    return this.bindings.map(fromRow);
  }

  render() {
    replace(this.list, this.bindings.length === 0
      ? h('li', { class: 'muted empty', text: 'No bindings: every request from a client goes to the default agent.' })
      : this.bindings.map((row, index) => this.row(row, index)));
    this.markDirty();
    this.paintVerdicts();
  }

  row(row, index) {
    const base = `bindings[${index}]`;
    const agents = this.agents.includes(row.agent) || !row.agent ? this.agents : [...this.agents, row.agent];
    const agent = h('select', { 'data-path': `${base}.agent`, 'data-testid': `binding-${index}-agent` },
      agents.map((id) => h('option', { value: id, selected: id === row.agent, text: id })));
    agent.addEventListener('change', () => { row.agent = agent.value; });

    const inputs = FIELDS.map(([label, key, path]) => {
      const input = h('input', {
        type: 'text', value: row[key] ?? '', 'data-path': `${base}.match.${path}`,
        'data-testid': `binding-${index}-${key}`, autocomplete: 'off', spellcheck: 'false',
        list: key === 'client' ? 'client-names' : key === 'peerKind' ? 'peer-kinds' : null,
        placeholder: 'any',
      });
      input.addEventListener('input', () => { row[key] = input.value; });
      return field(label, input);
    });

    const n = index + 1;
    const button = (text, label, onclick, disabled, action) => h('button', {
      type: 'button', class: 'button button-small', text, 'aria-label': label, onclick, disabled,
      'data-action': action, 'data-index': index, 'data-testid': `binding-${index}-${action}`,
    });
    return h('li', { class: 'binding', 'data-testid': `binding-${index}`, 'data-path': base },
      h('div', { class: 'binding-head' },
        h('span', { class: 'binding-index', text: `#${index}` }),
        h('span', { class: 'binding-verdict', 'data-testid': `verdict-${index}` }),
        h('span', { class: 'spacer' }),
        button('↑', `Move binding ${n} up`, () => this.move(index, -1), index === 0, 'up'),
        button('↓', `Move binding ${n} down`, () => this.move(index, 1), index === this.bindings.length - 1, 'down'),
        button('Remove', `Remove binding ${n}`, () => this.remove(index), false, 'remove')),
      h('div', { class: 'form-row binding-fields' }, field('Agent', agent), inputs));
  }

  move(index, by) {
    const to = index + by;
    if (to < 0 || to >= this.bindings.length) return;
    const [row] = this.bindings.splice(index, 1);
    this.bindings.splice(to, 0, row);
    this.render();
    // Keep the keyboard on the moved row: the same button, or the other one at the ends.
    const action = by < 0 ? 'up' : 'down';
    const other = by < 0 ? 'down' : 'up';
    const again = this.list.querySelector(`[data-action="${action}"][data-index="${to}"]`);
    const opposite = this.list.querySelector(`[data-action="${other}"][data-index="${to}"]`);
    (again && !again.disabled ? again : opposite)?.focus();
  }

  remove(index) {
    this.bindings.splice(index, 1);
    this.render();
    const next = this.list.querySelector(`[data-action="remove"][data-index="${Math.min(index, this.bindings.length - 1)}"]`);
    (next ?? this.addButton).focus();
  }

  add() {
    this.bindings.push(toRow({ agent: this.defaultAgent, match: {} }));
    this.render();
    this.list.querySelector(`[data-testid="binding-${this.bindings.length - 1}-agent"]`)?.focus();
  }

  markDirty() {
    const dirty = JSON.stringify(this.value()) !== this.saved;
    this.form.classList.toggle('dirty', dirty);
    if (dirty) this.status.textContent = 'Unsaved changes';
    else if (this.status.textContent === 'Unsaved changes') this.status.textContent = '';
    this.paintVerdicts();
  }

  async save() {
    this.status.textContent = 'Saving…';
    this.formErrors.replaceChildren();
    this.saveButton.disabled = true;
    try {
      const answer = await configSet('bindings', this.value());
      this.adopt(answer ?? {});
      this.status.textContent = 'Saved';
      this.simulate();
    } catch (error) {
      // Leave the form exactly as the user left it; only add the messages.
      this.status.textContent = error.diagnostics?.length ? 'Not saved: see the messages below the fields' : 'Not saved';
      clearDiagnostics(this.form);
      if (error.diagnostics?.length) showDiagnostics(this.form, error.diagnostics, this.formErrors);
      else showError(this.formErrors, error.message);
    } finally {
      this.saveButton.disabled = false;
    }
  }

  showWarnings(warnings) {
    const mine = warnings.filter((w) => w.path === 'bindings' || w.path?.startsWith('bindings['));
    replace(this.warnings, mine.length === 0 ? null
      : h('ul', { class: 'warnings' }, mine.map((w) => h('li', { class: `diag diag-${w.severity ?? 'warning'}` },
        h('code', { text: w.path }), ' ', h('span', { text: w.message ?? '' }),
        w.hint ? h('span', { class: 'muted', text: ` — ${w.hint}` }) : null))));
    clearDiagnostics(this.form);
    showDiagnostics(this.form, mine, this.formErrors);
  }

  buildSimulator() {
    const input = (label, key, testid, extra = {}) => {
      const el = h('input', { type: 'text', 'data-testid': testid, autocomplete: 'off', spellcheck: 'false', name: key, ...extra });
      return [key, el, field(label, el)];
    };
    const inputs = [
      input('Client', 'client', 'sim-client', { list: 'client-names', placeholder: '(anonymous)' }),
      input('Channel', 'channel', 'sim-channel', { placeholder: 'e.g. whatsapp' }),
      input('Account', 'account', 'sim-account'),
      input('Peer kind', 'peerKind', 'sim-peer-kind', { list: 'peer-kinds', placeholder: 'e.g. dm' }),
      input('Peer id', 'peerId', 'sim-peer-id', { placeholder: 'e.g. +15551234567' }),
    ];
    this.simInputs = Object.fromEntries(inputs.map(([key, el]) => [key, el]));
    this.simResult = h('div', { class: 'sim-result', 'data-testid': 'sim-result', 'aria-live': 'polite' });
    this.simVerdicts = h('ol', { class: 'verdicts', 'data-testid': 'sim-verdicts', start: 0 });
    const soon = debounce(() => this.simulate(), 200);
    const form = h('form', { class: 'simulator', role: 'search', oninput: soon,
      onsubmit: (event) => { event.preventDefault(); this.simulate(); } },
    h('div', { class: 'form-row' }, inputs.map(([, , wrapped]) => wrapped)));
    return h('section', { class: 'card', 'aria-labelledby': 'sim-title' },
      h('h3', { id: 'sim-title', text: 'Route simulator' }),
      h('p', { class: 'muted', text: 'Which agent a request would reach, by the saved bindings. Leave the client empty for an anonymous request.' }),
      form, this.simResult, this.simVerdicts);
  }

  async simulate() {
    const params = Object.fromEntries(Object.entries(this.simInputs).map(([k, el]) => [k, el.value.trim()]));
    const asked = ++this.simSerial;
    try {
      const route = await get(`/admin/route${query(params)}`);
      if (asked !== this.simSerial) return;
      this.lastRoute = route;
      this.renderRoute(route);
    } catch (error) {
      if (asked !== this.simSerial) return;
      this.lastRoute = null;
      replace(this.simResult, h('p', { class: 'field-error', role: 'alert', text: error.message }));
      this.simVerdicts.replaceChildren();
      this.paintVerdicts();
    }
  }

  renderRoute(route) {
    replace(this.simResult,
      h('dl', { class: 'facts' },
        h('div', {}, h('dt', { text: 'Agent' }), h('dd', { class: 'sim-agent', 'data-testid': 'sim-agent', text: route.agent ?? '—' })),
        h('div', {}, h('dt', { text: 'Model' }), h('dd', { 'data-testid': 'sim-model', text: modelText(route.model) })),
        h('div', {}, h('dt', { text: 'Rule' }), h('dd', { 'data-testid': 'sim-rule', text: reasonText(route.reason) }))),
      route.ignoredClaims
        ? h('p', { class: 'notice notice-warn', text: `Ignored claims (${Object.keys(route.ignoredClaims).join(', ')}): this client is not trusted to assert them.` })
        : null);
    replace(this.simVerdicts, (route.bindings ?? []).map((v) => h('li', {
      class: `verdict state-${tone(outcomeKind(v))}`, 'data-testid': `sim-verdict-${v.index}`, value: v.index,
    },
    h('span', { class: 'badge', text: outcomeKind(v) }), ' ',
    h('span', { text: `bindings[${v.index}] → ${v.agent}: ${outcomeText(v)}` }))));
    this.paintVerdicts();
  }

  /** Marks each row with its verdict, when the rows are the saved ones the simulator used. */
  paintVerdicts() {
    const clean = JSON.stringify(this.value()) === this.saved;
    const verdicts = new Map((this.lastRoute?.bindings ?? []).map((v) => [v.index, v]));
    for (const badge of this.list.querySelectorAll('.binding-verdict')) {
      const index = Number(badge.closest('[data-path]').dataset.path.match(/\d+/)[0]);
      const verdict = clean ? verdicts.get(index) : null;
      badge.textContent = verdict ? outcomeKind(verdict) : '';
      badge.className = `binding-verdict${verdict ? ` badge state-${tone(outcomeKind(verdict))}` : ''}`;
      badge.title = verdict ? outcomeText(verdict) : '';
    }
  }
}

function toRow(binding) {
  const match = binding.match ?? {};
  const { client, channel, accountId, peer, ...otherMatch } = match;
  const { agent, match: _match, ...otherBinding } = binding;
  return {
    agent: agent ?? '',
    client: client ?? '', channel: channel ?? '', accountId: accountId ?? '',
    peerKind: peer?.kind ?? '', peerId: peer?.id ?? '',
    // Keys this page does not edit travel through unchanged.
    otherBinding, otherMatch, otherPeer: peer ? Object.fromEntries(Object.entries(peer).filter(([k]) => k !== 'kind' && k !== 'id')) : {},
  };
}

function fromRow(row) {
  const match = { ...row.otherMatch };
  for (const key of ['client', 'channel', 'accountId']) {
    if (row[key] !== '') match[key] = row[key];
  }
  const peer = { ...row.otherPeer };
  if (row.peerKind !== '') peer.kind = row.peerKind;
  if (row.peerId !== '') peer.id = row.peerId;
  if (Object.keys(peer).length) match.peer = peer;
  return { ...row.otherBinding, agent: row.agent, match };
}

function modelText(model) {
  if (!model) return 'none (no agent model and no primary)';
  if (typeof model === 'string') return model;
  return `${model.provider}/${model.model}`;
}

function reasonText(reason) {
  switch (reason?.kind) {
    case 'binding': return `bindings[${reason.index}] (most specific match: ${reason.rank})`;
    case 'defaultAgent': return 'no binding matched: the default agent';
    case 'anonymous': return reason.configured
      ? 'anonymous request: the configured anonymous agent'
      : 'anonymous request: the least-privileged agent';
    default: return reason ? JSON.stringify(reason) : '—';
  }
}

/** `won`, `outranked`, `mismatch`, `skipped` (or the contract's matched/decided form). */
function outcomeKind(verdict) {
  if (verdict.outcome?.kind) return verdict.outcome.kind;
  if (verdict.decided) return 'won';
  if (verdict.matched) return 'outranked';
  return 'mismatch';
}

function outcomeText(verdict) {
  const outcome = verdict.outcome;
  if (!outcome) return verdict.why ?? outcomeKind(verdict);
  switch (outcome.kind) {
    case 'won': return 'matched and decided';
    case 'outranked': return `matched, but bindings[${outcome.by}] is more specific or earlier`;
    case 'mismatch': return `${outcome.field} wants \`${outcome.wanted}\`, got ${outcome.got == null ? 'nothing' : `\`${outcome.got}\``}`;
    case 'skipped': return 'not consulted (anonymous request)';
    default: return JSON.stringify(outcome);
  }
}

customElements.define('hearth-bindings', BindingsPage);
