// The web UI as a user uses it, in Debian's Chromium driven by playwright-core, against a real
// `hearth serve` with real llama-server services (started by the Rust test
// crates/cli/tests/cli/ui.rs, which also checks the results against the CLI and the gateway).
//
// Environment: HEARTH_LOGIN_URL (a one-time login link), HEARTH_CONFIG (the config file, to check
// it is untouched by an invalid edit), HEARTH_CHROMIUM, HEARTH_PLAYWRIGHT_MODULES,
// HEARTH_SCREENSHOTS (a directory), HEARTH_RESULT (a JSON file this script writes).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run scripts/provision.sh)`);
  return value;
};
const { chromium } = await import(`${env('HEARTH_PLAYWRIGHT_MODULES')}/playwright-core/index.mjs`);
const shots = env('HEARTH_SCREENSHOTS');
mkdirSync(shots, { recursive: true });
const result = {};

const browser = await chromium.launch({
  executablePath: env('HEARTH_CHROMIUM'),
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const step = async (name, work) => {
  try {
    await work();
  } catch (error) {
    await page.screenshot({ path: `${shots}/failed-${name}.png`, fullPage: true }).catch(() => {});
    throw new Error(`${name}: ${error.message}`);
  }
};
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const errors = [];
page.on('pageerror', (error) => errors.push(String(error)));
const byTestId = (id) => page.locator(`[data-testid="${id}"]`);
const waitText = (locator, pattern, timeout = 30000) =>
  locator.filter({ hasText: pattern }).first().waitFor({ timeout });

try {
  await step('login', async () => {
    await page.goto(env('HEARTH_LOGIN_URL'));
    await page.waitForURL(/\/ui\/#\/dashboard$/);
    // The session is the tab's own, never a cookie (which every port of 127.0.0.1 would get),
    // and the spent code has left the address bar.
    const cookies = await context.cookies();
    if (cookies.length) throw new Error(`cookies were set: ${JSON.stringify(cookies)}`);
    result.session = await page.evaluate(() => sessionStorage.getItem('hearth.session'));
    if (!result.session?.startsWith('hth_')) throw new Error(`no session in sessionStorage: ${result.session}`);
    if (page.url().includes('login=')) throw new Error(`the code is still in the URL: ${page.url()}`);
  });

  await step('dashboard', async () => {
    await waitText(byTestId('backend-smol'), /running/);
    await waitText(byTestId('resident-models'), /smol\/smollm2/);
    await byTestId('memory-gauge').waitFor();
    await page.screenshot({ path: `${shots}/dashboard.png`, fullPage: true });
  });

  await step('switch-model', async () => {
    await byTestId('nav-models').click();
    await byTestId('use-gemma/gemma3-270m').click();
    await waitText(byTestId('switch-progress'), /start service gemma/);
    await waitText(byTestId('switch-result'), /done/, 240000);
    result.switchSteps = await byTestId('switch-progress').innerText();
    // A benchmark of the new active model, from the page.
    await byTestId('run-bench').click();
    await waitText(byTestId('bench-status'), /gemma\/gemma3-270m: [\d.]+ tokens\/s/, 120000);
    await waitText(byTestId('bench-history'), /gemma\/gemma3-270m/);
    result.bench = await byTestId('bench-status').innerText();
    await page.screenshot({ path: `${shots}/models.png`, fullPage: true });
  });

  await step('edit-binding', async () => {
    await byTestId('nav-bindings').click();
    const channel = page.locator('[data-path="bindings[1].match.channel"]');
    await channel.fill('telegram');
    await byTestId('save-bindings').click();
    // Saved when the server's document says so.
    await page.waitForFunction(async () => {
      const session = sessionStorage.getItem('hearth.session');
      const answer = await fetch('/admin/config', { headers: { 'X-Hearth-Session': session } });
      const body = await answer.json();
      return body.document?.bindings?.[1]?.match?.channel === 'telegram';
    }, null, { timeout: 15000 });
    await byTestId('sim-client').fill('openclaw');
    await byTestId('sim-channel').fill('telegram');
    // The answer for these inputs (not the one for the empty form the page started with).
    await waitText(byTestId('sim-rule'), /^bindings\[\d+\]/);
    result.simulated = {
      agent: await byTestId('sim-agent').innerText(),
      rule: await byTestId('sim-rule').innerText(),
    };
    await page.screenshot({ path: `${shots}/bindings.png`, fullPage: true });
  });

  await step('invalid-edit', async () => {
    const before = readFileSync(env('HEARTH_CONFIG'));
    await byTestId('nav-agents').click();
    const deny = page.locator('[data-path="agents[0].tools.deny"]');
    await deny.fill('group:nonsense');
    await byTestId('save-agent-public').click();
    const error = page.locator('.field-error[role="alert"]').filter({ hasText: /unknown tool group `group:nonsense`/ });
    await error.first().waitFor({ timeout: 15000 });
    // Next to the field it concerns: the message follows the deny list in the page.
    const placed = await page.evaluate(() => {
      const field = document.querySelector('[data-path="agents[0].tools.deny"]');
      const message = [...document.querySelectorAll('.field-error')].find((node) => node.textContent.includes('group:nonsense'));
      if (!field || !message) return false;
      const after = field.compareDocumentPosition(message) & Node.DOCUMENT_POSITION_FOLLOWING;
      return Boolean(after) && field.parentElement.contains(message);
    });
    if (!placed) throw new Error('the validation message is not next to the deny list');
    result.configUnchanged = Buffer.compare(before, readFileSync(env('HEARTH_CONFIG'))) === 0;
    await page.screenshot({ path: `${shots}/agents-invalid-edit.png`, fullPage: true });
  });

  await step('pages', async () => {
    for (const name of ['services', 'general']) {
      await byTestId(`nav-${name}`).click();
      await page.waitForTimeout(500);
      await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
    }
    await page.emulateMedia({ colorScheme: 'dark' });
    await byTestId('nav-dashboard').click();
    await page.waitForTimeout(500);
    await page.screenshot({ path: `${shots}/dashboard-dark.png`, fullPage: true });
  });

  await step('sign-out', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    await byTestId('sign-out').click();
    await waitText(byTestId('session-expired'), /Signed out/);
    result.signedOut = await page.evaluate(() => sessionStorage.getItem('hearth.session') === null);
    await page.screenshot({ path: `${shots}/signed-out.png`, fullPage: true });
  });
  result.pageErrors = errors;
} finally {
  writeFileSync(env('HEARTH_RESULT'), JSON.stringify(result, null, 2));
  await browser.close();
}
