// First run: sign in with a key made by `keys create`, see the account (in Settings), sign out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, openBrowser, screenshot, signedIn, seriousA11yViolations } from './harness.mjs';

let server;
let browser;

before(async () => { server = await startServer(); });
after(async () => { await browser?.browser.close(); await server?.stop(); });

test('a wrong key shows the server message, a good key shows the account', async () => {
  browser = await openBrowser();
  const { page } = browser;
  const key = server.createKey('Wayne Enterprises', 'pro');

  await page.goto(`${server.origin}/`);
  await page.getByLabel('API key').waitFor();
  assert.equal(await page.getByLabel('API base URL').inputValue(), `${server.origin}/api/v1`);
  await screenshot(page, 'sign-in');

  await page.getByLabel('API key').fill('sk_live_not_a_real_key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /INVALID_API_KEY/);
  assert.match(await alert.innerText(), /The provided API key is invalid/);

  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const badge = page.getByTestId('account-badge');
  await badge.waitFor();
  assert.match(await badge.innerText(), /Wayne Enterprises/);
  // Labelled, so it never reads as an agent of the same name.
  assert.match(await badge.innerText(), /Account/i);
  assert.match(await badge.innerText(), /Pro/);
  // `/` is the agents list now; the account and its plan live in Settings.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await page.waitForURL('**/settings');
  await page.getByRole('heading', { name: 'Wayne Enterprises' }).waitFor();
  assert.match(await page.locator('section', { has: page.getByRole('heading', { name: 'Wayne Enterprises' }) }).innerText(), /Pro/);
  await screenshot(page, 'account');

  // The key survives a reload (localStorage) and never appears in the URL.
  await page.reload();
  await badge.waitFor();
  assert.ok(!page.url().includes(key));

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('converra.apiKey')), null);

  // The wrong-key request logs a 401 in the console; nothing else may.
  const unexpected = browser.errors.filter((e) => !e.includes('401'));
  assert.deepEqual(unexpected, []);
});

test('a deep link is served the dashboard, not a 404', async () => {
  const response = await fetch(`${server.origin}/some/deep/link`);
  assert.equal(response.status, 200);
  assert.match(await response.text(), /<html/);
  const api = await fetch(`${server.origin}/api/v1/nope`);
  assert.equal(api.status, 404);
  assert.equal((await api.json()).error.code, 'NOT_FOUND');
});

test('the top bar keeps to one row at 1366 px and folds behind Menu at 390 px', async () => {
  const own = await openBrowser();
  const { page } = own;
  const key = server.createKey('Stark Industries International Holdings', 'pro');
  const nav = page.getByRole('navigation', { name: 'Main' });
  const barHeight = () => page.locator('header.top-bar').evaluate((el) => el.getBoundingClientRect().height);

  await page.setViewportSize({ width: 1366, height: 900 });
  await signedIn(page, server.origin, key, '/agents');
  assert.ok(await barHeight() < 64, `one row at 1366 px, not ${await barHeight()} px`);
  assert.ok(await nav.getByRole('link', { name: 'Settings' }).isVisible());
  assert.ok(await page.getByRole('button', { name: 'Sign out' }).isVisible());
  assert.equal(await page.getByRole('button', { name: 'Menu', exact: true }).isVisible(), false);
  await screenshot(page, 'top-bar-1366');

  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(await barHeight() < 64, `one row at 390 px, not ${await barHeight()} px`);
  assert.match(await page.getByTestId('account-badge').innerText(), /Stark/);
  assert.equal(await nav.isVisible(), false);
  const menu = page.getByRole('button', { name: 'Menu', exact: true });
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  await menu.click();
  assert.equal(await page.getByRole('button', { name: 'Close menu' }).getAttribute('aria-expanded'), 'true');
  await nav.getByRole('link', { name: 'Usage' }).waitFor();
  assert.ok(await page.getByRole('button', { name: 'Sign out' }).isVisible());
  assert.deepEqual(await seriousA11yViolations(page), []);
  await screenshot(page, 'top-bar-menu-390');
  // Going somewhere closes the menu.
  await nav.getByRole('link', { name: 'Usage' }).click();
  await page.waitForURL('**/usage');
  await page.getByRole('button', { name: 'Menu', exact: true }).waitFor();
  assert.equal(await nav.isVisible(), false);
  await screenshot(page, 'top-bar-390');
  assert.deepEqual(own.errors, []);
  await own.browser.close();
});
