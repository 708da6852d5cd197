// The conversations list (filters in the URL, paging, export) and one conversation (its
// transcript, with Markdown that can never run script) against the demo account.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, openBrowser, screenshot, signedIn, seriousA11yViolations } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ demo: true });
  browser = await openBrowser();
});
after(async () => {
  await browser?.browser.close();
  await server?.stop();
});

async function api(path, body) {
  const response = await fetch(`${server.origin}/api/v1${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { Authorization: `Bearer ${server.demoKey}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await response.json();
  assert.ok(response.ok, `${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

const rows = (page) => page.locator('table.conversations-table tbody tr');

/** Extra looks for a person checking the layout: narrow and dark. Not kept in the repo. */
async function variants(page, name) {
  const size = page.viewportSize();
  for (const [width, scheme] of [[375, 'light'], [375, 'dark'], [1280, 'dark']]) {
    await page.setViewportSize({ width, height: 800 });
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: join(tmpdir(), `${name}-${width}-${scheme}.png`) });
  }
  await page.setViewportSize(size);
  await page.emulateMedia({ colorScheme: 'light' });
}

test('filters live in the URL, pages follow the cursor, a page exports to CSV', async () => {
  const { page } = browser;
  await signedIn(page, server.origin, server.demoKey, '/conversations');
  await rows(page).nth(49).waitFor();
  assert.equal(await rows(page).count(), 50);
  assert.deepEqual(await seriousA11yViolations(page), []);
  await screenshot(page, 'conversations');
  await variants(page, 'conversations');

  // Agent + status + search: each lands in the URL.
  const agents = (await api('/agents?limit=100')).data;
  const agent = agents.find((a) => a.conversationCount > 100) ?? agents[0];
  await page.getByLabel('Agent', { exact: true }).selectOption(agent.id);
  await page.waitForURL((url) => url.searchParams.get('agentId') === agent.id);
  await page.getByLabel('Status').selectOption('completed');
  await page.waitForURL((url) => url.searchParams.get('status') === 'completed');
  // A word from one of the agent's completed conversations, so the search finds something.
  const sample = (await api(`/conversations?agentId=${agent.id}&status=completed&limit=1`)).data[0];
  const opener = (await api(`/conversations/${sample.id}`)).data.messages.find((m) => m.role === 'user').content;
  const word = opener.split(/[^A-Za-z]+/).filter((w) => w.length >= 5).sort((a, b) => b.length - a.length)[0].toLowerCase();
  const expected = await api(`/conversations?agentId=${agent.id}&status=completed&q=${word}&limit=50`);
  assert.ok(expected.data.length > 0, word);
  const filtered = page.waitForResponse((r) => r.url().includes('/api/v1/conversations?') && r.url().includes(`q=${word}`));
  await page.getByLabel('Search').fill(word);
  await page.waitForURL((url) => url.searchParams.get('q') === word);
  await filtered;
  await page.waitForFunction((n) => document.querySelectorAll('table.conversations-table tbody tr').length === n,
    Math.min(expected.data.length, 50));
  const agentCells = await rows(page).locator('td:nth-child(2)').allInnerTexts();
  assert.ok(agentCells.length > 0);
  assert.ok(agentCells.every((name) => name === agent.name), agentCells.join(', '));
  const statusCells = await rows(page).locator('td:nth-child(4)').allInnerTexts();
  assert.ok(statusCells.every((s) => s === 'Completed'), statusCells.join(', '));
  assert.equal(await rows(page).first().locator('a.row-link').getAttribute('href'), `/conversations/${expected.data[0].id}`);
  // Each result says where it matched, the word marked.
  const marks = await rows(page).locator('.search-snippet mark').allInnerTexts();
  assert.ok(marks.length >= Math.min(expected.data.length, 50), `${marks.length} marks`);
  assert.ok(marks.every((m) => m.toLowerCase().startsWith(word)), marks.join(', '));
  await screenshot(page, 'conversations-search');

  // Reload restores the view from the URL.
  await page.reload();
  await rows(page).first().waitFor();
  assert.equal(await page.getByLabel('Agent', { exact: true }).inputValue(), agent.id);
  assert.equal(await page.getByLabel('Status').inputValue(), 'completed');
  assert.equal(await page.getByLabel('Search').inputValue(), word);

  // Back goes to the view before the search.
  const unsearched = page.waitForResponse((r) => r.url().includes('/api/v1/conversations?') && !r.url().includes('q='));
  await page.goBack();
  await unsearched;
  await page.waitForURL((url) => !url.searchParams.has('q') && url.searchParams.get('status') === 'completed');
  await page.waitForFunction(() => document.querySelector('#f-q')?.value === '');
  assert.equal(await page.getByLabel('Status').inputValue(), 'completed');
  assert.equal(await page.getByLabel('Agent', { exact: true }).inputValue(), agent.id);

  // Next page: a cursor in the URL and other rows; First page comes back.
  const unsearchedPage = (await api(`/conversations?agentId=${agent.id}&status=completed&limit=50`)).data;
  await page.waitForFunction((first) => document.querySelector('table.conversations-table tbody tr a.row-link')
    ?.getAttribute('href') === first, `/conversations/${unsearchedPage[0].id}`);
  const firstPageIds = await rows(page).locator('a.row-link').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.waitForURL((url) => url.searchParams.has('cursor'));
  await page.waitForFunction((first) => {
    const link = document.querySelector('table.conversations-table tbody tr a.row-link');
    return link && link.getAttribute('href') !== first;
  }, firstPageIds[0]);
  const secondPageIds = await rows(page).locator('a.row-link').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.ok(secondPageIds.every((id) => !firstPageIds.includes(id)));
  assert.equal(await page.getByRole('button', { name: 'First page' }).isEnabled(), true);

  // Previous page goes back to the first page's rows, and Next page forward again.
  await page.getByRole('button', { name: 'Previous page' }).click();
  await page.waitForURL((url) => !url.searchParams.has('cursor'));
  await page.waitForFunction((first) => document.querySelector('table.conversations-table tbody tr a.row-link')
    ?.getAttribute('href') === first, firstPageIds[0]);
  assert.equal(await page.getByRole('button', { name: 'Previous page' }).isEnabled(), false);
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.waitForFunction((second) => document.querySelector('table.conversations-table tbody tr a.row-link')
    ?.getAttribute('href') === second, secondPageIds[0]);

  // Export this page as CSV.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'CSV', exact: true }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^conversations-page-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync(await download.path(), 'utf8');
  const lines = csv.split('\r\n').filter(Boolean);
  assert.equal(lines[0], 'id,createdAt,agentId,agentName,title,status,source,messageCount,qualityScore,totalTokens,hasFailedSteps,insightsStatus,sessionId,userId,llmModel');
  assert.equal(lines.length, secondPageIds.length + 1);

  // Every page of the view, after the confirmation.
  const total = (await api(`/conversations?agentId=${agent.id}&status=completed&limit=1`)).pagination.total;
  await page.getByRole('button', { name: 'All pages…' }).click();
  const [all] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export all as JSON' }).click(),
  ]);
  const exported = JSON.parse(readFileSync(await all.path(), 'utf8'));
  assert.equal(exported.length, Math.min(total, 10000));
  assert.equal(new Set(exported.map((c) => c.id)).size, exported.length);

  assert.deepEqual(browser.errors, []);
});

test('saved views keep a filter set by name', async () => {
  const { page } = browser;
  await signedIn(page, server.origin, server.demoKey, '/conversations?status=abandoned&sort=oldest');
  await rows(page).first().waitFor();
  await page.getByLabel('Name this view').fill('Abandoned, oldest');
  await page.getByRole('button', { name: 'Save view' }).click();
  await page.getByText('Saved the view').waitFor();
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('converra.savedViews.conversations')));
  assert.deepEqual(stored, [{ name: 'Abandoned, oldest', query: '?status=abandoned&sort=oldest' }]);

  await page.goto(`${server.origin}/conversations`);
  await rows(page).first().waitFor();
  await page.getByLabel('Saved view').selectOption('Abandoned, oldest');
  await page.waitForURL((url) => url.searchParams.get('status') === 'abandoned' && url.searchParams.get('sort') === 'oldest');
  assert.equal(await page.getByLabel('Sort').inputValue(), 'oldest');
  assert.deepEqual(browser.errors, []);
});

test('a conversation shows its transcript, tool calls and insights', async () => {
  const { page } = browser;
  const withTools = (await api('/conversations?hasFailedSteps=true&limit=1')).data[0];
  await signedIn(page, server.origin, server.demoKey, '/conversations?hasFailedSteps=true');
  await rows(page).first().waitFor();
  await rows(page).first().locator('a.row-link').click();
  await page.waitForURL(`**/conversations/${withTools.id}`);
  await page.locator('ol.transcript > li').first().waitFor();
  const full = (await api(`/conversations/${withTools.id}`)).data;
  await page.waitForFunction((n) => document.querySelectorAll('ol.transcript > li').length === n, full.messages.length);
  assert.ok(await page.locator('.message.role-user').count() > 0);
  assert.ok(await page.locator('.message.role-assistant').count() > 0);
  assert.ok(await page.locator('details.tool-call.failed').count() > 0);
  // The insights panel shows a lifecycle status or the metrics.
  await page.locator('.insights .status-badge, .insights .metric-bars').first().waitFor();
  const failed = page.locator('details.tool-call.failed').first();
  await failed.locator('summary').click();
  await failed.locator('pre.json').first().waitFor();
  assert.deepEqual(await seriousA11yViolations(page), []);
  await screenshot(page, 'conversation');
  await variants(page, 'conversation');
  assert.deepEqual(browser.errors, []);
});

test("a conversation's session opens the list of that session's conversations", async () => {
  const { page } = browser;
  const sessions = {};
  for (const c of (await api('/conversations?limit=100')).data) {
    if (c.sessionId) sessions[c.sessionId] = [...(sessions[c.sessionId] ?? []), c.id];
  }
  const [sessionId, ids] = Object.entries(sessions).sort((a, b) => b[1].length - a[1].length)[0];
  const inSession = (await api(`/conversations?sessionId=${encodeURIComponent(sessionId)}&limit=100`)).data;
  assert.ok(inSession.length >= ids.length && inSession.every((c) => c.sessionId === sessionId));

  await signedIn(page, server.origin, server.demoKey, `/conversations/${ids[0]}`);
  await page.getByRole('link', { name: 'All conversations of this session' }).click();
  await page.waitForURL((url) => url.pathname === '/conversations' && url.searchParams.get('sessionId') === sessionId);
  await page.waitForFunction((n) => document.querySelectorAll('table.conversations-table tbody tr').length === n, inSession.length);
  const listed = await rows(page).locator('a.row-link').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.deepEqual(listed, inSession.map((c) => `/conversations/${c.id}`));
  assert.equal(await page.getByLabel('Session').inputValue(), sessionId);
  assert.deepEqual(browser.errors, []);
});

test('markup in messages is shown as text and never runs', async () => {
  const { page } = browser;
  const agent = (await api('/agents?limit=1')).data[0];
  const payload = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';
  const created = (await api('/conversations', {
    agentId: agent.id,
    title: 'Markup probe <b>not bold</b>',
    metadata: { variantId: 'var_probe', optimizationId: 'opt_probe', source: 'e2e' },
    messages: [
      { role: 'system', content: 'You are **helpful**.' },
      { role: 'user', content: payload },
      {
        role: 'assistant',
        content: `**bold** and a [link](https://example.com) and [bad](javascript:window.__xss=3)\n\n${payload}\n\n![pic](https://example.com/p.png)`,
        usage: { promptTokens: 12, completionTokens: 30 },
        latencyMs: 840,
        toolCalls: [{ id: 'call_1', name: 'lookup_order', arguments: { orderId: '<b>42</b>' }, error: 'upstream timeout <i>x</i>' }],
      },
    ],
  })).data;
  await signedIn(page, server.origin, server.demoKey, `/conversations/${created.id}`);
  await page.getByRole('heading', { name: 'Markup probe <b>not bold</b>' }).waitFor();
  const assistant = page.locator('.message.role-assistant');
  assert.equal(await assistant.locator('strong').textContent(), 'bold');
  assert.match(await assistant.textContent(), /<script>window\.__xss=1<\/script>/);
  assert.match(await page.locator('.message.role-user').textContent(), /<img src=x onerror="window\.__xss=2">/);
  assert.equal(await page.locator('.transcript img, .transcript script, .transcript b').count(), 0);
  assert.equal(await assistant.locator('a[href="https://example.com"]').getAttribute('rel'), 'noopener noreferrer nofollow');
  assert.equal(await page.locator('.transcript a[href^="javascript"]').count(), 0);
  // The system prompt is plain text: no Markdown there.
  assert.equal(await page.locator('.message.role-system strong').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  // The optimization it belongs to.
  assert.equal(await page.locator('.experiment a').getAttribute('href'), '/optimizations/opt_probe');
  // Once analysed, an issue's message link scrolls to and focuses that message.
  await page.locator('.insights .metric-bars').waitFor({ timeout: 20000 });
  await page.locator('.insights').getByRole('link', { name: 'Show message 3' }).first().click();
  await page.waitForFunction(() => document.activeElement?.id === 'msg-2');
  assert.deepEqual(await seriousA11yViolations(page), []);
  await screenshot(page, 'conversation-xss');
  await variants(page, 'conversation-xss');
  // The raw toggle shows the source.
  await assistant.getByRole('button', { name: 'Raw' }).click();
  assert.match(await assistant.locator('.plain-text').textContent(), /\*\*bold\*\*/);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(browser.errors, []);
});

test('a 1,000-message transcript renders in full, a chunk at a time', async () => {
  const { page } = browser;
  const agent = (await api('/agents?limit=1')).data[0];
  const messages = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0
    ? { role: 'user', content: `Question ${i}: where is my order #${i}?` }
    : {
      role: 'assistant',
      content: `Order **#${i}** ships *tomorrow*.\n\n- item one\n- item two\n\n\`tracking ${i}\``,
      usage: { promptTokens: 20, completionTokens: 15 },
      latencyMs: 300 + i,
      ...(i % 10 === 1 ? { toolCalls: [{ name: 'lookup_order', arguments: { orderId: i }, result: { status: 'shipped' } }] } : {}),
    }));
  const created = (await api('/conversations', { agentId: agent.id, title: 'Long transcript', messages })).data;
  await signedIn(page, server.origin, server.demoKey, '/conversations');
  await rows(page).nth(49).waitFor();
  // Client-side navigation, as a user clicking through would.
  await page.evaluate((href) => {
    const a = document.createElement('a');
    a.href = href;
    document.body.append(a);
    a.click();
  }, `/conversations/${created.id}`);
  // The first chunk shows at once; the rest follow (how long each task takes is measured by
  // scripts/bench-dashboard.mjs, not asserted here).
  await page.locator('ol.transcript > li').first().waitFor();
  await page.waitForFunction(() => document.querySelectorAll('ol.transcript > li').length === 1000, null, { timeout: 30000, polling: 250 });
  assert.deepEqual(browser.errors, []);
});

test('a conversation exported over OpenTelemetry shows its source and filters by it', async () => {
  const { page } = browser;
  // OTLP/HTTP JSON, as an exporter sends it: one chat span in the GenAI conventions.
  const now = `${Date.now()}000000`;
  const span = {
    traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'chat gpt-4o',
    startTimeUnixNano: now, endTimeUnixNano: now,
    attributes: [
      ['gen_ai.operation.name', 'chat'],
      ['gen_ai.agent.name', 'Traced Agent'],
      ['gen_ai.input.messages', JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'Is my parcel insured?' }] }])],
      ['gen_ai.output.messages', JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'Yes, up to 500 euros.' }] }])],
    ].map(([key, value]) => ({ key, value: { stringValue: value } })),
  };
  const response = await fetch(`${server.origin}/api/v1/otel/v1/traces`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.demoKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }),
  });
  assert.equal(response.status, 200, await response.text());

  await signedIn(page, server.origin, server.demoKey, '/conversations');
  await rows(page).first().waitFor();
  await page.getByLabel('Source').selectOption('otel');
  await page.waitForURL((url) => url.searchParams.get('source') === 'otel');
  await page.waitForFunction(() => document.querySelectorAll('table.conversations-table tbody tr').length === 1);
  assert.equal(await rows(page).locator('td:nth-child(2)').innerText(), 'Traced Agent');
  assert.equal(await rows(page).locator('td:nth-child(5)').innerText(), 'OpenTelemetry');
  assert.deepEqual(browser.errors, []);
});

test('quality filters follow a pause or Enter, and impossible filters say why, at 1366 and 390 px', async () => {
  const { page } = browser;
  for (const width of [1366, 390]) {
    await page.setViewportSize({ width, height: width > 500 ? 900 : 844 });
    await signedIn(page, server.origin, server.demoKey, '/conversations');
    await page.locator('table tbody tr').first().waitFor();
    const min = page.getByLabel('Min quality');
    const max = page.getByLabel('Max quality');

    // Typing, with no blur: the list follows once typing pauses.
    await min.pressSequentially('60');
    await page.waitForURL((url) => url.searchParams.get('minQuality') === '60');
    assert.equal(await min.evaluate((el) => el === document.activeElement), true);

    // Out of range: said beside the box, and never sent.
    await max.pressSequentially('500');
    await page.locator('#f-max-error', { hasText: 'Quality runs from 0 to 100.' }).waitFor();
    assert.equal(await max.getAttribute('aria-invalid'), 'true');
    await page.waitForTimeout(800);
    assert.equal(new URL(page.url()).searchParams.has('maxQuality'), false);

    // Below the minimum, applied with Enter: the reason shows beside the box and in the list.
    await max.fill('20');
    await max.press('Enter');
    await page.waitForURL((url) => url.searchParams.get('maxQuality') === '20');
    assert.match(await page.locator('#f-max-error').innerText(), /Max quality is below min quality/);
    await page.getByText('No conversation can match these filters').waitFor();

    // Dates the wrong way round.
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForURL((url) => !url.searchParams.has('minQuality'));
    assert.equal(await min.inputValue(), '');
    await page.getByLabel('From (UTC)').fill('2026-05-02');
    await page.getByLabel('To (UTC)').fill('2026-05-01');
    await page.waitForURL((url) => url.searchParams.get('to') === '2026-05-01');
    assert.match(await page.locator('#f-to-error').innerText(), /To is before From/);
    await page.getByText('No conversation can match these filters').waitFor();
    assert.deepEqual(await seriousA11yViolations(page), []);
    await screenshot(page, `conversations-impossible-${width}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(browser.errors, []);
});
