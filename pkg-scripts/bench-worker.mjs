// Measures the example edge worker: the size of what it uploads (the wasm
// module and the JS modules workerd loads) and the time from starting
// workerd to its first 200 response, and writes the figures into
// docs/BENCHMARKS.md ("Edge worker").
//
// Usage: node pkg-scripts/bench-worker.mjs [STARTS]   (default 5)
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';

import { SAMPLE, installPackedPackage, root } from '../tests/node/helpers/package.mjs';
import { WORKERD, freePort, startWorker, stopWorker } from '../tests/node/helpers/workerd.mjs';
import { writeSection, machineLine } from './doc-section.mjs';

const starts = Number(process.argv[2] ?? 5);

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** Returns the CPU time (user and system) a process has used so far, in ms, from /proc (Linux). */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Returns the modules config.capnp embeds, as paths relative to the project. */
function embeddedModules(config) {
  return [...config.matchAll(/embed "([^"]+)"/g)].map((match) => match[1]);
}

function sizes(paths, project) {
  const bytes = paths.map((path) => readFileSync(join(project, path)));
  const raw = bytes.reduce((total, data) => total + data.length, 0);
  const gzipped = bytes.reduce((total, data) => total + gzipSync(data, { level: 9 }).length, 0);
  return { raw, gzipped };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const format = (n) => Math.round(n).toLocaleString('en');

const { project } = installPackedPackage({ prefix: 'sigma-edge-bench-worker-' });
const machine = await machineLine();
const firstResponse = [];
const firstResponseCpu = [];
const firstScan = [];
const secondScan = [];

/** Returns the milliseconds of one POST /scan of the EVTX sample, to the parsed response. */
async function timeScan(port) {
  const body = readFileSync(`${SAMPLE}.evtx`);
  const start = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}/scan`, { method: 'POST', body });
  await response.json();
  if (response.status !== 200) throw new Error(`POST /scan returned ${response.status}`);
  return performance.now() - start;
}
let modules;
try {
  for (let run = 0; run < starts; run++) {
    const port = await freePort();
    const worker = await startWorker(project, port);
    try {
      firstResponse.push(worker.firstResponseMs);
      firstResponseCpu.push(cpuMs(worker.child.pid));
      firstScan.push(await timeScan(port));
      secondScan.push(await timeScan(port));
    } finally {
      await stopWorker(worker.child);
    }
    process.stderr.write(`bench-worker: start ${run + 1}: first 200 after ${firstResponse.at(-1).toFixed(0)} ms\n`);
  }
  modules = embeddedModules(readFileSync(join(project, 'config.capnp'), 'utf8'));
} finally {
  rmSync(project, { recursive: true, force: true });
}

// The sizes come from the package and the example as installed.
const wasmPath = join(root, 'pkg/sigma_edge_bg.wasm');
const wasm = sizes([wasmPath], '/');
const jsPaths = modules.filter((path) => path.endsWith('.js')).map((path) =>
  path === 'worker.js' ? join(root, 'examples/edge-worker/worker.js') : join(root, 'pkg', path.replace('node_modules/sigma-edge/', '')));
const js = sizes(jsPaths, '/');
const workerdVersion = JSON.parse(readFileSync(join(root, 'node_modules/workerd/package.json'), 'utf8')).version;

const markdown = `## Edge worker

Measured ${new Date().toISOString().slice(0, 10)} by \`pkg-scripts/bench-worker\` on ${machine}, workerd ${workerdVersion} (npm package), serving \`examples/edge-worker\` with the packed package installed.

| what | raw | gzip -9 |
|---|---:|---:|
| wasm module (\`sigma_edge_bg.wasm\`) | ${format(wasm.raw)} B | ${format(wasm.gzipped)} B |
| JS: the worker and the ${jsPaths.length - 1} package modules it loads | ${format(js.raw)} B | ${format(js.gzipped)} B |
| total | ${format(wasm.raw + js.raw)} B | ${format(wasm.gzipped + js.gzipped)} B |

The JS gzip figure adds up each module compressed on its own.

| ${starts} cold starts | median | fastest | slowest |
|---|---:|---:|---:|
| start of \`workerd serve\` to the first 200 (\`GET /rules\`, polled every 20 ms) | ${format(median(firstResponse))} ms | ${format(Math.min(...firstResponse))} ms | ${format(Math.max(...firstResponse))} ms |
| CPU time workerd used until then (user and system, ${format(1000 / CLOCK_TICKS)} ms steps) | ${format(median(firstResponseCpu))} ms | ${format(Math.min(...firstResponseCpu))} ms | ${format(Math.max(...firstResponseCpu))} ms |
| then the first \`POST /scan\` of the EDR-Freeze EVTX sample (69,632 B), request to parsed response | ${format(median(firstScan))} ms | ${format(Math.min(...firstScan))} ms | ${format(Math.max(...firstScan))} ms |
| then a second \`POST /scan\` of the same sample | ${format(median(secondScan))} ms | ${format(Math.min(...secondScan))} ms | ${format(Math.max(...secondScan))} ms |

The first 200 includes starting the workerd process, compiling the wasm module, and compiling the 6 default rules at the worker's top level. The first scan takes longer than the second. V8 compiles wasm functions lazily by default and optimises hot ones as they run, which would explain it, but this was not profiled.
`;
writeSection(join(root, 'docs/BENCHMARKS.md'), 'bench-worker', markdown);
process.stderr.write(`bench-worker: wrote docs/BENCHMARKS.md (workerd at ${WORKERD})\n`);
