// Usage: the period's totals as progress bars, three charts that really draw (and redraw
// in the dark theme), their table view, and the rate-limit headroom.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, openBrowser, screenshot, signedIn, seriousA11yViolations } from './harness.mjs';

let server;
let browser;

before(async () => { server = await startServer({ demo: true }); });
after(async () => { await browser?.browser.close(); await server?.stop(); });

/** Whether every canvas on the page has drawn something (more than one colour). */
async function chartsDrawn(page) {
  return page.evaluate(() => {
    const canvases = [...document.querySelectorAll('figure.chart canvas')];
    return canvases.length > 0 && canvases.every((canvas) => {
      if (!canvas.width || !canvas.height) return false;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 4; i < data.length; i += 4) {
        if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2]) return true;
      }
      return false;
    });
  });
}

/** The colour of a chart's top-left pixel (its background). */
async function chartBackground(page) {
  return page.evaluate(() => {
    const canvas = document.querySelector('figure.chart canvas');
    return [...canvas.getContext('2d').getImageData(1, 1, 1, 1).data.slice(0, 3)];
  });
}

test('usage shows the limits, the days as charts and tables, and the headroom', async () => {
  browser = await openBrowser();
  const { page } = browser;
  const usage = (await (await fetch(`${server.origin}/api/v1/usage`, {
    headers: { Authorization: `Bearer ${server.demoKey}` },
  })).json()).data;

  await signedIn(page, server.origin, server.demoKey, '/usage');
  await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
  await page.getByRole('progressbar', { name: 'Conversations this month' }).waitFor();

  // Bars for what has a limit; tokens are unlimited and say so.
  const conversations = page.getByRole('progressbar', { name: 'Conversations this month' });
  assert.equal(await conversations.getAttribute('aria-valuemax'), String(usage.conversations.limit));
  assert.equal(await conversations.getAttribute('aria-valuenow'), String(Math.min(usage.conversations.used, usage.conversations.limit)));
  assert.match(await conversations.getAttribute('aria-valuetext'), / of /);
  await page.getByRole('progressbar', { name: 'Agents' }).waitFor();
  await page.getByRole('progressbar', { name: 'Optimizations this month' }).waitFor();
  assert.equal(await page.getByRole('progressbar', { name: 'Tokens this month' }).count(), 0);
  assert.match(await page.locator('.usage-totals').innerText(), /unlimited/);
  assert.match(await page.locator('.usage-totals').innerText(), /running now/);

  // The headroom of the usage call itself.
  const headroom = page.getByTestId('rate-limit-headroom');
  assert.match(await headroom.innerText(), /^\d+ of 300 requests left this minute(, resets in \d+ s|; the minute has reset)\.$/);

  // Three charts, each drawn, named for screen readers.
  const charts = page.locator('figure.chart');
  assert.equal(await charts.count(), 3);
  await page.waitForFunction(() => document.querySelectorAll('figure.chart canvas').length === 3);
  for (let i = 0; i < 50 && !(await chartsDrawn(page)); i++) await page.waitForTimeout(100);
  assert.ok(await chartsDrawn(page), 'every chart canvas has drawn');
  assert.match(await page.getByRole('img', { name: /^Requests per day\./ }).getAttribute('aria-label'), /highest/);

  // Hovering a day shows its values.
  const canvas = charts.first().locator('canvas');
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width - 30, box.y + box.height / 2);
  const tooltip = charts.first().locator('.chart-tooltip');
  await tooltip.waitFor();
  assert.match(await tooltip.innerText(), /Requests: [\d,]+/);
  await page.mouse.move(0, 0);
  await tooltip.waitFor({ state: 'detached' });

  // The same numbers as a table.
  await charts.first().getByText('Show as table').click();
  const rows = charts.first().locator('table.data-table tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), usage.byDay.length);
  const last = usage.byDay[usage.byDay.length - 1];
  // Today's count has grown by the page's own requests since.
  const shown = Number((await rows.last().locator('td').innerText()).replace(/,/g, ''));
  assert.ok(shown >= last.requests && shown < last.requests + 20, `${shown} requests today`);
  const [y, m, d] = usage.byDay[0].date.split('-').map(Number);
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][m - 1];
  assert.equal(await rows.first().locator('th').innerText(), `${d} ${month} ${y}`);

  assert.deepEqual(await seriousA11yViolations(page), []);
  await screenshot(page, 'usage');

  // Narrow screens: for looking at, not kept.
  await page.setViewportSize({ width: 375, height: 800 });
  await page.waitForTimeout(300);
  assert.ok(await chartsDrawn(page));
  await page.screenshot({ path: '/tmp/usage-375.png', fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  // Dark theme: the charts redraw on a dark background, and the choice survives a reload.
  const light = await chartBackground(page);
  const toggle = page.getByTestId('theme-toggle');
  while (!/Dark/.test(await toggle.innerText())) await toggle.click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await page.waitForFunction((before) => {
    const canvas = document.querySelector('figure.chart canvas');
    const now = [...canvas.getContext('2d').getImageData(1, 1, 1, 1).data.slice(0, 3)];
    return now.join() !== before.join();
  }, light);
  const dark = await chartBackground(page);
  assert.ok(dark.reduce((a, b) => a + b) < light.reduce((a, b) => a + b), `dark ${dark} is darker than light ${light}`);
  await page.reload();
  await page.getByRole('progressbar', { name: 'Agents' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.equal(await page.evaluate(() => localStorage.getItem('converra.theme')), 'dark');
  assert.match(await toggle.innerText(), /Dark/);
  for (let i = 0; i < 50 && !(await chartsDrawn(page)); i++) await page.waitForTimeout(100);
  assert.deepEqual(await seriousA11yViolations(page), []);
  await screenshot(page, 'usage-dark');
  await page.setViewportSize({ width: 375, height: 800 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: '/tmp/usage-dark-375.png', fullPage: true });

  // Back to System, from the phone's menu: the attribute goes and the stored choice with it.
  await page.getByRole('button', { name: 'Menu', exact: true }).click();
  await toggle.click();
  assert.match(await toggle.innerText(), /System/);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme ?? null), null);
  assert.equal(await page.evaluate(() => localStorage.getItem('converra.theme')), null);

  assert.deepEqual(browser.errors, []);
});
