// The app: sign-in from a login link, hash routing (#/dashboard, #/models, ...) that mounts one
// page element in <main>, the nav's current-page marker, the live-connection indicator, the
// session banner and sign-out.

import { onLiveChange, signInFromLink, signOut, subscribe, UNAUTHORIZED } from './api.js';
import './components/page-dashboard.js';
import './components/page-models.js';
import './components/page-agents.js';
import './components/page-bindings.js';
import './components/page-services.js';
import './components/page-general.js';

const PAGES = {
  dashboard: 'hearth-dashboard',
  models: 'hearth-models',
  agents: 'hearth-agents',
  bindings: 'hearth-bindings',
  services: 'hearth-services',
  general: 'hearth-general',
};

const main = document.getElementById('main');
let current = null;

function pageFromHash() {
  const name = location.hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return name in PAGES ? name : null;
}

function route({ focus }) {
  const name = pageFromHash();
  if (!name) {
    history.replaceState(null, '', '#/dashboard');
    route({ focus });
    return;
  }
  if (name === current) return;
  current = name;
  for (const link of document.querySelectorAll('.nav a')) {
    if (link.getAttribute('href') === `#/${name}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const page = document.createElement(PAGES[name]);
  page.dataset.testid = `page-${name}`;
  main.replaceChildren(page);
  document.title = `${page.constructor.title || name} · Hearth`;
  // Keyboard and screen-reader users land on the new page's heading.
  if (focus) page.querySelector('.page-title')?.focus();
}

window.addEventListener('hashchange', () => route({ focus: true }));

const banner = document.getElementById('session');
function showBanner(text) {
  if (text) banner.querySelector('.session-text').textContent = text;
  banner.hidden = false;
}
window.addEventListener(UNAUTHORIZED, () => showBanner());

const signOutButton = document.querySelector('[data-testid="sign-out"]');
signOutButton.addEventListener('click', async () => {
  signOutButton.hidden = true;
  await signOut();
  stopEvents();
  main.replaceChildren();
  showBanner('Signed out. ');
});

try {
  if (!await signInFromLink()) showBanner('Not signed in. ');
} catch (error) {
  showBanner(`${error.message} `);
}

// The header's dot: the event stream's state. Keeping one subscription open also means the
// stream stays connected across page changes.
const live = document.querySelector('.live');
const WORDS = { open: 'live', reconnecting: 'reconnecting…', closed: 'offline' };
onLiveChange((state) => {
  live.dataset.state = state;
  live.querySelector('.live-text').textContent = WORDS[state] ?? state;
});
const stopEvents = subscribe((event) => {
  if (event.type === 'switch') {
    live.dataset.switching = String(event.state === 'running');
    live.querySelector('.live-text').textContent = event.state === 'running'
      ? `switching to ${event.model ?? ''}…` : WORDS[live.dataset.state] ?? 'live';
  }
});

route({ focus: false });
