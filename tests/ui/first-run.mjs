// A first run in the web UI, in Debian's Chromium driven by playwright-core, against a real
// `hearth serve` whose configuration has no model yet, on a machine (a HOME and a PATH) that
// has llama-server installed and SmolLM2 in its Hugging Face cache. Started by the Rust test
// crates/cli/tests/cli/ui_first_run.rs, which also checks the gateway answers afterwards.
//
// The dashboard says what to do next and shows what was found; "Use these" adds it; the Models
// page shows the new provider reachable once its service has started; a provider with a bad
// base URL is refused next to that field with the file untouched; one where nothing listens is
// listed as not reachable, with the error; removing it takes it out of the file.
//
// Environment: HEARTH_LOGIN_URL (a one-time login link), HEARTH_CONFIG (the config file),
// HEARTH_FREE_PORT (a port nothing listens on), HEARTH_CHROMIUM, HEARTH_PLAYWRIGHT_MODULES,
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
const configText = () => readFileSync(env('HEARTH_CONFIG'), 'utf8');

const browser = await chromium.launch({
  executablePath: env('HEARTH_CHROMIUM'),
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const errors = [];
page.on('pageerror', (error) => errors.push(String(error)));
// "Remove provider …?" is a confirm(): the user says yes.
page.on('dialog', (dialog) => dialog.accept());
const step = async (name, work) => {
  try {
    await work();
  } catch (error) {
    await page.screenshot({ path: `${shots}/first-run-failed-${name}.png`, fullPage: true }).catch(() => {});
    throw new Error(`${name}: ${error.message}`);
  }
};
const byTestId = (id) => page.locator(`[data-testid="${id}"]`);
const waitText = (locator, pattern, timeout = 30000) =>
  locator.filter({ hasText: pattern }).first().waitFor({ timeout });
/** A full-page screenshot in light and in dark. */
const screenshots = async (name) => {
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(200);
  await page.screenshot({ path: `${shots}/${name}-dark.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
};
/** Whether the validation message matching `pattern` follows the control `selector`, in its field. */
const nextTo = (selector, pattern) => page.evaluate(([selector, source]) => {
  const control = document.querySelector(selector);
  const message = [...document.querySelectorAll('.field-error')].find((node) => new RegExp(source).test(node.textContent));
  if (!control || !message) return false;
  const after = control.compareDocumentPosition(message) & Node.DOCUMENT_POSITION_FOLLOWING;
  return Boolean(after) && control.parentElement.contains(message)
    && control.getAttribute('aria-invalid') === 'true';
}, [selector, pattern.source]);

try {
  await step('login', async () => {
    await page.goto(env('HEARTH_LOGIN_URL'));
    await page.waitForURL(/\/ui\/#\/dashboard/);
  });

  await step('dashboard', async () => {
    await waitText(byTestId('next-step'), /No model yet: use what was found below/);
    result.nextStep = await byTestId('next-step').innerText();
    const service = page.locator('[data-testid^="setup-service-llama-"]').first();
    await service.waitFor();
    result.proposedService = (await service.getAttribute('data-testid')).replace('setup-service-', '');
    result.proposedSize = await byTestId(`setup-service-size-${result.proposedService}`).innerText();
    result.proposedPrimary = await byTestId('setup-primary').innerText();
    await page.waitForTimeout(300);
    await screenshots('first-run');
  });

  await step('use-these', async () => {
    await byTestId('setup-apply').click();
    await waitText(byTestId('setup-added'), /service llama-/);
    result.added = (await byTestId('setup-added').innerText()).split('\n').filter(Boolean);
    // The panel stays, now saying nothing new is left to add; the next step is no longer "no model".
    await byTestId('setup-nothing').waitFor({ timeout: 30000 });
    await page.waitForFunction(() => !/No model yet/.test(document.querySelector('[data-testid="next-step"]')?.textContent ?? ''));
    await page.screenshot({ path: `${shots}/first-run-applied.png`, fullPage: true });
  });

  await step('provider-reachable', async () => {
    await byTestId('nav-models').click();
    const id = result.proposedService;
    result.provider = id;
    const card = byTestId(`provider-card-${id}`);
    await card.waitFor();
    // The service loads the model in the background; the page asks again on each service event.
    const deadline = Date.now() + 240000;
    while ((await card.getAttribute('data-reachable')) !== 'true') {
      if (Date.now() > deadline) throw new Error(`provider ${id} never became reachable: ${await card.innerText()}`);
      await page.waitForTimeout(2000);
      if ((await card.getAttribute('data-reachable')) !== 'true') await byTestId('refresh-providers').click();
    }
    await waitText(byTestId(`reach-${id}`), /^reachable$/);
    // The server may answer a moment before Hearth's health check calls its service running.
    await waitText(byTestId(`provider-service-${id}`), /\(running\)$/, 60000);
    result.providerService = await byTestId(`provider-service-${id}`).innerText();
    await waitText(byTestId('model-list'), new RegExp(`${id}/`));
  });

  await step('invalid-provider', async () => {
    const before = configText();
    await byTestId('provider-new-id').fill('remote');
    await byTestId('provider-new-baseUrl').fill('not a url');
    await byTestId('provider-add-submit').click();
    await waitText(page.locator('.field-error[role="alert"]'), /`not a url` is not a URL/, 15000);
    result.invalidPlaced = await nextTo('[data-testid="provider-new-baseUrl"]', /`not a url` is not a URL/);
    result.invalidMessage = await page.locator('.field-error').filter({ hasText: /is not a URL/ }).first().innerText();
    result.invalidUnchanged = before === configText();
    await page.screenshot({ path: `${shots}/models-invalid-provider.png`, fullPage: true });
  });

  await step('unreachable-provider', async () => {
    const url = `http://127.0.0.1:${env('HEARTH_FREE_PORT')}/v1`;
    await byTestId('provider-new-baseUrl').fill(url);
    await byTestId('provider-add-submit').click();
    const card = page.locator('[data-testid="provider-card-remote"][data-reachable="false"]');
    await card.waitFor({ timeout: 30000 });
    await waitText(byTestId('reach-remote'), /not reachable/);
    result.unreachableError = await byTestId('provider-error-remote').innerText();
    result.unreachableUrl = await byTestId('provider-url-remote').innerText();
    result.unreachableSaved = JSON.parse(configText()).providers?.remote ?? null;
    await page.waitForTimeout(300);
    await screenshots('models-providers');
  });

  await step('remove-provider', async () => {
    await byTestId('provider-remove-remote').click();
    await byTestId('provider-card-remote').waitFor({ state: 'detached', timeout: 30000 });
    result.removed = !('remote' in (JSON.parse(configText()).providers ?? {}));
  });
  result.pageErrors = errors;
} finally {
  writeFileSync(env('HEARTH_RESULT'), JSON.stringify(result, null, 2));
  await browser.close();
}
