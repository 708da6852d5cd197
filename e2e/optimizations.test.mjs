// The optimization pages against the demo account (Pro plan): the list shows the demo's two
// completed optimizations; an offline optimization started from the form runs to completed
// on its page, says it is a scripted simulation and hides its probabilities, draws its
// charts with tables of the same numbers, and its best variant is applied through the
// confirm dialog, which makes a new version on the agent's page; a model run's payload shows
// its interval, cells and retest; the concurrency limit is explained plainly. axe (serious, critical) passes on every page and
// nothing logs a console error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, openBrowser, screenshot, signedIn, seriousA11yViolations } from './harness.mjs';

let server;
let browser;

before(async () => { server = await startServer({ demo: true }); browser = await openBrowser(); });
after(async () => { await browser?.browser.close(); await server?.stop(); });

/** Calls the API with the demo key. */
async function api(method, path, body) {
  const response = await fetch(`${server.origin}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${server.demoKey}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** Whether every chart canvas inside `scope` has drawn (more than one colour). */
async function chartsDrawn(page, selector = 'figure.chart canvas') {
  return page.evaluate((sel) => {
    const canvases = [...document.querySelectorAll(sel)];
    return canvases.length > 0 && canvases.every((canvas) => {
      if (!canvas.width || !canvas.height) return false;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 4; i < data.length; i += 4) {
        if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2]) return true;
      }
      return false;
    });
  }, selector);
}

async function waitForCharts(page) {
  for (let i = 0; i < 100 && !(await chartsDrawn(page)); i++) await page.waitForTimeout(100);
  assert.ok(await chartsDrawn(page), 'every chart canvas has drawn');
}

async function axe(page, name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    assert.deepEqual(await seriousA11yViolations(page), [], `${name} (${scheme})`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** A table cell written with one decimal holds `value`. */
function near(text, value) {
  assert.match(text, /^\d+\.\d$/);
  assert.ok(Math.abs(Number(text) - value) <= 0.05 + 1e-9, `${text} shows ${value}`);
}

const rows = (page) => page.locator('table.optimizations-table tbody tr');

test('list the demo optimizations, start one, watch it complete, read its charts and apply it', async () => {
  const { page } = browser;
  const demo = (await api('GET', '/optimizations')).body.data;
  assert.equal(demo.length, 2);
  const agents = (await api('GET', '/agents?limit=100')).body.data;

  // The list: the demo's two completed optimizations, linked, with their outcome.
  await signedIn(page, server.origin, server.demoKey, '/optimizations');
  await page.getByRole('heading', { name: 'Optimizations', level: 1 }).waitFor();
  await rows(page).first().waitFor();
  assert.equal(await rows(page).count(), 2);
  for (const o of demo) {
    const row = rows(page).filter({ hasText: o.id });
    assert.match(await row.innerText(), /Completed/);
    assert.match(await row.innerText(), new RegExp(o.agentName));
    assert.match(await row.innerText(), new RegExp(o.mode));
  }
  // Filters live in the URL and survive a reload.
  await page.getByLabel('Status', { exact: true }).selectOption('failed');
  await page.waitForURL(/\?status=failed$/);
  await page.getByRole('heading', { name: 'No optimizations match' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'No optimizations match' }).waitFor();
  assert.equal(await page.getByLabel('Status', { exact: true }).inputValue(), 'failed');
  await page.getByRole('link', { name: 'Clear filters' }).click();
  await page.waitForURL(/\/optimizations$/);
  await rows(page).nth(1).waitFor();
  await page.getByLabel('Agent', { exact: true }).selectOption(demo[0].agentId);
  await page.waitForURL(new RegExp(`agentId=${demo[0].agentId}`));
  await page.waitForFunction(() => document.querySelectorAll('table.optimizations-table tbody tr').length === 1);
  await page.goto(`${server.origin}/optimizations`);
  await rows(page).nth(1).waitFor();
  await axe(page, 'optimizations');
  await screenshot(page, 'optimizations');

  // The agent page links to the form with the agent chosen.
  const agent = agents.find((a) => a.id !== demo[0].agentId && a.status === 'active') ?? agents[0];
  await page.goto(`${server.origin}/agents/${agent.id}`);
  await page.getByRole('link', { name: 'Optimize this agent' }).click();
  await page.waitForURL(new RegExp(`/optimizations/new\\?agentId=${agent.id}`));
  await page.getByRole('heading', { name: 'Start an optimization' }).waitFor();
  await page.waitForFunction((id) => document.querySelector('#opt-agentId')?.value === id, agent.id);

  // Client-side checks name the field in the server's terms.
  await page.getByLabel('Variants to try').fill('9');
  await page.getByLabel('Scenarios per persona').fill('0');
  await page.getByRole('button', { name: 'Start optimization' }).click();
  await page.getByText('Enter a whole number from 1 to 5.').waitFor();
  await page.getByText('Enter a whole number from 1 to 10.').waitFor();
  assert.equal(await page.getByLabel('Variants to try').getAttribute('aria-invalid'), 'true');
  await axe(page, 'optimization-new (errors)');

  // A small offline run: 2 variants × (3 personas × 1 scenario × 2) = 6 conversations each.
  await page.getByLabel('Variants to try').fill('2');
  await page.getByLabel('Scenarios per persona').fill('1');
  await page.getByLabel('Max turns').fill('6');
  await page.getByLabel('These personas:').check();
  await page.getByLabel('Frustrated customer').check();
  await page.getByLabel('Busy professional').check();
  await page.getByLabel('Human seeker').check();
  await page.getByLabel('What should improve').fill('Escalate to a human when asked');
  assert.match(await page.getByTestId('conversation-estimate').innerText(), /^6 simulated conversations per variant; 18 in all/);
  await screenshot(page, 'optimization-new');
  await page.getByRole('button', { name: 'Start optimization' }).click();
  await page.waitForURL(/\/optimizations\/opt_[^/?]+$/);
  const id = page.url().split('/').pop();

  // Its page follows it to completed.
  await page.getByRole('heading', { name: new RegExp(`Optimization of ${agent.name}`) }).waitFor();
  await page.getByTestId('results').waitFor({ timeout: 120_000 });
  await page.locator('.opt-head .status-badge', { hasText: 'Completed' }).waitFor();
  const run = (await api('GET', `/optimizations/${id}`)).body.data;
  assert.equal(run.status, 'completed');
  assert.equal(run.simulation.conversationsPerVariant, 6);
  assert.deepEqual(run.personaIds.sort(), ['persona_busy_professional', 'persona_frustrated_customer', 'persona_human_seeker']);
  assert.equal(await page.getByTestId('live-progress').count(), 0);
  const variants = (await api('GET', `/optimizations/${id}/variants`)).body.data;
  assert.equal(variants.length, 3);
  if (run.results.reason) {
    assert.equal(await page.getByTestId('no-winner-reason').innerText(), run.results.reason);
  }
  // An offline run is scripted: the page says so and shows no confidence.
  assert.equal(run.evidence, 'scripted');
  const evidence = page.getByTestId('evidence-notice');
  assert.equal(await evidence.getAttribute('data-evidence'), 'scripted');
  assert.match(await evidence.innerText(), /scripted simulation/);
  assert.match(await evidence.innerText(), /not evidence about how this agent would do/);
  assert.equal(await page.getByTestId('results-confidence').count(), 0);
  assert.equal(await page.getByTestId('retest').count(), 0);
  assert.doesNotMatch(await page.getByTestId('results').innerText(), /confidence|significant/i);
  assert.match(await page.getByTestId('run-counts').innerText(), /^18 of 18 simulations · \d/);

  // Four charts, drawn, each with a table of the same numbers.
  await page.waitForFunction(() => document.querySelectorAll('.optimization-charts figure.chart canvas').length === 4);
  await waitForCharts(page);
  const scores = page.getByTestId('chart-scores');
  await scores.getByText('Show as table').click();
  const scoreRows = scores.locator('table.data-table tbody tr');
  assert.equal(await scoreRows.count(), 3);
  for (const v of variants) {
    const row = scoreRows.filter({ hasText: v.name });
    near(await row.locator('td').first().innerText(), v.stats.overallScore.mean);
  }
  const metrics = page.getByTestId('chart-metrics');
  await metrics.getByText('Show as table').click();
  assert.equal(await metrics.locator('table.data-table thead th').count(), 12);
  const control = variants.find((v) => v.isControl);
  const controlRow = metrics.locator('table.data-table tbody tr').filter({ hasText: control.name });
  near(await controlRow.locator('td').nth(9).innerText(), control.stats.taskCompletion.mean);
  assert.match(await page.getByRole('img', { name: /^All 11 metrics per variant/ }).getAttribute('aria-label'), /Highest: /);
  const personas = page.getByTestId('chart-personas');
  await personas.getByText('Show as table').click();
  assert.equal(await personas.locator('table.data-table tbody tr').count(), 3);
  // Hovering a bar shows its numbers.
  await scores.locator('canvas').scrollIntoViewIfNeeded();
  const box = await scores.locator('canvas').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + 40);
  await scores.locator('.chart-tooltip').waitFor();
  assert.match(await scores.locator('.chart-tooltip').innerText(), /Overall score/);
  await page.mouse.move(0, 0);

  // The statistics table, one row per arm.
  const stats = page.getByTestId('variant-stats');
  assert.equal(await stats.locator('tbody tr').count(), 3);
  assert.match(await stats.locator('tbody tr').first().innerText(), /Baseline/);
  assert.doesNotMatch(await stats.innerText(), /P\(best\)|P\(beats control\)|Adjusted p/);

  // Diffs against the control, with the differences-only view in the URL.
  const challenger = variants.filter((v) => !v.isControl)
    .sort((a, b) => (b.isWinner - a.isWinner) || (b.stats.overallScore.mean - a.stats.overallScore.mean))[0];
  const card = page.locator(`[data-testid="variant-card"][data-variant="${challenger.id}"]`);
  await card.locator('.word-diff').waitFor();
  assert.match(await card.innerText(), new RegExp(challenger.changeSummary.slice(0, 30).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  await page.getByLabel('Show differences only').check();
  await page.waitForURL(/diffOnly=1/);

  // A sample conversation opens in a dialog (and in the URL).
  await card.getByTestId('open-simulation').first().click();
  await page.waitForURL(/sim=/);
  const dialog = page.getByRole('dialog', { name: 'Simulated conversation' });
  await dialog.locator('ol.transcript li').first().waitFor();
  assert.match(await dialog.innerText(), /Persona/);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await page.waitForURL((url) => !url.search.includes('sim='));

  await axe(page, 'optimization');
  await screenshot(page, 'optimization');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(300);
  await waitForCharts(page);
  await screenshot(page, 'optimization-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 375, height: 800 });
  await page.waitForTimeout(300);
  await waitForCharts(page);
  await screenshot(page, 'optimization-375');
  for (const width of [1366, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(300);
    await waitForCharts(page);
    await screenshot(page, `optimization-scripted-${width}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });

  // Apply the winner (or the best) through the confirm dialog: a new version of the agent.
  const before = (await api('GET', `/agents/${agent.id}`)).body.data;
  await card.getByTestId('apply-variant').click();
  const confirm = page.getByRole('dialog', { name: 'Apply this variant?' });
  await confirm.waitFor();
  assert.match(await confirm.innerText(), new RegExp(challenger.name));
  await confirm.getByTestId('confirm').click();
  const notice = page.getByTestId('applied-notice');
  await notice.waitFor();
  assert.match(await notice.innerText(), new RegExp(`is now version ${before.version + 1} of ${agent.name}`));
  await notice.getByRole('link').click();
  await page.waitForURL(new RegExp(`/agents/${agent.id}\\?diffBase=${before.version}&diffTarget=${before.version + 1}`));
  const newest = page.locator('table.versions-table tbody tr').first();
  await newest.waitFor();
  assert.match(await newest.innerText(), new RegExp(`v${before.version + 1}`));
  assert.match(await newest.innerText(), /Optimization/);
  assert.match(await newest.innerText(), new RegExp(challenger.id));
  const after = (await api('GET', `/agents/${agent.id}`)).body.data;
  assert.equal(after.content, challenger.content);

  assert.deepEqual(browser.errors, []);
});

test('a model run shows its interval at the run\'s level, its cells and the validation retest', async () => {
  const { page } = browser;
  // No model runs here, so a finished offline run's own payloads are served as a model
  // run's would be: evidence `model`, a named winner at 95% and a confirmed retest.
  const completed = (await api('GET', '/optimizations?status=completed&limit=100')).body.data;
  const base = completed.sort((a, b) => b.results.cells - a.results.cells)[0];
  const variants = (await api('GET', `/optimizations/${base.id}/variants`)).body.data;
  const best = variants.filter((v) => !v.isControl && v.difference)
    .sort((a, b) => b.difference.mean - a.difference.mean)[0];
  const d = best.difference;
  const modelVariants = variants.map((v) => ({ ...v, isWinner: v.id === best.id }));
  const modelRun = {
    ...base,
    engine: 'model:fixture-7b',
    evidence: 'model',
    results: {
      ...base.results,
      winnerSelected: true,
      winningVariantId: best.id,
      outcome: 'variant_won',
      confidence: 0.95,
      improvementPoints: d.mean,
      reason: undefined,
      retest: {
        variantId: best.id, cells: d.cells, pValue: 0.004, confirmed: true,
        difference: { ...d, mean: d.mean - 0.5, low: d.low - 0.5, high: d.high - 0.5 },
      },
    },
  };
  await page.route(`**/api/v1/optimizations/${base.id}`, (route) =>
    route.fulfill({ json: { data: modelRun } }));
  await page.route(`**/api/v1/optimizations/${base.id}/variants`, (route) =>
    route.fulfill({ json: { data: modelVariants } }));
  try {
    await page.setViewportSize({ width: 1366, height: 900 });
    await page.goto(`${server.origin}/optimizations/${base.id}`);
    await page.getByTestId('results').waitFor();
    const evidence = page.getByTestId('evidence-notice');
    assert.equal(await evidence.getAttribute('data-evidence'), 'model');
    assert.match(await evidence.innerText(), /fixture-7b/);
    const level = `${Math.round(d.level * 100)}%`;
    assert.match(await page.getByTestId('results-difference').innerText(),
      new RegExp(` at ${level}\\), ${d.cells} cells$`));
    assert.equal(await page.getByTestId('results-confidence').innerText(), 'Significant at 95%');
    const retest = await page.getByTestId('retest').innerText();
    assert.match(retest, new RegExp(`${d.cells} cells`));
    assert.match(retest, /p = 0\.004; confirmed\.$/);
    const stats = page.getByTestId('variant-stats');
    assert.match(await stats.innerText(), /P\(best\)/);
    assert.match(await stats.innerText(), /Adjusted p/);
    await page.locator(`[data-testid="variant-card"][data-variant="${best.id}"] .badge-winner`).waitFor();
    await axe(page, 'optimization (model)');
    for (const width of [1366, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await page.waitForTimeout(300);
      await waitForCharts(page);
      await screenshot(page, `optimization-model-${width}`);
    }
  } finally {
    await page.unrouteAll();
    await page.setViewportSize({ width: 1280, height: 800 });
  }
  assert.deepEqual(browser.errors, []);
});

test('the 11th optimization at once is explained plainly, with a link to the running ones', async () => {
  const { page } = browser;
  const agents = (await api('GET', '/agents?limit=100')).body.data;
  // Large runs stay queued or running long enough to hold the limit.
  const started = [];
  for (let i = 0; started.length < 10 && i < 20; i++) {
    const created = await api('POST', '/optimizations', {
      agentId: agents[i % agents.length].id, mode: 'validation', variantCount: 5,
      simulation: { personaCount: 20, scenariosPerSimulation: 10, maxTurns: 30 },
    });
    if (created.status === 201) started.push(created.body.data.id);
    else if (created.status === 429) break;
    else assert.fail(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  }
  try {
    const live = (await api('GET', '/optimizations?limit=100')).body.data.filter((o) => ['queued', 'running'].includes(o.status));
    assert.ok(live.length >= 10, `${live.length} live`);

    await page.goto(`${server.origin}/optimizations/new?agentId=${agents[0].id}`);
    await page.waitForFunction((id) => document.querySelector('#opt-agentId')?.value === id, agents[0].id);
    await page.getByLabel('Variants to try').fill('1');
    await page.getByRole('button', { name: 'Start optimization' }).click();
    const explanation = page.getByTestId('concurrency-limit');
    await explanation.waitFor();
    assert.match(await explanation.innerText(), /At most 10 optimizations can run at once in an account/);
    assert.match(await explanation.innerText(), /Stop one of them or wait for one to finish/);
    assert.match(await page.locator('.error-panel').innerText(), /CONCURRENCY_LIMIT/);
    assert.match(page.url(), /\/optimizations\/new/);
    await axe(page, 'optimization-new (concurrency)');

    // The list shows them live with progress bars, and links to the running ones.
    await explanation.getByRole('link', { name: 'See the running optimizations' }).click();
    await page.waitForURL(/\/optimizations\?status=running$/);
    await page.goto(`${server.origin}/optimizations`);
    await page.getByRole('progressbar').first().waitFor();
    assert.ok(await page.getByRole('progressbar').count() >= 1);
    await axe(page, 'optimizations (live)');

    // Stop one from its page, through the confirm dialog.
    await page.goto(`${server.origin}/optimizations/${started[0]}`);
    await page.getByTestId('live-progress').waitFor();
    await page.getByTestId('stop-optimization').click();
    await page.getByRole('dialog', { name: 'Stop this optimization?' }).getByTestId('confirm').click();
    await page.locator('.opt-head .status-badge', { hasText: 'Stopped' }).waitFor();
    await page.getByTestId('job-error').waitFor();
  } finally {
    for (const id of started) await api('POST', `/optimizations/${id}/stop`, {});
  }
  // The refused POST is logged by Chromium itself; nothing else may be.
  assert.deepEqual(browser.errors.filter((e) => !/status of 429/.test(e)), []);
});
