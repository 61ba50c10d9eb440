// <hearth-agents>: each agent's tool policy — profile, allow and deny lists (one entry per
// line) saved with config/set `agents[i].tools`; the effective policy the server computes;
// and a "test a tool name" box that shows the decision and the rule behind it.

import { configSet, configUnset, get, query, seg } from '../api.js';
import { debounce, h, replace, tone } from './dom.js';
import { clearDiagnostics, clearOnEdit, readEntries, setEntryLines, showDiagnostics, showError } from './field-error.js';
import { field, Page } from './page.js';

const PROFILES = ['none', 'minimal', 'messaging', 'coding', 'full'];

export class AgentsPage extends Page {
  static title = 'Agents & tool policy';

  mount() {
    this.list = h('div', { class: 'stack' });
    replace(this.body,
      h('p', { class: 'muted', text: 'A profile gives the base set of tools, allow adds to it, deny always wins. Entries are tool names, group:NAME or * patterns, one per line.' }),
      this.list);
    this.load();
  }

  async load() {
    try {
      const config = await get('/admin/config');
      this.showNotice(null);
      const agents = config.document?.agents ?? [];
      replace(this.list, agents.length === 0
        ? h('p', { class: 'muted', text: 'No agents configured.' })
        : agents.map((agent, index) => this.agentSection(agent, index, config.warnings ?? [])));
    } catch (error) {
      this.showNotice(error);
    }
  }

  agentSection(agent, index, warnings) {
    const base = `agents[${index}].tools`;
    const tools = agent.tools ?? {};
    const profile = h('select', { 'data-path': `${base}.profile`, 'data-testid': `profile-${agent.id}` },
      PROFILES.map((p) => h('option', {
        value: p === 'none' ? '' : p, selected: (tools.profile ?? '') === (p === 'none' ? '' : p),
        text: p === 'none' ? 'none (allow-list only, or everything without one)' : p,
      })));
    if (tools.profile && !PROFILES.includes(tools.profile)) {
      profile.append(h('option', { value: tools.profile, selected: true, text: tools.profile }));
    }
    const allow = listArea(`${base}.allow`, tools.allow, `allow-${agent.id}`);
    const deny = listArea(`${base}.deny`, tools.deny, `deny-${agent.id}`);
    const formErrors = h('div', { class: 'form-errors' });
    const saved = h('span', { class: 'save-status', role: 'status', 'data-testid': `save-status-${agent.id}` });
    const effective = h('div', { class: 'effective', 'data-testid': `effective-${agent.id}` });
    const tool = h('input', { type: 'text', 'data-testid': `tool-test-${agent.id}`, placeholder: 'bash', autocomplete: 'off', spellcheck: 'false' });
    const decision = h('div', { class: 'decision', 'data-testid': `tool-decision-${agent.id}`, 'aria-live': 'polite' });

    const form = h('form', { class: 'agent-form', novalidate: true },
      h('div', { class: 'form-row' },
        field('Profile', profile),
        field('Allow', allow, 'Added to the profile.'),
        field('Deny', deny, 'Never allowed, whatever the rest says.')),
      formErrors,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'button button-primary', 'data-testid': `save-agent-${agent.id}`, text: 'Save' }),
        saved));
    clearOnEdit(form);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const value = {};
      if (profile.value) value.profile = profile.value;
      const allowed = readEntries(allow);
      const denied = readEntries(deny);
      if (allowed.length) value.allow = allowed;
      if (denied.length) value.deny = denied;
      saved.textContent = 'Saving…';
      formErrors.replaceChildren();
      try {
        // An empty policy is no `tools` key at all, as a hand-written file would have it.
        const answer = Object.keys(value).length ? await configSet(base, value) : await configUnset(base);
        saved.textContent = 'Saved';
        showDiagnostics(form, mine(answer?.warnings, `agents[${index}]`), formErrors);
        this.loadEffective(agent.id, effective);
        if (tool.value.trim()) this.decide(agent.id, tool.value.trim(), decision);
      } catch (error) {
        saved.textContent = '';
        clearDiagnostics(form);
        if (error.diagnostics?.length) showDiagnostics(form, error.diagnostics, formErrors);
        else showError(formErrors, error.message);
      }
    });
    showDiagnostics(form, mine(warnings, `agents[${index}]`), formErrors);

    const decideSoon = debounce(() => this.decide(agent.id, tool.value.trim(), decision), 250);
    tool.addEventListener('input', decideSoon);
    const testForm = h('form', { class: 'tool-test', role: 'search',
      onsubmit: (event) => { event.preventDefault(); this.decide(agent.id, tool.value.trim(), decision); } },
    field('Test a tool name', tool),
    h('button', { type: 'submit', class: 'button', text: 'Test' }));

    this.loadEffective(agent.id, effective);
    return h('section', { class: 'card agent', 'data-testid': `agent-${agent.id}` },
      h('h3', {}, h('span', { text: agent.id }),
        agent.name && agent.name !== agent.id ? h('span', { class: 'muted', text: ` — ${agent.name}` }) : null),
      h('p', { class: 'muted', text: `Model: ${agent.model ?? 'the primary'}${agent.workspace ? ` · workspace ${agent.workspace}` : ''}` }),
      form,
      h('div', { class: 'split' },
        h('div', {}, h('h4', { text: 'Test a tool' }), testForm, decision),
        h('div', {}, h('h4', { text: 'Effective policy' }), effective)));
  }

  async decide(agent, name, out) {
    if (!name) {
      out.replaceChildren();
      return;
    }
    const asked = name;
    out.dataset.asking = asked;
    try {
      const answer = await get(`/admin/policy/${seg(agent)}${query({ tool: name })}`);
      if (out.dataset.asking !== asked) return;
      const decision = answer.decisions?.[0];
      if (!decision) {
        replace(out, h('p', { class: 'muted', text: 'No decision returned.' }));
        return;
      }
      replace(out, h('p', { class: `decision-line state-${tone(decision.verdict)}`, 'data-verdict': decision.verdict },
        h('span', { class: 'badge', text: decision.verdict ?? '?' }), ' ',
        h('span', { 'data-testid': `tool-rule-${agent}`, text: decisionText(decision) })));
    } catch (error) {
      if (out.dataset.asking !== asked) return;
      replace(out, h('p', { class: 'field-error', role: 'alert', text: error.message }));
    }
  }

  async loadEffective(agent, out) {
    try {
      const answer = await get(`/admin/policy/${seg(agent)}`);
      replace(out, effectiveView(answer.effective ?? {}));
    } catch (error) {
      replace(out, h('p', { class: 'field-error', role: 'alert', text: error.message }));
    }
  }
}

/** A one-entry-per-line textarea for a list of strings. */
function listArea(path, values, testid) {
  const entries = Array.isArray(values) ? values.map(String) : [];
  const area = h('textarea', {
    'data-path': path, 'data-testid': testid, rows: Math.max(3, entries.length + 1),
    spellcheck: 'false', value: entries.join('\n'),
  });
  setEntryLines(area, entries.map((_, i) => i + 1));
  return area;
}

/** The diagnostics whose path lies under `prefix`. */
function mine(diagnostics, prefix) {
  return (diagnostics ?? []).filter((d) => d.path === prefix || d.path?.startsWith(`${prefix}.`));
}

/** The rule, in the CLI's words: `deny[0] \`bash\`, a name of the \`exec\` family`. */
export function ruleText(rule) {
  if (!rule) return '';
  const via = viaText(rule.via);
  switch (rule.rule) {
    case 'allow': return `allow[${rule.index}] \`${rule.entry}\`${via}`;
    case 'deny': return `deny[${rule.index}] \`${rule.entry}\`${via}`;
    case 'profile': return `profile ${rule.profile} (\`${rule.entry}\`)${via}`;
    case 'everything': return rule.profile ? `profile ${rule.profile}` : 'default (no profile and no allow-list)';
    default: return JSON.stringify(rule);
  }
}

function viaText(via) {
  switch (via?.via) {
    case 'family': return `, a name of the \`${via.family}\` family`;
    case 'group': return `, which includes the \`${via.family}\` family`;
    case 'patternFamily': return `, which matches \`${via.name}\` of the \`${via.family}\` family`;
    default: return '';
  }
}

function verdictText(v) {
  switch (v.verdict) {
    case 'allowed': return `allowed by ${ruleText(v.by)}`;
    case 'denied': return `denied by ${ruleText(v.by)}`;
    case 'notAllowed': return v.profile
      ? `not allowed: profile ${v.profile} does not include it and no allow entry covers it`
      : 'not allowed: it is not in the allow-list';
    default: return String(v.verdict ?? 'unknown');
  }
}

function decisionText(decision) {
  const family = decision.family && decision.family !== decision.tool ? ` (family \`${decision.family}\`)` : '';
  return `\`${decision.tool}\`${family} is ${verdictText(decision)}.`;
}

function effectiveView(effective) {
  const families = effective.families ?? [];
  const allowed = families.filter((f) => f.allowed);
  const other = effective.otherTools === 'allowedUnlessDenied'
    ? 'allowed unless a deny entry covers them'
    : effective.otherTools === 'onlyIfAllowed'
      ? 'not allowed unless an allow entry covers them and no deny entry does' : String(effective.otherTools ?? '—');
  return h('div', {},
    h('p', {}, h('strong', { text: 'Profile: ' }), h('span', { text: effective.profile ?? 'none' }),
      h('span', { class: 'muted', text: ` · ${allowed.length} of ${families.length} tool families allowed` })),
    h('p', {}, h('strong', { text: 'Other tools: ' }), h('span', { text: other })),
    h('details', {},
      h('summary', { text: 'Families' }),
      h('table', { class: 'table compact' },
        h('thead', {}, h('tr', {}, ['Family', 'Decision', 'Rule'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, families.map((f) => h('tr', { 'data-family': f.family },
          h('th', { scope: 'row', title: (f.names ?? []).join(', '), text: f.family }),
          h('td', {}, h('span', { class: `state state-${tone(f.verdict)}` },
            h('span', { class: 'dot', 'aria-hidden': 'true' }), h('span', { text: f.verdict === 'notAllowed' ? 'not allowed' : f.verdict }))),
          h('td', { class: 'muted', text: verdictText(f) })))))),
    h('details', {},
      h('summary', { text: 'Groups' }),
      h('ul', { class: 'list' }, (effective.groups ?? []).map((g) => h('li', {},
        h('code', { text: g.group }), ' ',
        h('span', { text: g.notAllowed?.length ? `${g.allowed.length} allowed, not: ${g.notAllowed.join(', ')}` : 'all allowed' }))))));
}

customElements.define('hearth-agents', AgentsPage);
