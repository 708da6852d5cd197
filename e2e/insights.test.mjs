// Insights against the demo account (a Pro key): an agent's insights page (trend drawn,
// issues ranked with a working link to an example conversation, fleet rank, percentile
// chart and table, the period in the URL), regeneration with its progress, the step
// failures page, the fleet page comparing every demo agent, and a transcript's insights
// panel. Every page passes axe (serious and critical) and nothing logs a console error.
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
  const body = await response.json();
  assert.ok(response.ok, `${path}: ${JSON.stringify(body)}`);
  return body;
}

/** Waits until every canvas inside `scope` has drawn something (more than one colour). */
async function waitForDrawn(page, scope) {
  await page.waitForFunction((selector) => {
    const canvases = [...document.querySelectorAll(`${selector} canvas`)];
    return canvases.length > 0 && canvases.every((canvas) => {
      if (!canvas.width || !canvas.height) return false;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 4; i < data.length; i += 4) {
        if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2]) return true;
      }
      return false;
    });
  }, scope, { timeout: 15000 });
}

/** axe in light and dark. */
async function accessible(page, name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    assert.deepEqual(await seriousA11yViolations(page), [], `${name} (${scheme})`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

async function acme() {
  const agents = (await api('/agents?limit=100')).data;
  return { agents, acme: agents.find((a) => a.name === 'Acme Support') };
}

test("an agent's insights: trend, ranked issues, fleet rank and percentiles", async () => {
  const { page } = browser;
  const { acme: agent } = await acme();
  const insights = (await api(`/agents/${agent.id}/insights?days=30`)).data;

  await signedIn(page, server.origin, server.demoKey, `/agents/${agent.id}`);
  // The agent page links here.
  await page.getByRole('link', { name: 'Insights', exact: true }).first().click();
  await page.waitForURL(new RegExp(`/agents/${agent.id}/insights$`));
  await page.getByRole('heading', { name: 'Insights', level: 1 }).waitFor();
  await page.locator('.page-subtitle', { hasText: 'Acme Support' }).waitFor();

  // The trend: two charts drawn, quality as a line and conversations as bars.
  await page.locator('[data-testid=trend] figure.chart').nth(1).waitFor();
  await waitForDrawn(page, '[data-testid=trend]');
  assert.match(await page.getByRole('img', { name: /^Quality per day\./ }).getAttribute('aria-label'), /points from/);

  // The documented metrics and the 11 averages.
  // Each tile is the API's figure, named for what it counts and out of what: tasks completed
  // is a share of the analysed conversations, not the task completion score of the table.
  const oneDecimal = (v) => String(Math.round(v * 10) / 10);
  const tile = page.getByTestId('insights-metrics').locator('div', { hasText: 'Tasks completed' });
  assert.match(await tile.innerText(), new RegExp(`${oneDecimal(insights.metrics.taskCompletion)}%`));
  assert.match(await tile.innerText(), new RegExp(`of ${insights.metrics.analyzedCount} analysed`));
  const scoreRow = page.locator('[data-testid=metric-averages] tbody tr', { hasText: 'Task completion' });
  assert.match(await scoreRow.innerText(), new RegExp(oneDecimal(insights.metrics.averages.taskCompletion)));
  assert.equal(await page.locator('[data-testid=metric-averages] tbody tr').count(), 11);

  // Issues, most frequent first, with counts, severity and example links.
  const issueRows = page.locator('[data-testid=issues] tbody tr');
  assert.equal(await issueRows.count(), insights.issues.length);
  const top = [...insights.issues].sort((a, b) => b.frequency - a.frequency)[0];
  assert.match(await issueRows.first().innerText(), new RegExp(top.title));
  assert.match(await issueRows.first().innerText(), new RegExp(`${Math.round(top.frequency * 1000) / 10}%`));
  assert.match(await issueRows.first().locator('.status-badge').innerText(), new RegExp(top.severity));

  // Recommendations, sentiment, topics and business impact.
  await page.getByRole('heading', { name: 'Recommendations' }).waitFor();
  assert.match(await page.getByTestId('business-impact').innerText(), new RegExp(insights.businessImpact.currency));

  // Fleet intelligence: rank of N, and the percentile chart with its table.
  const fleet = insights.fleetIntelligence;
  assert.equal(await page.getByTestId('fleet-rank').innerText(), `${fleet.rank} of ${fleet.totalAgents}`);
  const percentiles = page.getByTestId('percentile-chart');
  await page.locator('[data-testid=percentile-chart][data-drawn=true]').waitFor();
  await waitForDrawn(page, '[data-testid=percentile-chart]');
  await percentiles.getByText('Show as table').click();
  const percentileRows = percentiles.locator('table tbody tr');
  assert.equal(await percentileRows.count(), Object.keys(fleet.percentiles).length);
  assert.ok(await page.locator('[data-testid=best-practices] a').count() >= 0);

  await accessible(page, 'agent-insights');
  await screenshot(page, 'agent-insights');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(400);
  await waitForDrawn(page, '[data-testid=trend]');
  await screenshot(page, 'agent-insights-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  // An example conversation link opens that conversation.
  const example = issueRows.first().locator('ul.conversation-links a').first();
  const href = await example.getAttribute('href');
  assert.equal(href, `/conversations/${top.exampleConversationIds[0]}`);
  // It reads as the conversation's title, as the API names it, not as a cut-off id.
  const named = top.exampleConversations[0];
  assert.equal(named.id, top.exampleConversationIds[0]);
  assert.ok(named.title, 'the demo conversations have titles');
  assert.equal((await example.innerText()).trim(), named.title);
  await example.click();
  await page.waitForURL(new RegExp(`${href}$`));
  await page.getByRole('heading', { name: 'Transcript' }).waitFor();
  await page.goBack();
  await page.getByTestId('fleet-rank').waitFor();

  // The period lives in the URL: a click, a reload and a deep link agree.
  await page.getByRole('link', { name: '7 days' }).click();
  await page.waitForURL(/\/insights\?days=7$/);
  await page.waitForFunction(() => /– /.test(document.querySelector('.period-line')?.textContent ?? ''));
  assert.equal(await page.getByRole('link', { name: '7 days' }).getAttribute('aria-current'), 'page');
  await page.reload();
  await page.getByTestId('fleet-rank').waitFor();
  assert.equal(await page.getByRole('link', { name: '7 days' }).getAttribute('aria-current'), 'page');
  assert.equal(await page.getByRole('link', { name: '30 days' }).getAttribute('aria-current'), null);

  assert.deepEqual(browser.errors, []);
});

test('regenerating shows its progress and completes', async () => {
  const { page } = browser;
  const { acme: agent } = await acme();
  await signedIn(page, server.origin, server.demoKey, `/agents/${agent.id}/insights`);
  await page.getByTestId('fleet-rank').waitFor();
  await page.getByLabel('Newest conversations').fill('12');
  await page.getByLabel('Newest conversations').dispatchEvent('change');
  assert.ok(await page.getByLabel('Redo ones that already have insights').isChecked());
  await page.getByRole('button', { name: 'Regenerate', exact: true }).click();
  const progress = page.getByTestId('regenerate-progress');
  await progress.waitFor();
  await page.getByRole('progressbar', { name: 'Conversations analysed' }).waitFor();
  assert.match(await progress.innerText(), /\d+ of 12 analysed/);
  await page.waitForFunction(
    () => /^Done: 12 of 12 analysed\./.test(document.querySelector('[data-testid=regenerate-progress] p')?.textContent ?? ''),
    null,
    { timeout: 120000 },
  );
  assert.equal(await page.getByRole('progressbar', { name: 'Conversations analysed' }).getAttribute('aria-valuenow'), '12');
  // The report reloaded and is still whole.
  await page.getByTestId('fleet-rank').waitFor();
  assert.deepEqual(browser.errors, []);
});

test('step failures: totals, root causes and steps as charts and tables', async () => {
  const { page } = browser;
  const { acme: agent } = await acme();
  const failures = (await api(`/agents/${agent.id}/step-failures`)).data;

  await signedIn(page, server.origin, server.demoKey, `/agents/${agent.id}`);
  await page.getByRole('link', { name: 'Step failures' }).click();
  await page.waitForURL(new RegExp(`/agents/${agent.id}/step-failures$`));
  await page.getByRole('heading', { name: 'Step failures', level: 1 }).waitFor();
  assert.match(await page.getByTestId('step-totals').innerText(), new RegExp(failures.failedConversations.toLocaleString('en-US')));

  await page.locator('[data-testid=root-cause-chart][data-drawn=true]').waitFor();
  await page.locator('[data-testid=step-rate-chart][data-drawn=true]').waitFor();
  await waitForDrawn(page, '[data-testid=root-cause-chart]');
  await waitForDrawn(page, '[data-testid=step-rate-chart]');
  // Each figure is shown once: a chart with its table folded under "Show as table".
  assert.equal(await page.getByRole('heading', { name: 'Failure rate per step' }).count(), 0);
  assert.equal(await page.locator('[data-testid=root-cause-chart] details.chart-table').getAttribute('open'), null);
  await page.getByTestId('root-cause-chart').getByText('Show as table').click();
  assert.equal(await page.locator('[data-testid=root-cause-chart] table tbody tr').count(), failures.byRootCause.length);
  const stepRows = page.locator('[data-testid=steps-table] tbody tr');
  assert.equal(await stepRows.count(), failures.steps.length);
  const worst = [...failures.steps].sort((a, b) => b.failureRate - a.failureRate)[0];
  assert.match(await stepRows.first().innerText(), new RegExp(worst.step));
  assert.equal(
    await stepRows.first().locator('ul.conversation-links a').first().getAttribute('href'),
    `/conversations/${worst.exampleConversationIds[0]}`,
  );
  assert.equal(await page.locator('[data-testid=top-failures] li').count(), failures.topFailures.length);
  await page.getByTestId('step-rate-chart').getByText('Show as table').click();
  assert.equal(await page.locator('[data-testid=step-rate-chart] table tbody tr').count(), failures.steps.length);

  await accessible(page, 'step-failures');
  await screenshot(page, 'step-failures');
  assert.deepEqual(browser.errors, []);
});

test('the fleet compares every demo agent', async () => {
  const { page } = browser;
  const { agents } = await acme();
  const impact = (await api('/deployments/impact?limit=100')).data;

  await signedIn(page, server.origin, server.demoKey, '/agents');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fleet' }).click();
  await page.waitForURL(/\/fleet$/);
  await page.getByRole('heading', { name: 'Fleet', level: 1 }).waitFor();
  await page.getByText(`All ${agents.length} agents loaded.`).waitFor({ timeout: 30000 });

  const rows = page.locator('[data-testid=fleet-table] tbody tr');
  assert.equal(await rows.count(), agents.length);
  const tableText = await page.getByTestId('fleet-table').innerText();
  for (const agent of agents) assert.match(tableText, new RegExp(agent.name));
  // Best score first by default: the agent without conversations goes last.
  assert.match(await rows.last().innerText(), /Ledgerly Onboarding Guide/);
  await page.locator('[data-testid=fleet-heat-map][data-drawn=true]').waitFor();
  await waitForDrawn(page, '[data-testid=fleet-heat-map]');

  // Sorting by a header is in the URL.
  await page.getByRole('button', { name: 'Agent' }).click();
  await page.waitForURL(/\/fleet\?sort=name&dir=asc$/);
  const sortedNames = [...agents.map((a) => a.name)].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  await page.waitForFunction((first) => document.querySelector('[data-testid=fleet-table] tbody tr th')?.textContent === first, sortedNames[0]);
  assert.equal(await page.locator('[data-testid=fleet-table] th[aria-sort=ascending]').innerText(), 'Agent ↑');
  await page.reload();
  await page.getByText(`All ${agents.length} agents loaded.`).waitFor({ timeout: 30000 });
  assert.equal(await rows.first().locator('th').innerText(), sortedNames[0]);

  // Deployments: the summary and one row per deployment.
  const summary = page.getByTestId('deployment-summary');
  await summary.waitFor();
  assert.match(await summary.innerText(), new RegExp(`Not fixed\\s+${impact.summary.notFixed}`));
  assert.equal(await page.locator('[data-testid=deployments-table] tbody tr').count(), impact.agents.length);
  // Each change says which way failures moved, so a rise never reads as a small fix.
  const changes = await page.locator('[data-testid=deployments-table] tbody tr td:nth-of-type(5)').allInnerTexts();
  // The direction comes from the rates, even when the change rounds to 0.0%.
  const expected = impact.agents.map((d) => (d.failureRateAfter < d.failureRateBefore ? /^fell /
    : d.failureRateAfter > d.failureRateBefore ? /^rose / : /^unchanged$/));
  changes.forEach((text, i) => assert.match(text, expected[i]));

  await page.goto(`${server.origin}/fleet`);
  await page.getByText(`All ${agents.length} agents loaded.`).waitFor({ timeout: 30000 });
  await waitForDrawn(page, '[data-testid=fleet-heat-map]');
  await accessible(page, 'fleet');
  await screenshot(page, 'fleet');
  await page.setViewportSize({ width: 375, height: 800 });
  await page.waitForTimeout(400);
  await waitForDrawn(page, '[data-testid=fleet-heat-map]');
  await screenshot(page, 'fleet-375');
  await page.setViewportSize({ width: 1280, height: 800 });

  assert.deepEqual(browser.errors, []);
});

test("a transcript's insights panel: metrics against the benchmark and the step diagnosis", async () => {
  const { page } = browser;
  const { acme: agent } = await acme();
  const failures = (await api(`/agents/${agent.id}/step-failures`)).data;
  const conversationId = failures.steps.find((s) => s.step !== 'turn:3' && s.exampleConversationIds.length)
    ?.exampleConversationIds[0] ?? failures.steps[0].exampleConversationIds[0];
  const insights = (await api(`/conversations/${conversationId}/insights`)).data;
  assert.ok(insights.stepDiagnosis, 'the example has a step diagnosis');

  await signedIn(page, server.origin, server.demoKey, `/conversations/${conversationId}`);
  const panel = page.getByTestId('conversation-insights');
  await panel.getByTestId('metric-bars').waitFor();
  assert.equal(await panel.locator('li.metric').count(), 11);
  assert.match(await panel.getByTestId('metric-bars').innerText(), /fleet \d/);
  assert.match(await panel.getByTestId('insights-scores').innerText(), /Gated score/);
  await panel.getByText('Show as table').click();
  assert.equal(await panel.locator('table.data-table tbody tr').count(), 11);

  const steps = panel.locator('[data-testid=step-diagnosis] tbody tr');
  assert.equal(await steps.count(), insights.stepDiagnosis.steps.length);
  const failed = insights.stepDiagnosis.steps.find((s) => s.status === 'failed');
  const failedRow = steps.filter({ hasText: failed.name });
  assert.match(await failedRow.innerText(), /failed/);
  // The step's message link is an anchor to the transcript and reveals that message.
  const link = failedRow.locator('a.message-link');
  assert.equal(await link.getAttribute('href'), `#msg-${failed.messageIndex}`);
  await link.click();
  await page.waitForFunction((id) => document.activeElement?.id === id, `msg-${failed.messageIndex}`);
  if (insights.topIssues.length) {
    assert.equal(await panel.locator('[data-testid=top-issues] li').count(), insights.topIssues.length);
  }

  await accessible(page, 'conversation-insights');
  await screenshot(page, 'conversation-insights');

  // Regenerating: the panel follows the new analysis until it is ready.
  await panel.getByRole('button', { name: 'Regenerate' }).click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid=insights-progress]')?.textContent === 'The new analysis is ready.',
    null,
    { timeout: 60000 },
  );
  await panel.getByTestId('metric-bars').waitFor();
  assert.deepEqual(browser.errors, []);
});
