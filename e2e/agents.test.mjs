// The agents pages against the demo account: list → search → open an agent → edit its
// prompt → the new version → a diff chosen in the URL → reload restores it. Every page
// passes axe (serious and critical) in light and dark, and nothing logs a console error.
// CONVERRA_SCREENSHOT_VARIANTS=<dir> also writes 375 px and dark screenshots there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, openBrowser, screenshot, signedIn, seriousA11yViolations } from './harness.mjs';

let server;
let browser;

before(async () => { server = await startServer({ demo: true }); browser = await openBrowser(); });
after(async () => { await browser?.browser.close(); await server?.stop(); });

const VARIANTS = process.env.CONVERRA_SCREENSHOT_VARIANTS;

/** axe in light and dark; the screenshot `name` in light at 1280 px (and the variants). */
async function checkPage(page, name) {
  await screenshot(page, name);
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    assert.deepEqual(await seriousA11yViolations(page), [], `${name} (${scheme})`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await variants(page, name);
}

/** With CONVERRA_SCREENSHOT_VARIANTS set: `name` at 1280 and 375 px, light and dark. */
async function variants(page, name) {
  if (!VARIANTS) return;
  mkdirSync(VARIANTS, { recursive: true });
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 800 });
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: join(VARIANTS, `${name}-${width}-${scheme}.png`), fullPage: true });
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'light' });
}

const rows = (page) => page.locator('table.agents-table tbody tr');

/** Calls the API with `key`; asserts a 2xx and returns the body's `data`. */
async function apiAs(key, method, path, body) {
  const response = await fetch(`${server.origin}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status}`);
  return (await response.json()).data;
}
const versionRows = (page) => page.locator('table.versions-table tbody tr');

test('list, search, edit a prompt and diff two versions', async () => {
  const { page } = browser;
  await signedIn(page, server.origin, server.demoKey, '/agents');

  // The list: six demo agents, with readable numbers and dates.
  await page.getByRole('link', { name: 'Acme Support' }).waitFor();
  assert.equal(await rows(page).count(), 6);
  const acmeRow = rows(page).filter({ hasText: 'Acme Support' });
  assert.match(await acmeRow.innerText(), /v3/);
  assert.match(await acmeRow.innerText(), /\d+\.\d|—/);
  assert.doesNotMatch(await page.locator('table.agents-table').innerText(), /\d{4}-\d\d-\d\dT/);
  await checkPage(page, 'agents');

  // Search: debounced into the URL; reload and back restore it.
  await page.getByLabel('Search').fill('acme');
  await page.waitForURL(/\?q=acme$/);
  await page.waitForFunction(() => document.querySelectorAll('table.agents-table tbody tr').length === 1);
  await page.reload();
  await page.getByRole('link', { name: 'Acme Support' }).waitFor();
  assert.equal(await page.getByLabel('Search').inputValue(), 'acme');
  assert.equal(await rows(page).count(), 1);
  await page.goBack();
  await page.waitForURL(/\/agents$/);
  await page.waitForFunction(() => document.querySelectorAll('table.agents-table tbody tr').length === 6);
  assert.equal(await page.getByLabel('Search').inputValue(), '');

  // The status filter lives in the URL too.
  await page.getByLabel('Status').selectOption('draft');
  await page.waitForURL(/\?status=draft$/);
  await page.waitForFunction(() => document.querySelectorAll('table.agents-table tbody tr').length === 1);
  await page.getByLabel('Search').fill('no agent is called this');
  await page.waitForURL(/q=no%20agent/);
  await page.getByRole('heading', { name: 'No agents match' }).waitFor();
  await page.getByRole('link', { name: 'Clear filters' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.agents-table tbody tr').length === 6);

  // Open an agent: prompt, settings, three versions.
  await page.getByRole('link', { name: 'Acme Support' }).click();
  await page.getByRole('heading', { name: 'Acme Support', level: 1 }).waitFor();
  const agentPath = new URL(page.url()).pathname;
  assert.match(agentPath, /^\/agents\/[^/]+$/);
  await versionRows(page).first().waitFor();
  assert.equal(await versionRows(page).count(), 3);
  assert.match(await page.locator('pre.prompt').innerText(), /Acme Outfitters/);
  const agentId = agentPath.split('/').pop();
  assert.equal(
    await page.getByRole('link', { name: 'Conversations', exact: true }).last().getAttribute('href'),
    `/conversations?agentId=${agentId}`,
  );
  // The latest change is shown by default: v2 → v3 added the tool-failure paragraph.
  assert.match(await page.locator('.word-diff ins').first().innerText(), /at most three sentences/);
  await checkPage(page, 'agent');

  // The edit form checks before sending.
  await page.getByRole('button', { name: 'Edit agent' }).click();
  await page.locator('#edit-agent-name').fill('   ');
  await page.getByRole('button', { name: 'Save' }).click();
  assert.equal(await page.locator('#edit-agent-name-error').innerText(), 'Enter a name.');
  assert.equal(await page.locator('#edit-agent-name').getAttribute('aria-invalid'), 'true');
  await page.locator('#edit-agent-name').fill('Acme Support');

  // Edit the prompt: a new version appears, and the default diff shows the change.
  const prompt = page.locator('#edit-agent-content');
  await prompt.fill(`${await prompt.inputValue()}\n\nAlways greet the customer by name.`);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved. Acme Support is at version 4.').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('table.versions-table tbody tr').length === 4);
  assert.match(await page.locator('pre.prompt').innerText(), /Always greet the customer by name\.$/);
  await page.locator('.word-diff ins', { hasText: 'Always greet the customer by name.' }).waitFor();
  assert.match(await page.locator('.diff-summary').innerText(), /^6 words added, 0 removed$/);

  // Choosing versions puts them in the URL.
  await page.getByLabel('From', { exact: true }).selectOption('1');
  await page.waitForURL(/diffBase=1&diffTarget=4/);
  await page.getByLabel('Show differences only').check();
  await page.waitForURL(/diffOnly=1/);
  await page.locator('.diff-skip').first().waitFor();

  // A deep link opens the same diff, and a reload keeps it.
  await page.goto(`${server.origin}${agentPath}?diffBase=2&diffTarget=4&diffOnly=1`);
  await page.locator('.word-diff').waitFor();
  assert.equal(await page.getByLabel('From', { exact: true }).inputValue(), '2');
  assert.equal(await page.getByLabel('To', { exact: true }).inputValue(), '4');
  assert.ok(await page.getByLabel('Show differences only').isChecked());
  assert.ok(await page.locator('.diff-skip').count() > 0);
  await checkPage(page, 'agent-diff');
  await page.reload();
  await page.locator('.word-diff').waitFor();
  assert.equal(await page.getByLabel('From', { exact: true }).inputValue(), '2');
  assert.equal(await page.getByLabel('To', { exact: true }).inputValue(), '4');
  assert.ok(await page.getByLabel('Show differences only').isChecked());
  const summary = await page.locator('.diff-summary').innerText();
  assert.match(summary, /^\d+ words? added, \d+ removed$/);

  assert.deepEqual(browser.errors, []);
});

test('a new agent: checked in the browser, then created and opened', async () => {
  const { page } = browser;
  await signedIn(page, server.origin, server.demoKey, '/agents');
  await page.getByRole('button', { name: 'New agent' }).click();
  await page.getByRole('button', { name: 'Create agent' }).click();
  assert.equal(await page.locator('#new-agent-name-error').innerText(), 'Enter a name.');
  assert.equal(await page.locator('#new-agent-content-error').innerText(), 'Enter the system prompt.');
  assert.deepEqual(await seriousA11yViolations(page), []);
  await variants(page, 'agents-new');

  await page.locator('#new-agent-name').fill('Returns Desk');
  await page.locator('#new-agent-content').fill('You handle returns. <b>Never</b> promise a refund.');
  await page.locator('#new-agent-status').selectOption('draft');

  // A VALIDATION_ERROR from the server lands under its field, and in the error panel.
  const refuse = async (route) => {
    if (route.request().method() !== 'POST') return route.fallback();
    await route.fulfill({
      status: 400,
      contentType: 'application/json',
      body: JSON.stringify({ error: {
        code: 'VALIDATION_ERROR',
        message: 'name: must be at most 200 characters',
        details: { fields: [{ field: 'name', message: 'must be at most 200 characters' }] },
      } }),
    });
  };
  await page.route('**/api/v1/agents', refuse);
  await page.getByRole('button', { name: 'Create agent' }).click();
  await page.locator('#new-agent-name-error').waitFor();
  assert.equal(
    await page.locator('#new-agent-name-error').innerText(),
    'The server says: Must be at most 200 characters.',
  );
  assert.match(await page.getByRole('alert').innerText(), /VALIDATION_ERROR/);
  await page.unroute('**/api/v1/agents', refuse);
  // The refused request is the one console error this test expects.
  assert.ok(browser.errors.every((e) => e.includes('400')), browser.errors.join('\n'));
  browser.errors.length = 0;

  await page.getByRole('button', { name: 'Create agent' }).click();
  await page.getByRole('heading', { name: 'Returns Desk', level: 1 }).waitFor();
  // The prompt is text, never markup.
  assert.equal(await page.locator('pre.prompt b').count(), 0);
  assert.match(await page.locator('pre.prompt').innerText(), /<b>Never<\/b>/);
  assert.match(await page.locator('.settings-list').innerText(), /gpt-4o-mini/);
  await page.getByText('There is one version so far.', { exact: false }).waitFor();
  assert.deepEqual(browser.errors, []);
});

test('an account without agents says what to do next', async () => {
  const { page } = browser;
  const key = server.createKey('Empty Co');
  await signedIn(page, server.origin, key, '/');
  await page.getByRole('heading', { name: 'No agents yet' }).waitFor();
  assert.match(
    await page.locator('.empty-state').innerText(),
    /Create your first agent, or log a conversation with agentName — it creates the agent\./,
  );
  // How to send the first conversation, filled in with this server's address; the key masked.
  const section = page.getByRole('region', { name: 'Send your first conversation' });
  await section.waitFor();
  const sdk = await section.getByTestId('snippet-python-sdk').innerText();
  assert.ok(sdk.includes(`base_url="${server.origin}/api/v1"`), sdk);
  assert.ok(!(await section.innerText()).includes(key), 'the whole key is never on screen');
  for (const width of [1366, 390]) {
    await page.setViewportSize({ width, height: width > 500 ? 900 : 844 });
    assert.ok(await section.getByTestId('snippet-curl').isVisible());
    await screenshot(page, `agents-first-conversation-${width}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(await seriousA11yViolations(page), []);

  // The curl snippet, with the whole key, logs a conversation, and its agent then lists.
  const curl = await section.getByTestId('snippet-curl').innerText();
  const url = curl.match(/curl -X POST (\S+)/)[1];
  const body = curl.split("-d '")[1].replace(/'\s*$/, '');
  const sent = await fetch(url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body,
  });
  assert.equal(sent.status, 200, await sent.text());
  await page.reload();
  await rows(page).filter({ hasText: 'Support Bot' }).first().waitFor();
  assert.deepEqual(browser.errors, []);
});

test('an unknown agent shows the API error with a retry', async () => {
  const { page } = browser;
  await signedIn(page, server.origin, server.demoKey, '/agents/agt_does_not_exist');
  const alert = page.getByRole('alert').first();
  await alert.waitFor();
  assert.match(await alert.innerText(), /NOT_FOUND/);
  await page.getByRole('button', { name: 'Retry' }).first().waitFor();
  // The 404s are expected console errors of this test.
  browser.errors.length = 0;
});

test('"Last activity" is the newest conversation, not the last edit, at 1366 and 390 px', async () => {
  const { page } = browser;
  const key = server.createKey('Activity Co');
  const call = (method, path, body) => apiAs(key, method, path, body);
  const quiet = await call('POST', '/agents', { name: 'Quiet Bot', content: 'You are quiet.' });
  const busy = await call('POST', '/agents', { name: 'Busy Bot', content: 'You are busy.' });
  await call('POST', '/conversations', { agentId: busy.id, messages: [{ role: 'user', content: 'Hello' }] });
  // An edit is not activity.
  await call('PATCH', `/agents/${quiet.id}`, { content: 'You are very quiet.' });

  for (const width of [1366, 390]) {
    await page.setViewportSize({ width, height: width > 500 ? 900 : 844 });
    await signedIn(page, server.origin, key, '/agents');
    const cell = (name) => rows(page).filter({ hasText: name }).locator('td[data-label="Last activity"]');
    await cell('Busy Bot').waitFor();
    assert.equal((await cell('Quiet Bot').innerText()).trim(), 'No conversations yet');
    assert.match(await cell('Busy Bot').innerText(), /just now|s ago|min ago/);
    assert.ok(await cell('Busy Bot').isVisible(), `the cell shows at ${width} px`);
    assert.ok(await cell('Quiet Bot').isVisible(), `the cell shows at ${width} px`);
    await screenshot(page, `agents-activity-${width}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(browser.errors, []);
});

test('a refused save keeps everything typed (network error, 429, 409), at 1366 and 390 px', async () => {
  const { page } = browser;
  const key = server.createKey('Careful Co');
  const call = (method, path, body) => apiAs(key, method, path, body);
  await call('POST', '/agents', { name: 'Taken Name', content: 'You are another agent.' });

  for (const width of [1366, 390]) {
    await page.setViewportSize({ width, height: width > 500 ? 900 : 844 });
    const agent = await call('POST', '/agents', { name: `Editable ${width}`, content: 'You answer questions.' });
    await signedIn(page, server.origin, key, `/agents/${agent.id}`);
    await page.getByRole('button', { name: 'Edit agent' }).click();
    // The prompt shows once while editing: in the form.
    assert.equal(await page.locator('pre.prompt').count(), 0);
    const typed = {
      '#edit-agent-name': 'Taken Name',
      '#edit-agent-description': 'Answers billing questions',
      '#edit-agent-tags': 'billing, support',
      '#edit-agent-temperature': '0.4',
      '#edit-agent-maxTokens': '800',
      '#edit-agent-objective': 'Resolve refunds on the first contact.',
      '#edit-agent-content': 'You answer billing questions, briefly.',
    };
    for (const [selector, value] of Object.entries(typed)) await page.locator(selector).fill(value);
    const stillTyped = async (what) => {
      for (const [selector, value] of Object.entries(typed)) {
        assert.equal(await page.locator(selector).inputValue(), value, `${selector} after ${what} at ${width} px`);
      }
    };

    // The network fails.
    await page.route('**/api/v1/agents/*', (route) => (route.request().method() === 'PATCH' ? route.abort() : route.fallback()));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('form.edit-agent [role=alert]').first().waitFor();
    await stillTyped('a network error');
    await page.unroute('**/api/v1/agents/*');

    // Too many requests, for longer than the client waits out.
    await page.route('**/api/v1/agents/*', (route) => (route.request().method() === 'PATCH'
      ? route.fulfill({
        status: 429,
        headers: { 'Content-Type': 'application/json', 'Retry-After': '3600' },
        body: JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'Too many requests.' } }),
      })
      : route.fallback()));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('form.edit-agent [role=alert]', { hasText: 'RATE_LIMITED' }).first().waitFor();
    await stillTyped('a 429');
    await page.unroute('**/api/v1/agents/*');

    // The server refuses: the name is taken (a real 409).
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('form.edit-agent', { hasText: /CONFLICT|already/ }).waitFor();
    await stillTyped('a 409');
    await screenshot(page, `agent-edit-refused-${width}`);

    // Fix the name: the save goes through with every field. A slow reload of the agent must
    // not leave the settings showing version 1 beside the notice of version 2.
    await page.route('**/api/v1/agents/*', async (route) => {
      if (route.request().method() === 'GET') await new Promise((done) => setTimeout(done, 1500));
      await route.fallback();
    });
    await page.locator('#edit-agent-name').fill(`Billing ${width}`);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(`Saved. Billing ${width} is at version 2.`).waitFor();
    await page.unroute('**/api/v1/agents/*');
    assert.match(await page.locator('.settings-list').innerText(), /Version\s+2/);
    const settings = await page.locator('.settings-list').innerText();
    for (const expected of [/Temperature\s+0\.4/, /Max tokens\s+800/, /Tags\s+billing, support/, /Objective\s+Resolve refunds/]) {
      assert.match(settings, expected);
    }
    assert.match(await page.locator('pre.prompt').innerText(), /briefly/);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  // The refusals above are expected console errors of this test.
  assert.ok(browser.errors.every((e) => /409|429|Failed to load resource|ERR_FAILED/.test(e)), browser.errors.join('\n'));
  browser.errors.length = 0;
});

test('each page titles the tab after itself', async () => {
  const { page } = browser;
  await signedIn(page, server.origin, server.demoKey, '/agents');
  const titled = (title) => page.waitForFunction((t) => document.title === t, title);
  await titled('Agents · Converra');
  await page.getByRole('link', { name: 'Acme Support' }).click();
  await titled('Acme Support · Converra');
  await page.getByRole('link', { name: 'Insights', exact: true }).first().click();
  await titled('Insights · Acme Support · Converra');
  for (const [path, title] of [
    ['/conversations', 'Conversations · Converra'],
    ['/optimizations/new', 'New optimization · Converra'],
    ['/fleet', 'Fleet · Converra'],
    ['/usage', 'Usage · Converra'],
    ['/settings', 'Settings · Converra'],
  ]) {
    await page.goto(`${server.origin}${path}`);
    await titled(title);
  }
  // Back restores the previous page's title with it.
  await page.goBack();
  await titled('Usage · Converra');
  assert.deepEqual(browser.errors, []);
});
