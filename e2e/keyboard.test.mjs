// Keyboard review and the command palette against the demo account: j/k through a list
// and Enter to open, / to the search box, ? for the cheat sheet, Ctrl+K to any page, agent
// or conversation. Then the dashboard under the server's own Content-Security-Policy (no
// bypass): it boots, signs in and navigates with no violation and no inline script.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, openBrowser, screenshot, signedIn, seriousA11yViolations } from './harness.mjs';

let server;

before(async () => { server = await startServer({ demo: true }); });
after(async () => { await server?.stop(); });

async function api(path) {
  const response = await fetch(`${server.origin}/api/v1${path}`, { headers: { Authorization: `Bearer ${server.demoKey}` } });
  assert.equal(response.status, 200, path);
  return (await response.json()).data;
}

const focusedHref = (page) => page.evaluate(() => document.activeElement?.getAttribute('href'));

test('j/k walk a list, Enter opens the row, / searches, ? lists the shortcuts', async () => {
  const { browser, page, errors } = await openBrowser();
  try {
    await signedIn(page, server.origin, server.demoKey, '/agents');
    const rows = page.locator('table.agents-table tbody tr');
    await rows.first().waitFor();
    const hrefs = await rows.locator('a.row-link').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
    assert.ok(hrefs.length >= 3);

    await page.keyboard.press('j');
    assert.equal(await focusedHref(page), hrefs[0]);
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    assert.equal(await focusedHref(page), hrefs[2]);
    await page.keyboard.press('k');
    assert.equal(await focusedHref(page), hrefs[1]);
    await page.keyboard.press('Enter');
    await page.waitForURL(`**${hrefs[1]}`);

    // Back on the list, j/k go on from the row that was opened.
    await page.goBack();
    await rows.first().waitFor();
    await page.keyboard.press('j');
    assert.equal(await focusedHref(page), hrefs[1]);
    await page.keyboard.press('j');
    assert.equal(await focusedHref(page), hrefs[2]);

    // `/` jumps to the conversations' search box; letters typed there stay text.
    await page.goto(`${server.origin}/conversations`);
    await page.locator('table.conversations-table tbody tr').first().waitFor();
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-q');
    await page.keyboard.type('jk');
    assert.equal(await page.locator('#f-q').inputValue(), 'jk');
    await page.locator('#f-q').fill('');
    await page.locator('h1').click();

    // `j` in the conversations list lands on the first conversation's own link.
    await page.keyboard.press('j');
    assert.match(await focusedHref(page), /^\/conversations\/.+/);

    await page.keyboard.press('?');
    const sheet = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await sheet.waitFor();
    assert.match(await sheet.innerText(), /Command palette/);
    await screenshot(page, 'cheat-sheet');
    assert.deepEqual(await seriousA11yViolations(page), []);
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'hidden' });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('Ctrl+K goes to a page, an agent or a conversation', async () => {
  const { browser, page, errors } = await openBrowser();
  try {
    const agents = await api('/agents?limit=100');
    const agent = agents[agents.length - 1];
    const conversations = await api('/conversations?limit=1');
    const word = conversations[0].title.split(/\s+/).find((w) => w.length > 4) ?? conversations[0].title;

    await signedIn(page, server.origin, server.demoKey, '/agents');
    const palette = page.getByRole('dialog', { name: 'Go to' });
    const input = palette.getByRole('combobox');

    // A page, from the keyboard.
    await page.keyboard.press('Control+k');
    await input.waitFor();
    await input.fill('usa');
    assert.match(await palette.getByRole('option', { selected: true }).innerText(), /Usage/);
    await page.keyboard.press('Enter');
    await page.waitForURL('**/usage');
    await palette.waitFor({ state: 'hidden' });

    // An agent, by part of its name.
    await page.keyboard.press('Control+k');
    await input.fill(agent.name.slice(0, 6));
    await palette.getByRole('option', { name: new RegExp(agent.name) }).waitFor();
    await screenshot(page, 'command-palette');
    assert.deepEqual(await seriousA11yViolations(page), []);
    const options = palette.getByRole('option');
    const index = (await options.allInnerTexts()).findIndex((t) => t.includes(agent.name));
    for (let i = 0; i < index; i += 1) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/agents/${agent.id}`);

    // A conversation, found by the server's full-text search.
    await page.getByRole('button', { name: /Go to/ }).click();
    await input.fill(word);
    const found = palette.getByRole('option').filter({ hasText: 'Conversation' }).first();
    await found.waitFor();
    await found.click();
    await page.waitForURL('**/conversations/*');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('the dashboard runs under the server\'s Content-Security-Policy', async () => {
  const { browser, page, errors } = await openBrowser({ enforceCsp: true });
  try {
    // Every page load reports its policy violations to the test.
    const violations = [];
    await page.exposeFunction('reportCspViolation', (v) => violations.push(v));
    await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => window.reportCspViolation(`${e.violatedDirective} ${e.blockedURI}`)));

    const response = await page.goto(`${server.origin}/`);
    const csp = response.headers()['content-security-policy'];
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
    assert.doesNotMatch(csp, /unsafe-inline'[^;]*;.*script-src|script-src[^;]*unsafe-inline/);
    assert.match(csp, /connect-src 'self'/);
    const inlineScripts = await page.evaluate(() => [...document.scripts].filter((s) => !s.src).length);
    assert.equal(inlineScripts, 0);

    await signedIn(page, server.origin, server.demoKey, '/conversations');
    await page.locator('table.conversations-table tbody tr').first().waitFor();
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.locator('figure.chart canvas').first().waitFor();
    assert.deepEqual(violations, []);
    assert.deepEqual(errors, []);

    // The policy is live: a script injected into the page does not run.
    const ran = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.injectedScriptRan = true;';
      document.head.append(script);
      return window.injectedScriptRan === true;
    });
    assert.equal(ran, false);
    // The violation event arrives after the refusal.
    for (let i = 0; i < 40 && violations.length === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
    assert.ok(violations.some((v) => v.startsWith('script-src')), violations.join(', '));
  } finally {
    await browser.close();
  }
});
