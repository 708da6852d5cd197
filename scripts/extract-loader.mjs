// Trunk post-build hook: moves the inline module script trunk writes into index.html (the
// wasm loader) into its own file, so the dashboard runs under a Content-Security-Policy
// with no inline script at all.
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error('TRUNK_STAGING_DIR is not set: run this as a trunk hook');
const indexPath = join(dir, 'index.html');
const html = readFileSync(indexPath, 'utf8');
const inline = /<script type="module">([\s\S]*?)<\/script>/;
const match = html.match(inline);
if (!match) throw new Error('no inline module script in index.html');
const body = match[1].trim() + '\n';
const name = `boot-${createHash('sha256').update(body).digest('hex').slice(0, 16)}.js`;
writeFileSync(join(dir, name), body);
writeFileSync(indexPath, html.replace(inline, `<script type="module" src="/${name}"></script>`));
if (/<script(?![^>]*\bsrc=)[^>]*>/.test(readFileSync(indexPath, 'utf8'))) {
  throw new Error('index.html still holds an inline script');
}
