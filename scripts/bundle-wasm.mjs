// Trunk post-build hook: replaces the wasm trunk built with the same wasm split by page,
// the way cargo-leptos does it. Trunk has no step between cargo and wasm-bindgen, where the
// split must happen, so this hook redoes what follows cargo:
//   1. cargo build, the same build trunk just ran (a no-op: .cargo/config.toml links with
//      `--emit-relocs` for both, the relocations the splitter needs);
//   2. wasm-split-cli cuts every `#[lazy_route]` page (src/page_chunks.rs) into a chunk of
//      its own, plus chunks of code the pages share, and writes `__wasm_split.js`, which
//      fetches a chunk the first time its page opens;
//   3. wasm-bindgen writes the JS bindings of the main module (`--keep-lld-exports`: the
//      chunks import the function table from it);
//   4. in a release build, wasm-opt -Oz shrinks the main module and the bigger chunks;
//   5. each page gets a pack of all its chunks, for the first page a visit opens
//      (scripts/route-packs.mjs);
//   6. everything lands in `/pkg-<hash>/` (the hash of its contents, for caching), trunk's
//      unsplit wasm and its inline loader leave, and a boot script of its own (the server's
//      CSP allows no inline script) starts the app;
//   7. in a release build, every file gets its brotli and gzip copies (scripts/precompress.mjs).
import { execFileSync, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { precompress } from './precompress.mjs';
import { writeRoutePacks } from './route-packs.mjs';

const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) throw new Error('TRUNK_STAGING_DIR is not set: run this as a trunk hook');
const release = process.env.TRUNK_PROFILE === 'release';
const profile = release ? 'wasm-release' : 'dev';
const targetDir = process.env.CARGO_TARGET_DIR ?? 'target';
const NAME = 'converra-dashboard';
/** Chunks smaller than this skip wasm-opt. */
const WASM_OPT_MIN_BYTES = 8 * 1024;

const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
/** Runs one stage of the hook and prints how long it took, as the scripts' steps do. */
const timed = async (name, stage) => {
  const start = performance.now();
  const result = await stage();
  console.log(`-- ${name}: done in ${((performance.now() - start) / 1000).toFixed(1)}s`);
  return result;
};

run('cargo', ['build', '--locked', '--offline', '--profile', profile, '--target', 'wasm32-unknown-unknown', '--bin', NAME]);
const built = join(targetDir, 'wasm32-unknown-unknown', release ? profile : 'debug', `${NAME}.wasm`);

const work = mkdtempSync(join(tmpdir(), 'converra-wasm-'));
const out = mkdtempSync(join(tmpdir(), 'converra-pkg-'));
try {
  await timed('wasm-split-cli', () => run('wasm-split-cli', [built, work, '--target', 'web', '--out-name', NAME]));
  await timed('wasm-bindgen', () => run('wasm-bindgen', ['--target', 'web', '--keep-lld-exports', '--no-typescript',
    '--out-dir', work, '--out-name', NAME, join(work, `${NAME}.wasm`)]));
  rmSync(join(work, `${NAME}.wasm`));

  const wasmFiles = readdirSync(work).filter((f) => f.endsWith('.wasm'));
  const jsFiles = readdirSync(work).filter((f) => f.endsWith('.js'));
  if (release) {
    // Most chunks are a few hundred bytes, where wasm-opt saves next to nothing and npm's
    // wasm-opt spends a second starting: only the bigger ones go through it, two at a time.
    const wasmOpt = promisify(execFile);
    const small = (file) => statSync(join(work, file)).size < WASM_OPT_MIN_BYTES;
    for (const file of wasmFiles.filter(small)) cpSync(join(work, file), join(out, file));
    const queue = wasmFiles.filter((file) => !small(file));
    const worker = async () => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        await wasmOpt('wasm-opt', ['-Oz', '--output', join(out, file), join(work, file)]);
      }
    };
    await timed(`wasm-opt -Oz on ${queue.length} of ${wasmFiles.length} modules`, () => Promise.all([worker(), worker()]));
  } else {
    for (const file of wasmFiles) cpSync(join(work, file), join(out, file));
  }
  for (const file of jsFiles) cpSync(join(work, file), join(out, file));
  await timed('route packs', () => writeRoutePacks(out));

  const hash = createHash('sha256');
  for (const file of readdirSync(out).sort()) hash.update(file).update(readFileSync(join(out, file)));
  const pkg = `pkg-${hash.digest('hex').slice(0, 16)}`;
  cpSync(out, join(staging, pkg), { recursive: true });

  const boot = `import init from '/${pkg}/${NAME}.js';\nawait init({ module_or_path: '/${pkg}/${NAME}_bg.wasm' });\n`;
  const bootName = `boot-${createHash('sha256').update(boot).digest('hex').slice(0, 16)}.js`;
  writeFileSync(join(staging, bootName), boot);

  // Trunk's unsplit build: its files, its inline loader and its preload links.
  for (const file of readdirSync(staging)) {
    if (file.startsWith(`${NAME}-`) && (file.endsWith('.js') || file.endsWith('.wasm'))) rmSync(join(staging, file));
  }
  const indexPath = join(staging, 'index.html');
  const html = readFileSync(indexPath, 'utf8')
    .replace(/<script type="module"[^>]*>[\s\S]*?<\/script>\s*/g, '')
    .replace(new RegExp(`<link rel="(?:modulepreload|preload)"[^>]*${NAME}-[^>]*>\\s*`, 'g'), '');
  const tags = [
    `<link rel="modulepreload" href="/${pkg}/${NAME}.js" />`,
    `<link rel="preload" href="/${pkg}/${NAME}_bg.wasm" as="fetch" type="application/wasm" crossorigin="anonymous" />`,
    `<script type="module" src="/${bootName}"></script>`,
  ].join('\n    ');
  if (!html.includes('</head>')) throw new Error('index.html has no </head>');
  writeFileSync(indexPath, html.replace('</head>', `    ${tags}\n  </head>`));
  if (/<script(?![^>]*\bsrc=)[^>]*>/.test(readFileSync(indexPath, 'utf8'))) {
    throw new Error('index.html holds an inline script; the CSP would block it');
  }
  if (release) await timed('brotli and gzip copies', () => precompress(staging));
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
}
