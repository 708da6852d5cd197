// The dashboard's speed and size, printed (nothing is asserted):
//   1. first-load transfer: every file index.html loads (wasm, JS, CSS), raw and as the
//      build's gzip and brotli copies the server sends, against the 400 KB budget;
//   2. navigation to the conversations table showing 50 rows of demo data, in headless
//      Chromium: a cold load of /conversations and a click from the agents page;
//   3. a 1,000-message transcript: the longest task while it renders (budget 200 ms).
// Run it with scripts/bench-dashboard.sh, which builds the release dashboard and the
// server first. CONVERRA_DIST and CONVERRA_SERVER_BIN say which build to measure.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startServer, openBrowser, signedIn } from '../e2e/harness.mjs';

const DIST = process.env.CONVERRA_DIST ?? 'dist';
const RUNS = Number(process.env.CONVERRA_BENCH_RUNS ?? 5);
const KB = 1024;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
const ms = (value) => `${Math.round(value)} ms`;

/** The files a first visit downloads: what index.html and its boot script name. */
function firstLoadFiles() {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const named = [...html.matchAll(/(?:href|src)="\/?([^"?#]+)"/g)].map((m) => m[1]);
  const boot = named.filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(DIST, f), 'utf8')).join('\n');
  const fromBoot = [...boot.matchAll(/['"]\/?([\w.-]+\.(?:js|wasm))['"]/g)].map((m) => m[1]);
  // wasm-bindgen's module also names its default wasm path, which is not used.
  const files = new Set([...named, ...fromBoot].filter((f) => /\.(js|wasm|css)$/.test(f) && existsSync(join(DIST, f))));
  // And what those scripts import statically (the bindings import the chunk loader).
  for (const script of [...files].filter((f) => f.endsWith('.js'))) {
    const source = readFileSync(join(DIST, script), 'utf8');
    for (const [, spec] of source.matchAll(/^import[^'"]*['"](\.\/[\w.-]+\.js)['"]/gm)) {
      const imported = join(dirname(script), spec);
      if (existsSync(join(DIST, imported))) files.add(imported);
    }
  }
  return [...files].sort();
}

/** What the server sends for `file`: its precompressed copy (`.br`, `.gz`), or the file. */
function sentBytes(file, encoding) {
  const copy = join(DIST, `${file}.${encoding}`);
  return statSync(existsSync(copy) ? copy : join(DIST, file)).size;
}

function transferSizes() {
  console.log('\n== First-load transfer (the build\'s brotli and gzip copies of each file; budget 400 KB)');
  const total = { raw: 0, gz: 0, br: 0 };
  for (const file of firstLoadFiles()) {
    const sizes = { raw: statSync(join(DIST, file)).size, gz: sentBytes(file, 'gz'), br: sentBytes(file, 'br') };
    for (const key of Object.keys(total)) total[key] += sizes[key];
    console.log(`${file.padEnd(52)} ${String(sizes.raw).padStart(9)} B raw ${String(sizes.gz).padStart(8)} B gzip ${String(sizes.br).padStart(8)} B br`);
  }
  console.log(`${'total'.padEnd(52)} ${String(total.raw).padStart(9)} B raw ${String(total.gz).padStart(8)} B gzip ${String(total.br).padStart(8)} B br`);
  console.log(`first load: ${(total.gz / KB).toFixed(1)} KB gzip, ${(total.br / KB).toFixed(1)} KB brotli`);
}

async function conversationsTable(server) {
  console.log(`\n== Navigation to the conversations table with 50 rows (median of ${RUNS})`);
  const rows = 'table.conversations-table tbody tr';
  const cold = [];
  const click = [];
  for (let run = 0; run < RUNS; run += 1) {
    const { browser, page } = await openBrowser();
    try {
      await signedIn(page, server.origin, server.demoKey, '/agents');
      await page.locator('table.agents-table tbody tr').first().waitFor();
      // Cold: a new document, wasm compiled again from the HTTP cache.
      let start = Date.now();
      await page.goto(`${server.origin}/conversations`);
      await page.locator(rows).nth(49).waitFor();
      cold.push(Date.now() - start);
      // In-app: from the agents page through the main navigation.
      await page.getByRole('link', { name: 'Agents', exact: true }).click();
      await page.locator('table.agents-table tbody tr').first().waitFor();
      start = Date.now();
      await page.getByRole('link', { name: 'Conversations', exact: true }).click();
      await page.locator(rows).nth(49).waitFor();
      click.push(Date.now() - start);
    } finally {
      await browser.close();
    }
  }
  console.log(`cold load of /conversations to 50 rows: median ${ms(median(cold))} (runs: ${cold.map(ms).join(', ')})`);
  console.log(`click Agents → Conversations to 50 rows: median ${ms(median(click))} (runs: ${click.map(ms).join(', ')})`);
}

async function longTranscript(server) {
  console.log(`\n== A 1,000-message transcript: the longest task while it renders (median of ${RUNS}; budget 200 ms)`);
  const headers = { Authorization: `Bearer ${server.demoKey}`, 'Content-Type': 'application/json' };
  const agent = (await (await fetch(`${server.origin}/api/v1/agents?limit=1`, { headers })).json()).data[0];
  const messages = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0
    ? { role: 'user', content: `Question ${i}: where is my order #${i}?` }
    : {
      role: 'assistant',
      content: `Order **#${i}** ships *tomorrow*.\n\n- item one\n- item two\n\n\`tracking ${i}\``,
      usage: { promptTokens: 20, completionTokens: 15 },
      latencyMs: 300 + i,
      ...(i % 10 === 1 ? { toolCalls: [{ name: 'lookup_order', arguments: { orderId: i }, result: { status: 'shipped' } }] } : {}),
    }));
  const created = await (await fetch(`${server.origin}/api/v1/conversations`, {
    method: 'POST', headers, body: JSON.stringify({ agentId: agent.id, title: 'Long transcript', messages }),
  })).json();
  const longest = [];
  const total = [];
  for (let run = 0; run < RUNS; run += 1) {
    const { browser, page } = await openBrowser();
    try {
      await signedIn(page, server.origin, server.demoKey, '/conversations');
      await page.locator('table.conversations-table tbody tr').first().waitFor();
      await page.evaluate(() => {
        window.benchLongTasks = [];
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) window.benchLongTasks.push(entry.duration);
        }).observe({ type: 'longtask' });
      });
      const start = Date.now();
      // A client-side navigation, so the observer keeps watching.
      await page.evaluate((href) => {
        const a = document.createElement('a');
        a.href = href;
        document.body.append(a);
        a.click();
      }, `/conversations/${created.data.id}`);
      await page.waitForFunction(() => document.querySelectorAll('ol.transcript > li').length === 1000, null, { timeout: 60000, polling: 100 });
      total.push(Date.now() - start);
      const tasks = await page.evaluate(() => window.benchLongTasks);
      longest.push(tasks.length ? Math.max(...tasks) : 0);
    } finally {
      await browser.close();
    }
  }
  console.log(`longest task: median ${ms(median(longest))} (runs: ${longest.map(ms).join(', ')}; 0 = no task over 50 ms)`);
  console.log(`all 1,000 messages shown after: median ${ms(median(total))}`);
}

transferSizes();
const server = await startServer({ demo: true });
try {
  await conversationsTable(server);
  await longTranscript(server);
} finally {
  await server.stop();
}
