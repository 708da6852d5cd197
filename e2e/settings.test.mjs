// Settings: the account and the masked key, a setting saved and still there after a reload,
// refusals shown on their field (ours and the server's), a webhook created (its secret shown
// once) and deleted after confirming, a webhook's deliveries and a redelivery, and
// "Forget this key" signing out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startServer, openBrowser, screenshot, signedIn, seriousA11yViolations } from './harness.mjs';

let server;
let browser;
let receiver;
const received = [];

before(async () => {
  // The deliveries test sends to a receiver on 127.0.0.1, which only a server started with
  // this lets through.
  process.env.CONVERRA_ALLOW_PRIVATE_WEBHOOKS = 'true';
  server = await startServer({ demo: true });
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      received.push({ event: req.headers['x-converra-event'], body });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  await browser?.browser.close();
  await server?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

async function api(method, path, body) {
  const response = await fetch(`${server.origin}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${server.demoKey}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function waitFor(what, check, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Console errors other than the browser's note on an expected 400 answer. */
function unexpectedErrors() {
  return browser.errors.filter((e) => !/status of 400/.test(e));
}

test('the account, the connection and the settings form', async () => {
  browser = await openBrowser();
  const { page } = browser;
  await signedIn(page, server.origin, server.demoKey, '/settings');
  await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  await page.getByRole('heading', { name: 'Acme Support (demo)' }).waitFor();
  const account = page.locator('section', { has: page.getByRole('heading', { name: 'Acme Support (demo)' }) });
  assert.match(await account.innerText(), /acct_/);
  assert.match(await account.innerText(), /Pro/);
  assert.match(await account.innerText(), /10,000 a month/);

  // The key: masked, never whole on the page.
  const masked = await page.getByTestId('masked-key').innerText();
  assert.equal(masked, `sk_live_…${server.demoKey.slice(-4)}`);
  assert.ok(!(await page.content()).includes(server.demoKey));

  // Connect your agent: the OTLP endpoint under this API, the variables with the key masked.
  assert.equal(await page.getByTestId('otlp-endpoint').innerText(), `${server.origin}/api/v1/otel`);
  assert.match(await page.getByTestId('otel-env').innerText(),
    new RegExp(`OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20sk_live_…${server.demoKey.slice(-4)}`));

  // The form holds the demo's saved settings.
  const personas = page.getByLabel('Personas');
  await personas.waitFor();
  assert.equal(await personas.inputValue(), '5');
  assert.equal(await page.getByLabel('Value of a conversation').inputValue(), '12.5');
  assert.match(await page.getByTestId('llm-key-state').innerText(), /No key is set/);
  assert.deepEqual(await seriousA11yViolations(page), []);
  await screenshot(page, 'settings');
  await page.setViewportSize({ width: 375, height: 800 });
  await page.screenshot({ path: '/tmp/settings-375.png', fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  // Saving nothing sends nothing.
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Nothing changed, so nothing was sent.').waitFor();

  // Change two settings; only they are sent, and they persist.
  await personas.fill('8');
  await page.getByLabel('Confidence needed').selectOption('strict');
  const patches = [];
  page.on('request', (request) => {
    if (request.method() === 'PATCH') patches.push(request.postDataJSON());
  });
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').waitFor();
  assert.deepEqual(patches, [{ optimization: { simulation: { personaCount: 8, confidenceMode: 'strict' } } }]);
  await page.reload();
  await page.getByLabel('Personas').waitFor();
  assert.equal(await page.getByLabel('Personas').inputValue(), '8');
  assert.equal(await page.getByLabel('Confidence needed').inputValue(), 'strict');
  assert.equal((await api('GET', '/settings')).body.data.optimization.simulation.personaCount, 8);

  // Out of range: refused before sending, on the field.
  const turns = page.getByLabel('Maximum turns');
  await turns.fill('50');
  await page.getByRole('button', { name: 'Save settings' }).click();
  const turnsError = page.locator('#optimization-simulation-maxTurns-error');
  await turnsError.waitFor();
  assert.equal(await turnsError.innerText(), 'Enter a whole number from 2 to 30.');
  assert.equal(await turns.getAttribute('aria-invalid'), 'true');
  assert.ok(await turns.evaluate((el) => el === document.activeElement), 'focus moved to the field');
  assert.equal((await api('GET', '/settings')).body.data.optimization.simulation.maxTurns, 10);
  await turns.fill('10');

  // A URL only the server can tell is broken: its VALIDATION_ERROR lands on the field.
  await page.getByLabel('Base URL').fill('https://[not-a-host');
  await page.getByRole('button', { name: 'Save settings' }).click();
  const urlError = page.locator('#llm-baseUrl-error');
  await urlError.waitFor();
  assert.equal(await urlError.innerText(), 'Is not a valid URL (invalid IPv6 address).');
  const panel = page.locator('.settings-form [role=alert]');
  assert.match(await panel.innerText(), /VALIDATION_ERROR/);
  assert.match(await panel.innerText(), /llm\.baseUrl: is not a valid URL/);
  await page.getByRole('button', { name: 'Discard changes' }).click();
  assert.equal(await page.getByLabel('Base URL').inputValue(), '');
  assert.equal(await urlError.count(), 0);

  // The model key is write-only: once set, the form says so and never shows it.
  await page.getByLabel('New API key').fill('sk-model-secret-123');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').waitFor();
  assert.match(await page.getByTestId('llm-key-state').innerText(), /A key is set/);
  assert.equal(await page.getByLabel('New API key').inputValue(), '');
  assert.ok(!(await page.content()).includes('sk-model-secret-123'));

  assert.deepEqual(unexpectedErrors(), []);
});

test('a webhook is created with its secret shown once, then deleted after confirming', async () => {
  const { page, context } = browser;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
  await page.goto(`${server.origin}/settings`);
  const rows = page.getByTestId('webhook-row');
  await rows.first().waitFor();
  const before = await rows.count();

  // Plain http is refused here, before the server says so.
  await page.getByLabel('URL', { exact: true }).fill('http://hooks.example.com/converra');
  await page.getByRole('button', { name: 'Add webhook' }).click();
  await page.locator('#webhook-url-error').waitFor();
  assert.match(await page.locator('#webhook-url-error').innerText(), /https/);
  assert.match(await page.locator('#webhook-events-error').innerText(), /at least one event/);

  await page.getByLabel('URL', { exact: true }).fill('https://hooks.example.com/converra');
  await page.getByLabel('Description (optional)').fill('Warehouse');
  await page.getByLabel('conversation.created').check();
  await page.getByLabel('optimization.completed').check();
  await page.getByRole('button', { name: 'Add webhook' }).click();

  const dialog = page.getByRole('dialog', { name: 'Webhook added: copy its secret' });
  await dialog.waitFor();
  const secret = await page.getByTestId('webhook-secret').innerText();
  assert.match(secret, /^whsec_\w+/);
  assert.match(await dialog.innerText(), /will not be shown again/);
  await dialog.getByRole('button', { name: 'Copy secret' }).click();
  await dialog.getByText('Copied to the clipboard.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  assert.deepEqual(await seriousA11yViolations(page), []);
  await screenshot(page, 'webhook-secret');
  await dialog.getByRole('button', { name: 'I have stored it' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');
  await waitFor('the new row', async () => (await rows.count()) === before + 1);
  const row = rows.filter({ hasText: 'https://hooks.example.com/converra' });
  assert.match(await row.innerText(), /conversation\.created/);
  assert.match(await row.innerText(), /active/);

  // Delete: Escape keeps it; confirming removes it.
  const remove = row.getByRole('button', { name: 'Delete the webhook to https://hooks.example.com/converra' });
  await remove.click();
  const confirm = page.getByRole('dialog', { name: 'Delete this webhook?' });
  await confirm.waitFor();
  assert.ok(await confirm.getByRole('button', { name: 'Cancel' }).evaluate((el) => el === document.activeElement));
  await page.keyboard.press('Escape');
  await confirm.waitFor({ state: 'hidden' });
  assert.ok(await remove.evaluate((el) => el === document.activeElement), 'focus is back on Delete');
  assert.equal(await rows.count(), before + 1);
  await remove.click();
  await confirm.getByRole('button', { name: 'Delete webhook' }).click();
  await confirm.waitFor({ state: 'hidden' });
  await waitFor('the row to go', async () => (await rows.count()) === before);
  const listed = (await api('GET', '/webhooks')).body.data;
  assert.ok(!listed.some((w) => w.url === 'https://hooks.example.com/converra'));

  assert.deepEqual(unexpectedErrors(), []);
});

test("a webhook's deliveries, and a redelivery", async () => {
  const { page } = browser;
  const url = `http://127.0.0.1:${receiver.address().port}/hook`;
  const created = await api('POST', '/webhooks', { url, events: ['conversation.created'], description: 'Local receiver' });
  assert.equal(created.status, 201);
  const webhookId = created.body.data.id;
  const agents = (await api('GET', '/agents?limit=1')).body.data;
  const logged = await api('POST', '/conversations', {
    agentId: agents[0].id,
    content: 'User: Where is my order?\nAssistant: It ships today.',
  });
  assert.equal(logged.status, 200);
  await waitFor('the first delivery', () => received.length >= 1);

  // From the settings list to the webhook's page.
  await page.goto(`${server.origin}/settings`);
  await page.getByRole('link', { name: `Deliveries of ${url}` }).click();
  await page.waitForURL(`**/webhooks/${webhookId}`);
  await page.getByRole('heading', { name: 'Webhook deliveries' }).waitFor();
  const deliveries = page.getByTestId('delivery');
  await waitFor('a finished delivery', async () => /succeeded/.test(await deliveries.first().innerText().catch(() => '')));
  const first = deliveries.first();
  assert.match(await first.innerText(), /conversation\.created/);
  const attempt = first.locator('table.attempts tbody tr').first();
  assert.match(await attempt.innerText(), /#1/);
  assert.match(await attempt.innerText(), /200/);
  assert.match(await attempt.innerText(), /\d+ ms|\d+(\.\d)? s/);
  assert.match(await page.locator('.webhook-summary').innerText(), /Local receiver/);
  // Nothing failed, so no line says it did.
  assert.equal(await page.locator('.delivery-health').count(), 0);

  // Redeliver: confirm, then the list shows the new delivery and the receiver gets it again.
  await first.getByRole('button', { name: 'Redeliver' }).click();
  const confirm = page.getByRole('dialog', { name: 'Redeliver this event?' });
  await confirm.waitFor();
  await confirm.getByRole('button', { name: 'Redeliver' }).click();
  await confirm.waitFor({ state: 'hidden' });
  await waitFor('the redelivery to be listed', async () => (await deliveries.count()) === 2);
  await waitFor('the redelivery to arrive', () => received.length >= 2);
  await waitFor('the redelivery to succeed', async () => /succeeded/.test(await deliveries.first().innerText()));
  assert.match(await deliveries.first().innerText(), /redelivery of dlv_/);
  assert.equal(JSON.parse(received[1].body).id, JSON.parse(received[0].body).id, 'the same event id');

  // Each delivery shows the body it sent, folded until asked for.
  const payload = deliveries.first().locator('details.delivery-payload');
  assert.equal(await payload.locator('pre').isVisible(), false);
  await payload.locator('summary').click();
  assert.deepEqual(JSON.parse(await payload.locator('pre').innerText()), JSON.parse(received[1].body));

  // A test event goes to this webhook, whatever it subscribed to, and is listed as sent.
  await page.getByRole('button', { name: 'Send a test event' }).click();
  await page.getByText(/Test event queued as dlv_/).waitFor();
  await waitFor('the test event to arrive', () => received.length >= 3);
  const test = JSON.parse(received[2].body);
  assert.equal(test.type, 'webhook.test');
  assert.equal(test.data.webhookId, webhookId);
  await waitFor('the test to be listed as succeeded', async () => {
    const text = await deliveries.first().innerText();
    return /webhook\.test/.test(text) && /succeeded/.test(text);
  });
  assert.deepEqual(await seriousA11yViolations(page), []);
  await screenshot(page, 'webhook-deliveries');
  await page.setViewportSize({ width: 375, height: 800 });
  await page.screenshot({ path: '/tmp/webhook-deliveries-375.png', fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  assert.deepEqual(unexpectedErrors(), []);
});

test('"Forget this key" asks first, then signs out', async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/settings`);
  await page.getByRole('button', { name: 'Forget this key' }).click();
  const confirm = page.getByRole('dialog', { name: 'Forget this key?' });
  await confirm.waitFor();
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await confirm.waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => localStorage.getItem('converra.apiKey')), server.demoKey);

  await page.getByRole('button', { name: 'Forget this key' }).click();
  await confirm.getByRole('button', { name: 'Forget and sign out' }).click();
  await page.getByLabel('API key').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('converra.apiKey')), null);
  await page.reload();
  await page.getByLabel('API key').waitFor();

  assert.deepEqual(unexpectedErrors(), []);
});
