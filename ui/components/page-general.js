// <hearth-general>: the gateway's address and port (the port editable through config/set,
// effective after a restart), the admin and client tokens (reveal, copy, rotate), and the
// launch-at-login setting (`app.launchAtLogin`, which the app applies).

import { configSet, get, post, seg } from '../api.js';
import { h, replace, section } from './dom.js';
import { clearDiagnostics, clearOnEdit, showDiagnostics, showError } from './field-error.js';
import { field, Page } from './page.js';

export class GeneralPage extends Page {
  static title = 'General';

  mount() {
    this.gateway = h('div', {});
    this.tokens = h('div', { 'data-testid': 'token-list' });
    this.app = h('div', {});
    replace(this.body,
      section('Gateway', {}, this.gateway),
      section('Tokens', {}, this.tokens),
      section('App', {}, this.app));
    this.load();
  }

  async load() {
    const [status, config, tokens] = await Promise.allSettled([
      get('/admin/status'), get('/admin/config'), get('/admin/tokens'),
    ]);
    const failed = [status, config, tokens].find((r) => r.status === 'rejected');
    this.showNotice(failed ? failed.reason : null);
    const document = config.status === 'fulfilled' ? config.value.document ?? {} : null;
    this.renderGateway(status.status === 'fulfilled' ? status.value : {}, document);
    if (tokens.status === 'fulfilled') this.renderTokens(tokens.value.tokens ?? []);
    if (document) this.renderApp(document);
  }

  renderGateway(status, document) {
    const gateway = document?.gateway ?? {};
    const port = h('input', {
      type: 'number', min: 1, max: 65535, step: 1, inputmode: 'numeric',
      'data-path': 'gateway.port', 'data-testid': 'gateway-port',
      value: gateway.port ?? portOf(status.listen) ?? '',
      disabled: !document,
    });
    const errors = h('div', { class: 'form-errors' });
    const saved = h('span', { class: 'save-status', role: 'status', 'data-testid': 'save-port-status' });
    const form = h('form', { class: 'inline-form', novalidate: true },
      field('Port', port, 'Saved to hearth.json; the gateway keeps listening on the current port until it restarts.'),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'save-port', text: 'Save port', disabled: !document }),
        saved),
      errors);
    clearOnEdit(form);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = port.value.trim();
      // Send what was typed: the server validates and says what is wrong, at `gateway.port`.
      const value = /^-?\d+$/.test(text) ? Number(text) : text;
      saved.textContent = 'Saving…';
      errors.replaceChildren();
      try {
        await configSet('gateway.port', value);
        clearDiagnostics(form);
        saved.textContent = `Saved: restart Hearth to listen on ${value}.`;
      } catch (error) {
        saved.textContent = '';
        clearDiagnostics(form);
        if (error.diagnostics?.length) showDiagnostics(form, error.diagnostics, errors);
        else showError(errors, error.message);
      }
    });
    replace(this.gateway,
      h('dl', { class: 'facts' },
        fact('Listening on', status.listen ?? '—', 'listen-address'),
        fact('Bind address', gateway.bind ?? 'default (loopback)'),
        fact('Remote access', gateway.allowRemote ? 'allowed' : 'loopback only'),
        fact('Configuration file', status.configFile ?? '—')),
      form);
  }

  renderTokens(tokens) {
    if (tokens.length === 0) {
      replace(this.tokens, h('p', { class: 'muted', text: 'No tokens.' }));
      return;
    }
    replace(this.tokens, h('ul', { class: 'tokens' }, tokens.map((t) => this.tokenRow(t))));
  }

  tokenRow(token) {
    const name = token.name;
    const value = h('input', {
      type: 'text', readOnly: true, class: 'token-value', 'data-testid': `token-${name}`,
      'aria-label': `Token ${name}`, hidden: true, spellcheck: 'false', autocomplete: 'off',
    });
    const status = h('span', { class: 'save-status', role: 'status' });
    const copy = h('button', {
      type: 'button', class: 'button button-small', text: 'Copy', hidden: true,
      'data-testid': `copy-${name}`, 'aria-label': `Copy token ${name}`,
      onclick: () => copyText(value, status),
    });
    const show = (token) => {
      value.value = token;
      value.hidden = false;
      copy.hidden = false;
      reveal.textContent = 'Hide';
      reveal.setAttribute('aria-expanded', 'true');
    };
    const hide = () => {
      value.value = '';
      value.hidden = true;
      copy.hidden = true;
      reveal.textContent = 'Reveal';
      reveal.setAttribute('aria-expanded', 'false');
    };
    const reveal = h('button', {
      type: 'button', class: 'button button-small', text: 'Reveal', 'data-testid': `reveal-${name}`,
      'aria-label': `Reveal token ${name}`, 'aria-expanded': 'false',
      onclick: async () => {
        if (!value.hidden) {
          hide();
          return;
        }
        status.textContent = '';
        try {
          const answer = await post(`/admin/tokens/${seg(name)}/reveal`, {});
          show(answer?.token ?? '');
          value.focus();
          value.select();
        } catch (error) {
          showError(status, error.message);
        }
      },
    });
    const rotate = h('button', {
      type: 'button', class: 'button button-small button-danger', text: 'Rotate', 'data-testid': `rotate-${name}`,
      'aria-label': `Rotate token ${name}`,
      onclick: async () => {
        const who = name === 'admin' ? 'the CLI, the app and this page' : `the client \`${name}\``;
        if (!window.confirm(`Rotate the ${name} token? ${who} will need the new one.`)) return;
        status.textContent = '';
        try {
          const answer = await post(`/admin/tokens/${seg(name)}/rotate`, {});
          show(answer?.token ?? '');
          status.textContent = 'Rotated: this is the new token.';
        } catch (error) {
          showError(status, error.message);
        }
      },
    });
    return h('li', { class: 'token', 'data-testid': `token-row-${name}` },
      h('div', {}, h('strong', { text: name }), ' ', h('code', { class: 'muted', text: token.reference ?? '' })),
      h('div', { class: 'button-row' }, reveal, rotate, value, copy, status));
  }

  renderApp(document) {
    const checkbox = h('input', {
      type: 'checkbox', id: 'launch-at-login', 'data-path': 'app.launchAtLogin', 'data-testid': 'launch-at-login',
      'aria-describedby': 'launch-at-login-note',
      checked: Boolean(document.app?.launchAtLogin),
    });
    const errors = h('div', { class: 'form-errors' });
    const status = h('span', { class: 'save-status', role: 'status' });
    const wrap = h('div', { class: 'field' },
      h('div', { class: 'checkbox' }, checkbox, h('label', { for: 'launch-at-login', text: ' Launch Hearth at login' })),
      h('p', { class: 'field-hint muted', id: 'launch-at-login-note', 'data-testid': 'launch-at-login-note', text: 'Applied by the Hearth menu-bar app; `hearth serve` alone does not start at login.' }),
      status, errors);
    clearOnEdit(wrap);
    checkbox.addEventListener('change', async () => {
      const wanted = checkbox.checked;
      status.textContent = 'Saving…';
      errors.replaceChildren();
      try {
        await configSet('app.launchAtLogin', wanted);
        clearDiagnostics(wrap);
        status.textContent = 'Saved';
      } catch (error) {
        checkbox.checked = !wanted; // the file still says the old value
        status.textContent = '';
        if (error.diagnostics?.length) showDiagnostics(wrap, error.diagnostics, errors);
        else showError(errors, error.message);
      }
    });
    replace(this.app, wrap);
  }
}

function fact(term, value, testid) {
  return h('div', {}, h('dt', { text: term }), h('dd', { 'data-testid': testid, text: value }));
}

function portOf(listen) {
  const match = /:(\d+)$/.exec(listen ?? '');
  return match ? match[1] : null;
}

async function copyText(input, status) {
  try {
    await navigator.clipboard.writeText(input.value);
    status.textContent = 'Copied';
  } catch {
    input.select();
    status.textContent = 'Selected: press ⌘C / Ctrl+C to copy';
  }
}

customElements.define('hearth-general', GeneralPage);
