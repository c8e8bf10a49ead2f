// The memory benchmark: scans each file with the bundled rules in a fresh
// Node process, in 1 MiB pieces, and reports the size of the module's
// WebAssembly memory after the scan. Wasm memory grows and never shrinks,
// so that size is the peak of the whole scan.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { initSync, Engine } from '../pkg/sigma_edge.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_CORPUS = '/tmp/formats-corpus';
const CORPUS_FILES = [
  'otrf_k7.evtx', 'otrf_k7.xml', 'otrf_k7.utf16le.xml', 'otrf_k7.jsonl', 'otrf_k7.json',
  'otrf_k7.csv', 'otrf_k7.jsonl.gz', 'otrf_k7.jsonl.zip',
];
const READ_SIZE = 1 << 20;
const MIB = 1 << 20;
const EDR_FREEZE = '387df17d-3b04-448f-8669-9e7fd5e5fd8c';

const USAGE = `Usage: pkg-scripts/memory [--corpus DIR | FILE...]

Scans each FILE with the bundled EDR-Freeze rules through the WebAssembly
module in pkg/, each in a fresh Node process, pushing 1 MiB pieces, and
prints a Markdown table: size, format, records, matches (all rules, and the
EDR-Freeze rule alone), warnings, seconds, and the module's memory right
after start-up and after the scan, in MiB. The size after the scan is the
peak, because WebAssembly memory never shrinks.

  --corpus DIR   scan the files pkg-scripts/make-corpus wrote to DIR
                 (default: ${DEFAULT_CORPUS})`;

/** Scans one file in this process and prints its figures as JSON. */
function measure(file) {
  const wasm = initSync({ module: readFileSync(join(root, 'pkg/sigma_edge_bg.wasm')) });
  const engine = new Engine();
  const scanner = engine.scanner(file);
  const startup = wasm.memory.buffer.byteLength;
  const started = process.hrtime.bigint();

  const buffer = Buffer.alloc(READ_SIZE);
  const fd = openSync(file, 'r');
  let matches = 0;
  let edrFreeze = 0;
  let warnings = 0;
  const count = (found) => {
    matches += found.length;
    edrFreeze += found.filter((m) => m.ruleId === EDR_FREEZE).length;
  };
  for (;;) {
    const read = readSync(fd, buffer, 0, READ_SIZE, null);
    if (read === 0) break;
    count(scanner.push(buffer.subarray(0, read)));
    warnings += scanner.takeWarnings().length;
  }
  closeSync(fd);
  const finished = scanner.finish();
  count(finished.matches);
  warnings += finished.warnings.length;

  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const { bytes, format, records } = finished.summary;
  const peak = wasm.memory.buffer.byteLength;
  const figures = { file, bytes, format, records, matches, edrFreeze, warnings, seconds, startup, peak };
  process.stdout.write(JSON.stringify(figures) + '\n');
}

function row(result) {
  const mib = (value) => (value / MIB).toFixed(1);
  const name = result.file.split('/').pop();
  const size = (result.bytes / 1e6).toFixed(0);
  const rate = (result.bytes / 1e6 / result.seconds).toFixed(0);
  return `| ${name} | ${result.format} | ${size} | ${result.records} | ${result.matches} | ${result.edrFreeze} | ${result.warnings} | ` +
    `${result.seconds.toFixed(1)} (${rate} MB/s) | ${mib(result.startup)} | ${mib(result.peak)} |`;
}

function main(argv) {
  if (argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (argv[0] === '--one') {
    measure(argv[1]);
    return 0;
  }
  let files = argv;
  if (argv.length === 0) {
    files = CORPUS_FILES.map((name) => join(DEFAULT_CORPUS, name));
  } else if (argv[0] === '--corpus') {
    if (!argv[1]) {
      process.stderr.write('error: --corpus needs a folder\n');
      return 2;
    }
    files = CORPUS_FILES.map((name) => join(argv[1], name));
  }


  const missing = files.filter((file) => !existsSync(file) || !statSync(file).isFile());
  if (missing.length > 0) {
    process.stderr.write(`error: not found: ${missing.join(', ')}; build the corpus with pkg-scripts/make-corpus\n`);
    return 2;
  }

  process.stdout.write('| file | format | MB | records | matches | EDR-Freeze | warnings | seconds | start-up MiB | peak MiB |\n');
  process.stdout.write('|---|---|---|---|---|---|---|---|---|---|\n');
  let failed = 0;
  for (const file of files) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one', file], { encoding: 'utf8' });
    if (child.status !== 0) {
      process.stderr.write(`error: ${file}: ${child.stderr || `exit status ${child.status}`}\n`);
      failed++;
      continue;
    }
    process.stdout.write(row(JSON.parse(child.stdout)) + '\n');
  }
  return failed > 0 ? 2 : 0;
}

process.exitCode = main(process.argv.slice(2));
