// Starts the real server over a fresh database with the built dashboard, and Debian's
// Chromium through playwright-core. Each test file gets its own server. The database is a
// SQLite file, or, with CONVERRA_E2E_POSTGRES set to a PostgreSQL server's URL (a user that
// may create databases), a new database on that server.
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';

const SERVER_BIN = process.env.CONVERRA_SERVER_BIN ?? 'target/debug/converra-server';
const DIST = process.env.CONVERRA_DIST ?? 'dist';
const POSTGRES = process.env.CONVERRA_E2E_POSTGRES || null;
export const SCREENSHOTS = join(process.cwd(), 'e2e', 'screenshots');

const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.status < 500) return;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`server did not answer at ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Seeding the demo takes the server tens of seconds, so it is seeded once per server binary
// and copied into each test's own directory. The copy is redone after an hour because the
// demo's dates are relative to the day it was seeded.
const DEMO_MAX_AGE_MS = 60 * 60 * 1000;

function demoTemplateDir() {
  const bin = statSync(SERVER_BIN);
  const key = createHash('sha256').update(`${SERVER_BIN}:${bin.size}:${bin.mtimeMs}`).digest('hex').slice(0, 16);
  return join(tmpdir(), `converra-e2e-demo-${key}`);
}

/** Puts a seeded demo database at `db` and returns the demo's API key. */
function copyDemoDatabase(db) {
  const template = demoTemplateDir();
  const fresh = existsSync(join(template, 'key')) && Date.now() - statSync(join(template, 'key')).mtimeMs < DEMO_MAX_AGE_MS;
  if (!fresh) {
    // Seeded beside the template and renamed into place, so tests running at once never
    // copy a half-written database.
    const staging = mkdtempSync(`${template}-staging-`);
    const key = execFileSync(SERVER_BIN, ['demo', '--db', join(staging, 'converra.db')], { encoding: 'utf8' }).trim().split('\n').pop();
    writeFileSync(join(staging, 'key'), key);
    rmSync(template, { recursive: true, force: true });
    try {
      renameSync(staging, template);
    } catch {
      // Another test seeded it in the meantime; theirs is as good.
      rmSync(staging, { recursive: true, force: true });
    }
  }
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(join(template, `converra.db${suffix}`))) copyFileSync(join(template, `converra.db${suffix}`), `${db}${suffix}`);
  }
  return readFileSync(join(template, 'key'), 'utf8');
}

function psql(sql) {
  const env = { ...process.env, PGOPTIONS: '-c client_min_messages=warning' };
  return execFileSync('psql', [POSTGRES, '-qAtc', sql], { encoding: 'utf8', env }).trim();
}

function postgresUrl(database) {
  const url = new URL(POSTGRES);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * A new PostgreSQL database for one server; with `demo`, a copy of the demo (seeded once
 * per server binary into a template database, like the SQLite template above) and its key.
 */
function newPostgresDatabase(demo) {
  const name = `converra_e2e_${process.pid}_${Date.now()}`;
  if (!demo) {
    psql(`CREATE DATABASE ${name}`);
    return { db: postgresUrl(name), demoKey: null };
  }
  const template = `converra_e2e_demo_${demoTemplateDir().split('-').pop()}`;
  const keyFile = `${demoTemplateDir()}-postgres-key`;
  const fresh = existsSync(keyFile) && Date.now() - statSync(keyFile).mtimeMs < DEMO_MAX_AGE_MS
    && psql(`SELECT 1 FROM pg_database WHERE datname = '${template}'`) === '1';
  if (!fresh) {
    const staging = `${template}_staging_${process.pid}`;
    psql(`DROP DATABASE IF EXISTS ${staging}`);
    psql(`CREATE DATABASE ${staging}`);
    const key = execFileSync(SERVER_BIN, ['demo', '--db', postgresUrl(staging)], { encoding: 'utf8' }).trim().split('\n').pop();
    psql(`DROP DATABASE IF EXISTS ${template}`);
    psql(`ALTER DATABASE ${staging} RENAME TO ${template}`);
    writeFileSync(keyFile, key);
  }
  psql(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  return { db: postgresUrl(name), demoKey: readFileSync(keyFile, 'utf8') };
}

/** A running server; `createKey(account)` makes a key with `keys create`. */
export async function startServer({ demo = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'converra-e2e-'));
  let db = join(dir, 'converra.db');
  let demoKey = null;
  if (POSTGRES) {
    ({ db, demoKey } = newPostgresDatabase(demo));
  } else if (demo) {
    demoKey = copyDemoDatabase(db);
  }
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const child = spawn(SERVER_BIN, ['serve', '--db', db, '--addr', `127.0.0.1:${port}`, '--dist', DIST], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => { log += chunk; });
  await waitForHttp(`${origin}/api/v1/openapi.json`);
  return {
    origin,
    db,
    demoKey,
    log: () => log,
    createKey(account, plan = 'free') {
      const out = execFileSync(SERVER_BIN, ['keys', 'create', '--db', db, '--account', account, '--plan', plan], { encoding: 'utf8' });
      return out.trim().split('\n').pop();
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      // A 500 in a test is only a status in the browser; the server's log says why.
      const errors = log.split('\n').filter((line) => /\bERROR\b/.test(line));
      if (errors.length > 0) console.error(`server errors:\n${errors.join('\n')}`);
    },
  };
}

/**
 * Chromium with a page that collects console errors and uncaught exceptions. By default
 * the page ignores the server's Content-Security-Policy so that the tests can inject
 * axe-core; `{ enforceCsp: true }` keeps the policy, to prove the dashboard runs under it.
 */
export async function openBrowser({ enforceCsp = false } = {}) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: !enforceCsp });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  page.on('pageerror', (err) => errors.push(String(err)));
  return { browser, context, page, errors };
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Stores the key as the sign-in form would, then opens `path`. */
export async function signedIn(page, origin, key, path = '/') {
  await page.goto(`${origin}/`);
  await page.evaluate(([k, base]) => {
    localStorage.setItem('converra.apiKey', k);
    localStorage.setItem('converra.baseUrl', base);
  }, [key, `${origin}/api/v1`]);
  await page.goto(`${origin}${path}`);
  await page.getByTestId('account-badge').waitFor();
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core on the page; returns the serious and critical violations (expect none). */
export async function seriousA11yViolations(page) {
  await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}
