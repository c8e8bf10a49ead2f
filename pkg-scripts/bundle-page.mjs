// Writes dist/sigma-edge.html: the log review page as one self-contained
// file that works opened from disk (file://), with no server.
//
// The page's ES modules and the worker are stored in the HTML as data
// blocks. A small inline loader turns each module into a blob: URL,
// dependencies first, with its relative imports rewritten to the blob: URLs
// of its dependencies, then imports the page's entry module.
//
// Chromium does not start module workers from blob: URLs in a file:// page,
// so the worker is a classic script: the wasm-bindgen glue with its exports
// removed, followed by worker.js without its import. www/assets.js is swapped
// for a version that starts that worker and decodes the wasm module from a
// base64 data block. The Content-Security-Policy allows only the inline
// loader and style (by hash) and blob: scripts.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUTPUT = 'dist/sigma-edge.html';
const ENTRY = 'www/main.js';
const WORKER = 'www/worker.js';
const GLUE = 'pkg/sigma_edge.js';
const ASSETS = 'www/assets.js';
const WASM = 'pkg/sigma_edge_bg.wasm';
// The name of the classic worker script, which exists only in the bundle.
const CLASSIC_WORKER = 'www/worker.classic.js';

// A module's reference to another module, in the rewritten sources.
const TOKEN = 'sigma-edge-module:';

const BUNDLED_ASSETS = `// Where dist/sigma-edge.html gets its worker script and its WebAssembly
// module: a classic worker from the blob: URL made by the page's loader, and
// the wasm module from a base64 data block in the HTML file.

export function createWorker(name) {
  return new Worker('${TOKEN}${CLASSIC_WORKER}', { name });
}

export async function compileWasm() {
  const text = document.getElementById('sigma-edge-wasm').textContent.trim();
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return WebAssembly.compile(bytes);
}
`;

const LOADER = `const data = JSON.parse(document.getElementById('sigma-edge-modules').textContent);
const urls = new Map();
for (const { path, source } of data.modules) {
  const linked = source.replaceAll(/${TOKEN}([\\w./-]+)/g, (_, dependency) => urls.get(dependency));
  urls.set(path, URL.createObjectURL(new Blob([linked], { type: 'text/javascript' })));
}
await import(urls.get(data.entry));
`;

// Static imports with a relative specifier: import x from './a.js'; import './b.js';
const IMPORT = /^(\s*import\s+(?:[^'";]*?\s+from\s+)?)(['"])(\.{1,2}\/[^'"]+)\2/gm;

function read(path) {
  return readFileSync(join(root, path), 'utf8');
}

function fail(message) {
  process.stderr.write(`bundle-page: ${message}\n`);
  process.exit(1);
}

/** Loads a module and rewrites its relative imports to tokens; returns its dependencies too. */
function loadModule(path) {
  const source = path === ASSETS ? BUNDLED_ASSETS : read(path);
  if (path !== ASSETS && source.includes(TOKEN)) fail(`${path} contains the reserved text '${TOKEN}'`);
  if (/\bimport\s*\(/.test(source)) fail(`${path} uses a dynamic import(), which the bundle cannot link`);

  const dependencies = [];
  const rewritten = source.replace(IMPORT, (_, head, quote, specifier) => {
    const target = posix.normalize(posix.join(posix.dirname(path), specifier));
    dependencies.push(target);
    return `${head}${quote}${TOKEN}${target}${quote}`;
  });
  return { path, source: rewritten, dependencies };
}

/**
 * Builds the worker as one classic script: the glue without `export`
 * (and with import.meta.url, which only its unused default init reads,
 * replaced), then worker.js without its one import, in its own scope.
 */
function classicWorker() {
  const glue = read(GLUE)
    .replace(/^export (class|function) /gm, '$1 ')
    .replace(/^export \{[^}]*\};?$/m, '')
    .replaceAll('import.meta.url', 'self.location.href');
  if (/^\s*(export|import)\b/m.test(glue) || glue.includes('import.meta')) {
    fail(`${GLUE} has an import or export that the classic worker cannot hold; update classicWorker()`);
  }

  const importGlue = /^import \{[^}]*\} from '\.\.\/pkg\/sigma_edge\.js';\n/m;
  const worker = read(WORKER);
  if (!importGlue.test(worker)) fail(`${WORKER} must import the glue as: import { ... } from '../pkg/sigma_edge.js';`);
  const body = worker.replace(importGlue, '');
  if (/^\s*(export|import)\b/m.test(body)) fail(`${WORKER} may import only the glue, or the classic worker cannot hold it`);

  return { path: CLASSIC_WORKER, source: `${glue}\n(() => {\n${body}\n})();\n`, dependencies: [] };
}

/** Returns every module reachable from the roots, each after its dependencies. */
function collectModules(roots) {
  const ordered = [];
  const state = new Map();
  const visit = (path, chain) => {
    if (state.get(path) === 'done') return;
    if (state.get(path) === 'visiting') fail(`import cycle: ${[...chain, path].join(' -> ')}`);
    state.set(path, 'visiting');
    const module = loadModule(path);
    for (const dependency of module.dependencies) visit(dependency, [...chain, path]);
    state.set(path, 'done');
    ordered.push(module);
  };
  for (const path of roots) visit(path, []);
  return ordered;
}

function sha256(text) {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** JSON that cannot end a <script> element early. */
function scriptJson(value) {
  return JSON.stringify(value).replaceAll('<', '\\u003c');
}

/** Replaces the element that follows `<!-- sigma-edge:NAME -->` in the page. */
function replaceMarked(html, name, replacement) {
  const pattern = new RegExp(`<!-- sigma-edge:${name} -->\\n[^\\n]*\\n`);
  if (!pattern.test(html)) fail(`www/index.html has no '<!-- sigma-edge:${name} -->' line before the element to replace`);
  return html.replace(pattern, () => `${replacement}\n`);
}

function bundle() {
  const modules = [classicWorker(), ...collectModules([ENTRY])];
  const style = read('www/style.css');
  const icon = readFileSync(join(root, 'www/icon.svg')).toString('base64');
  let wasm;
  try {
    wasm = readFileSync(join(root, WASM)).toString('base64');
  } catch (error) {
    fail(`cannot read ${WASM} (${error.code}); run pkg-scripts/build first`);
  }

  const policy = [
    "default-src 'none'",
    `script-src ${sha256(LOADER)} blob: 'wasm-unsafe-eval'`,
    `style-src ${sha256(style)}`,
    'img-src data:',
    'worker-src blob:',
    "connect-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

  const data = {
    entry: ENTRY,
    modules: modules.map(({ path, source }) => ({ path, source })),
  };

  let html = read('www/index.html');
  html = replaceMarked(html, 'csp', `<meta http-equiv="Content-Security-Policy" content="${policy}">`);
  html = replaceMarked(html, 'icon', `<link rel="icon" href="data:image/svg+xml;base64,${icon}">`);
  html = replaceMarked(html, 'style', `<style>${style}</style>`);
  html = replaceMarked(
    html,
    'script',
    [
      `<script type="application/json" id="sigma-edge-modules">${scriptJson(data)}</script>`,
      `<script type="application/octet-stream" id="sigma-edge-wasm">${wasm}</script>`,
      `<script type="module">${LOADER}</script>`,
    ].join('\n'),
  );

  mkdirSync(join(root, dirname(OUTPUT)), { recursive: true });
  writeFileSync(join(root, OUTPUT), html);
  const names = modules.map(({ path }) => path).join(', ');
  process.stderr.write(`bundle-page: ${OUTPUT}: ${html.length} bytes; modules: ${names}\n`);
}

bundle();
