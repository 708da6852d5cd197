// Route packs: a page's code comes in one request instead of dozens.
//
// wasm-split-cli gives every page a chunk plus the chunks of code it shares with other
// pages: the conversations page needs 78 files, a transcript 123. Headless Chromium here
// spends about 6 ms of network time on each request however small, and the main thread
// up to 1 ms to issue it: a deep link waited half a second for the files alone, and opening
// a transcript from the list held the main thread for up to 280 ms.
// So for every page this writes one pack (the page's chunk and every chunk it needs, back
// to back) and rewrites the chunk loader, `__wasm_split.js`, so that the first time a page
// opens, every chunk it needs and has not loaded yet comes out of its pack. The price is
// bytes: a pack repeats the shared chunks an earlier page already loaded.
// A pack starts with its own table of contents, so the loader only names each page's pack,
// and any static host can serve it. The chunks are not shipped as files of their own.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LOADER = '__wasm_split.js';

/** A loader the splitter wrote: `const name = makeLoad(() => { fetch("./file") … }, [deps])`. */
const LOAD_PATTERN = /(?:export )?const (\w+) = (?:wrapAsyncCb\()?makeLoad\(\(\) => \{\s*const src = fetch\(new URL\("\.\/([\w.-]+)", import\.meta\.url\)\);[\s\S]*?\n, \[([^\]]*)\]/g;
const FETCH = /fetch\(new URL\("\.\/([\w.-]+)", import\.meta\.url\)\)/g;
const PAGE_EXPORT = /export const (__wasm_split_load_\w+) = wrapAsyncCb\(makeLoad\(/g;

/** Every loader of the splitter's output: its file and the loaders it needs first. */
function parseLoaders(source) {
  const loaders = new Map();
  for (const [, name, file, deps] of source.matchAll(LOAD_PATTERN)) {
    loaders.set(name, { file, deps: deps.split(',').map((d) => d.trim()).filter(Boolean) });
  }
  const fetches = [...source.matchAll(FETCH)].length;
  if (loaders.size === 0 || loaders.size !== fetches) {
    throw new Error(`${LOADER}: read ${loaders.size} loaders of ${fetches} fetches; has wasm-split-cli changed its output?`);
  }
  return loaders;
}

/** The files a page needs: its own and, transitively, those of the loaders it depends on. */
function closure(loaders, page) {
  const files = [];
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    const loader = loaders.get(name);
    if (!loader) throw new Error(`${LOADER}: ${name} is needed but never defined`);
    loader.deps.forEach(visit);
    files.push(loader.file);
  };
  visit(page);
  return files;
}

/** The loader's additions: which pack each page has, and the fetch that reads from the open pack. */
function runtime(packOfPage) {
  return `
// Route packs (scripts/route-packs.mjs): a page's chunk file → the pack of all it needs.
const routePacks = ${JSON.stringify(packOfPage)};
let openPack = undefined;
/** A pack: a u32 (little-endian) header length, a JSON header {file: [offset, length]}, the bytes. */
async function readPack(file) {
    const response = await fetch(new URL("./" + file, import.meta.url));
    if (!response.ok) throw new Error(\`\${file}: HTTP \${response.status}\`);
    const bytes = await response.arrayBuffer();
    const headerLength = new DataView(bytes).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(bytes, 4, headerLength)));
    return { files: header, bytes, start: 4 + headerLength };
}
/** While a page's load starts, chunks that are not loaded yet come from its pack, fetched once if any. */
function withRoutePack(pageFile, load) {
    return () => {
        let pack = undefined;
        openPack = () => (pack ??= readPack(routePacks[pageFile]));
        try {
            return load();
        } finally {
            openPack = undefined;
        }
    };
}
function fetchChunk(file) {
    if (openPack === undefined) return Promise.reject(new Error(\`\${file}: a chunk loads only with its page\`));
    return openPack().then((pack) => {
        const slot = pack.files[file];
        if (slot === undefined) throw new Error(\`\${file} is missing from its page's pack\`);
        return new Response(new Uint8Array(pack.bytes, pack.start + slot[0], slot[1]), {
            headers: { "Content-Type": "application/wasm" },
        });
    });
}
`;
}

/**
 * Writes a pack per page into `dir` (the splitter's output after wasm-opt), rewrites the
 * loader there to use them, and removes the chunk files the packs now hold.
 */
export function writeRoutePacks(dir) {
  const loaderPath = join(dir, LOADER);
  const source = readFileSync(loaderPath, 'utf8');
  const loaders = parseLoaders(source);
  const pages = [...source.matchAll(PAGE_EXPORT)].map((m) => m[1]);
  if (pages.length === 0) throw new Error(`${LOADER}: no page loaders found`);

  const packOfPage = {};
  const packed = new Set();
  for (const page of pages) {
    const header = {};
    const parts = [];
    let offset = 0;
    for (const file of closure(loaders, page)) {
      const bytes = readFileSync(join(dir, file));
      header[file] = [offset, bytes.length];
      packed.add(file);
      parts.push(bytes);
      offset += bytes.length;
    }
    const headerBytes = Buffer.from(JSON.stringify(header));
    const headerLength = Buffer.alloc(4);
    headerLength.writeUInt32LE(headerBytes.length);
    const pack = Buffer.concat([headerLength, headerBytes, ...parts]);
    const pageFile = loaders.get(page).file;
    // The pkg directory's name already changes with any byte of it.
    const packFile = pageFile.replace(/\.wasm$/, '.pack');
    writeFileSync(join(dir, packFile), pack);
    packOfPage[pageFile] = packFile;
  }

  let rewritten = source.replace(FETCH, (_, file) => `fetchChunk(${JSON.stringify(file)})`);
  // `export const page = wrapAsyncCb(makeLoad(…, [deps]));` → `…(withRoutePack("page file", makeLoad(…, [deps])));`
  for (const page of pages) {
    const start = rewritten.indexOf(`export const ${page} = wrapAsyncCb(makeLoad(`);
    const end = rewritten.indexOf(']));', start);
    if (start < 0 || end < 0) throw new Error(`${LOADER}: cannot find the end of ${page}`);
    const statement = rewritten.slice(start, end + 4)
      .replace('wrapAsyncCb(makeLoad(', `wrapAsyncCb(withRoutePack(${JSON.stringify(loaders.get(page).file)}, makeLoad(`)
      .replace(/\]\)\);$/, '])));');
    rewritten = rewritten.slice(0, start) + statement + rewritten.slice(end + 4);
  }
  const firstFunction = rewritten.indexOf('\nfunction ');
  rewritten = rewritten.slice(0, firstFunction) + runtime(packOfPage) + rewritten.slice(firstFunction);
  writeFileSync(loaderPath, rewritten);
  for (const file of packed) rmSync(join(dir, file));
}
