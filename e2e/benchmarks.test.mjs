// Benchmarks against the demo account: the list shows the demo benchmark; the form checks
// its fields, then queues one that runs to completion with its results as a chart and a
// table; two made through the API are ticked and deleted through the confirmation dialog;
// a cancel refused for a finished benchmark is reported per item. Every page passes axe
// (serious and critical) and nothing logs a console error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, openBrowser, screenshot, signedIn, seriousA11yViolations } from './harness.mjs';

let server;
let browser;

before(async () => { server = await startServer({ demo: true }); browser = await openBrowser(); });
after(async () => { await browser?.browser.close(); await server?.stop(); });

async function api(path, init = {}) {
  const response = await fetch(`${server.origin}/api/v1${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${server.demoKey}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) },
  });
  return { status: response.status, body: await response.json() };
}

async function accessible(page, name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    assert.deepEqual(await seriousA11yViolations(page), [], `${name} (${scheme})`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

const rows = (page) => page.locator('[data-testid=benchmarks-table] tbody tr');

test('the list shows the demo benchmark', async () => {
  const { page } = browser;
  const demo = (await api('/benchmarks')).body.data;
  assert.ok(demo.length >= 1);

  await signedIn(page, server.origin, server.demoKey, '/agents');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Benchmarks' }).click();
  await page.waitForURL(/\/benchmarks$/);
  await page.getByRole('heading', { name: 'Benchmarks', level: 1 }).waitFor();
  await rows(page).first().waitFor();
  assert.equal(await rows(page).count(), demo.length);
  const row = rows(page).filter({ hasText: demo[0].name });
  assert.match(await row.innerText(), /completed/);
  assert.match(await row.innerText(), new RegExp(`${demo[0].progress.completed} of ${demo[0].progress.total}`));
  assert.match(await row.innerText(), /Acme Support/);

  // The status filter is in the URL.
  await page.getByLabel('Status').selectOption('running');
  await page.waitForURL(/\/benchmarks\?status=running$/);
  await page.getByRole('heading', { name: 'No benchmarks match' }).waitFor();
  await page.goBack();
  await rows(page).first().waitFor();

  await accessible(page, 'benchmarks');
  await screenshot(page, 'benchmarks');
  assert.deepEqual(browser.errors, []);
});

test('a benchmark from the form runs to completion with its results', async () => {
  const { page } = browser;
  const agents = (await api('/agents?limit=100')).body.data;
  const chosen = ['Acme Support', 'Contoso IT Helpdesk'];

  await signedIn(page, server.origin, server.demoKey, '/benchmarks');
  await page.getByRole('link', { name: 'New benchmark' }).click();
  await page.waitForURL(/\/benchmarks\/new$/);
  await page.getByRole('heading', { name: 'New benchmark', level: 1 }).waitFor();
  await page.getByRole('checkbox', { name: /Acme Support/ }).waitFor();
  assert.equal(await page.locator('.agent-choice-list li').count(), agents.length);

  // Checked before sending.
  await page.locator('#benchmark-scenarios').fill('0');
  await page.getByRole('button', { name: 'Create benchmark' }).click();
  assert.equal(await page.locator('#benchmark-agents-error').innerText(), 'Choose at least one agent.');
  assert.equal(await page.locator('#benchmark-scenarios-error').innerText(), 'Enter a whole number from 1 to 10.');
  assert.equal(await page.locator('#benchmark-scenarios').getAttribute('aria-invalid'), 'true');

  // A server refusal is readable and lands under its field.
  await page.getByRole('checkbox', { name: /Acme Support/ }).check();
  await page.locator('#benchmark-scenarios').fill('2');
  // The offline engine plays every model the same, so a benchmark over models is refused.
  await page.locator('#benchmark-models').fill('gpt-4o, gpt-4o-mini');
  await page.getByRole('button', { name: 'Create benchmark' }).click();
  await page.getByRole('alert').filter({ hasText: 'VALIDATION_ERROR' }).waitFor();
  assert.match(await page.locator('#benchmark-models-error').innerText(), /offline engine/);
  assert.ok(browser.errors.every((e) => e.includes('400')), browser.errors.join('\n'));
  browser.errors.length = 0;
  await page.locator('#benchmark-models').fill('');

  // Personas are ticked by name, as in the optimization form.
  const personas = page.getByRole('group', { name: 'Personas' });
  assert.equal(await personas.getByRole('checkbox').count(), 8);
  await personas.getByRole('checkbox', { name: 'Frustrated customer' }).check();
  await personas.getByRole('checkbox', { name: 'Power user' }).check();
  await page.locator('#benchmark-name').fill('E2E comparison');
  for (const name of chosen.slice(1)) await page.getByRole('checkbox', { name: new RegExp(name) }).check();
  await page.locator('#benchmark-turns').fill('4');
  await accessible(page, 'benchmark-new');
  await screenshot(page, 'benchmark-new');

  await page.getByRole('button', { name: 'Create benchmark' }).click();
  await page.waitForURL(/\/benchmarks\/bench_[^/]+$/);
  await page.getByRole('heading', { name: 'E2E comparison', level: 1 }).waitFor();
  await page.getByRole('progressbar', { name: 'Conversations run' }).waitFor();
  // Followed live until it finishes.
  await page.locator('h1 + .status-badge', { hasText: 'completed' }).waitFor({ timeout: 120000 });
  const id = page.url().split('/').pop();
  const benchmark = (await api(`/benchmarks/${id}`)).body.data;
  assert.equal(benchmark.status, 'completed');
  assert.deepEqual(benchmark.agentIds.length, 2);
  assert.equal(benchmark.scenarioCount, 2);
  assert.equal(benchmark.maxTurns, 4);
  assert.deepEqual(benchmark.personaIds, ['persona_frustrated_customer', 'persona_power_user']);

  const bar = page.getByRole('progressbar', { name: 'Conversations run' });
  assert.equal(await bar.getAttribute('aria-valuenow'), String(benchmark.progress.total));
  await page.locator('[data-testid=benchmark-chart][data-drawn=true]').waitFor();
  const results = page.locator('[data-testid=results-table] tbody tr');
  assert.equal(await results.count(), 2);
  const best = [...benchmark.results].sort((a, b) => b.overallScore - a.overallScore)[0];
  assert.match(await results.first().innerText(), new RegExp(best.agentName));
  assert.match(await results.first().innerText(), /winner/);
  await page.getByTestId('benchmark-chart').getByText('Show as table').click();
  assert.equal(await page.locator('[data-testid=benchmark-chart] table tbody tr').count(), 2);
  await page.locator('[data-testid=benchmark-metrics][data-drawn=true]').waitFor();

  await accessible(page, 'benchmark');
  await screenshot(page, 'benchmark');
  assert.deepEqual(browser.errors, []);
});

test('ticked benchmarks are deleted in bulk through the confirmation', async () => {
  const { page } = browser;
  const agents = (await api('/agents?limit=100')).body.data;
  const ids = agents.slice(0, 2).map((a) => a.id);
  const made = [];
  for (const name of ['Bulk one', 'Bulk two']) {
    const { status, body } = await api('/benchmarks', { method: 'POST', body: JSON.stringify({ name, agentIds: ids, scenarioCount: 1, maxTurns: 2 }) });
    assert.equal(status, 201, JSON.stringify(body));
    made.push(body.data);
  }

  await signedIn(page, server.origin, server.demoKey, '/benchmarks');
  await rows(page).filter({ hasText: 'Bulk two' }).waitFor();
  await page.getByRole('checkbox', { name: 'Select Bulk one' }).check();
  await page.getByRole('checkbox', { name: 'Select Bulk two' }).check();
  assert.equal(await page.getByTestId('selected-count').innerText(), '2 selected');
  // Partly ticked: the "select all" box says so.
  assert.equal(await page.getByTestId('select-all').evaluate((box) => box.indeterminate), true);

  // Cancel refused per item is reported per item (the demo benchmark has finished).
  const demoName = (await api('/benchmarks?status=completed')).body.data.find((b) => !/^(E2E|Bulk)/.test(b.name)).name;
  await page.getByRole('checkbox', { name: `Select ${demoName}` }).check();
  await page.getByTestId('bulk-cancel').click();
  const outcome = page.getByTestId('bulk-outcome');
  await outcome.waitFor();
  assert.match(await outcome.innerText(), /could not be/);
  assert.match(await outcome.innerText(), /already completed; only a queued or running benchmark can be cancelled/);
  await page.getByRole('checkbox', { name: `Select ${demoName}` }).uncheck();

  // Now only the two are ticked (cancelled or finished, they are still listed).
  for (const name of ['Bulk one', 'Bulk two']) {
    if (!(await page.getByRole('checkbox', { name: `Select ${name}` }).isChecked())) {
      await page.getByRole('checkbox', { name: `Select ${name}` }).check();
    }
  }
  assert.equal(await page.getByTestId('selected-count').innerText(), '2 selected');
  await page.getByTestId('bulk-delete').click();
  const dialog = page.getByRole('dialog', { name: 'Delete benchmarks' });
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /Delete 2 benchmarks\?/);
  assert.deepEqual(await seriousA11yViolations(page), []);
  await dialog.getByTestId('confirm').click();
  await page.waitForFunction(() => /^Deleted 2 benchmarks\./.test(document.querySelector('[data-testid=bulk-outcome]')?.textContent ?? ''));
  await dialog.waitFor({ state: 'hidden' });
  await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid=benchmarks-table] tbody tr')]
    .some((row) => /Bulk (one|two)/.test(row.textContent)));
  assert.equal(await page.getByTestId('selected-count').innerText(), '0 selected');
  for (const benchmark of made) {
    assert.equal((await api(`/benchmarks/${benchmark.id}`)).status, 404);
  }
  assert.deepEqual(browser.errors, []);
});
