// wasm side of pkg-scripts/bench: one measurement per process, printed as
// a JSON line, so each reports its own peak wasm memory (wasm memory only
// grows, so its size after the run is the peak).
//
// Usage: node pkg-scripts/bench.mjs edr-freeze|family|bare on|off FILE
import { createReadStream, readFileSync, openSync, readSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import { initSync, Engine, countLiteral } from '../pkg/sigma_edge.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PIECE = 1 << 20;
const EDR_FREEZE_LITERAL = 'werfaultsecure.exe';

const [rules, prefilter, file] = process.argv.slice(2);

const moduleStart = performance.now();
const bytes = readFileSync(join(root, 'pkg/sigma_edge_bg.wasm'));
const wasm = initSync({ module: new WebAssembly.Module(bytes) });
const initSeconds = (performance.now() - moduleStart) / 1000;

function isEvtx(path) {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(8);
  readSync(fd, head, 0, 8, 0);
  closeSync(fd);
  return head.toString('latin1') === 'ElfFile\0';
}

async function bare() {
  const utf16 = isEvtx(file);
  const head = Buffer.alloc(PIECE);
  const fd = openSync(file, 'r');
  readSync(fd, head, 0, PIECE, 0);
  closeSync(fd);
  countLiteral(head, EDR_FREEZE_LITERAL, utf16);
  const start = performance.now();
  let hits = 0;
  let total = 0;
  for await (const piece of createReadStream(file, { highWaterMark: PIECE })) {
    hits += countLiteral(piece, EDR_FREEZE_LITERAL, utf16);
    total += piece.length;
  }
  return { bytes: total, matches: hits, seconds: (performance.now() - start) / 1000 };
}

/**
 * Scans the first 8 MiB untimed, with every record parsed, so V8 has
 * compiled the code the timed run uses.
 */
async function warmUp(engine) {
  const scanner = engine.scanner(file, false);
  for await (const piece of createReadStream(file, { highWaterMark: PIECE, end: 8 * PIECE - 1 })) scanner.push(piece);
  scanner.finish();
  scanner.free();
}

async function scan() {
  const engineStart = performance.now();
  const ruleTexts = rules === 'edr-freeze' ? [readFileSync(join(root, 'src/rules/proc_access_win_werfaultsecure_msmpeng_access.yml'), 'utf8')] : [];
  const engine = new Engine({ rules: ruleTexts, defaultRules: rules !== 'edr-freeze' });
  const engineSeconds = (performance.now() - engineStart) / 1000;
  await warmUp(engine);

  const start = performance.now();
  const scanner = engine.scanner(file, prefilter === 'on');
  let matches = 0;
  let firstMatchSeconds = null;
  for await (const piece of createReadStream(file, { highWaterMark: PIECE })) {
    const found = scanner.push(piece).length;
    if (found > 0 && firstMatchSeconds === null) firstMatchSeconds = (performance.now() - start) / 1000;
    matches += found;
  }
  const finished = scanner.finish();
  matches += finished.matches.length;
  const seconds = (performance.now() - start) / 1000;
  const { bytes: total, records, recordsSkipped: skipped, warnings } = finished.summary;
  return { bytes: total, records, skipped, matches, warnings, seconds, firstMatchSeconds, engineSeconds };
}

const result = rules === 'bare' ? await bare() : await scan();
console.log(JSON.stringify({
  runtime: 'wasm',
  file,
  rules,
  prefilter: prefilter === 'on',
  ...result,
  initSeconds,
  peakWasmBytes: wasm.memory.buffer.byteLength,
}));
