// How the split dashboard loads its pages: each page's code comes in one request, its pack
// (scripts/route-packs.mjs), the first time it opens, and never again in that document.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, openBrowser, signedIn } from './harness.mjs';

let server;
let browser;

before(async () => { server = await startServer({ demo: true }); });
after(async () => { await browser?.browser.close(); await server?.stop(); });

/** The dashboard's wasm requests from now on, by kind. */
function recordWasmRequests(page) {
  const seen = { packs: [], chunks: [] };
  page.on('request', (request) => {
    const file = new URL(request.url()).pathname.split('/').pop();
    if (file.endsWith('.pack')) seen.packs.push(file);
    else if (file.endsWith('.wasm') && !file.startsWith('converra-dashboard')) seen.chunks.push(file);
  });
  return seen;
}

test('a deep link, the next page and a return each fetch at most one pack', async () => {
  browser = await openBrowser({ enforceCsp: true });
  const { page } = browser;
  await signedIn(page, server.origin, server.demoKey, '/agents');

  const deepLink = recordWasmRequests(page);
  await page.goto(`${server.origin}/conversations`);
  await page.locator('table.conversations-table tbody tr').nth(49).waitFor();
  assert.equal(deepLink.packs.length, 1, `one pack: ${deepLink.packs}`);
  assert.match(deepLink.packs[0], /^split___conversations_route_view_/);
  assert.deepEqual(deepLink.chunks, []);

  // The transcript page: one more pack, though it shares most of its chunks with the list.
  const next = recordWasmRequests(page);
  await page.locator('table.conversations-table tbody tr a.row-link').first().click();
  await page.locator('ol.transcript > li').first().waitFor();
  assert.equal(next.packs.length, 1, `one pack: ${next.packs}`);
  assert.match(next.packs[0], /^split___conversation_route_view_/);
  assert.deepEqual(next.chunks, []);

  // Back to the list: its code is loaded, nothing is fetched.
  const back = recordWasmRequests(page);
  await page.goBack();
  await page.locator('table.conversations-table tbody tr').nth(49).waitFor();
  assert.deepEqual(back, { packs: [], chunks: [] });
  assert.deepEqual(browser.errors, []);
});
