// Measures evaluate() per event through the npm package in Node, on JS
// objects and on JSON strings, and writes the figures into docs/BENCHMARKS.md
// ("evaluate() per event").
//
// Usage: node pkg-scripts/bench-evaluate.mjs [ROUNDS]   (default 15)
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import { evaluate, Engine } from '../pkg/node.js';
import * as glue from '../pkg/sigma_edge.js';
import { writeSection, machineLine } from './doc-section.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FILE = join(root, 'tests/data/otrf/rdp_interactive_taskmanager_lsass_dump_2020-09-22043748.json');
const rounds = Number(process.argv[2] ?? 15);

const lines = readFileSync(FILE, 'utf8').split('\n').filter(Boolean);
const objects = lines.map((line) => JSON.parse(line));
const engine = new Engine();

/** The ways of evaluating one event that are compared; each returns its match count. */
const CASES = [
  ['`evaluate(object)`: the package, which calls `JSON.stringify` first', (i) => evaluate(objects[i]).length],
  ['`evaluate(string)`: the package, JSON text as read from the file', (i) => evaluate(lines[i]).length],
  ['`engine.evaluate(object)`: an `Engine` with the default rules', (i) => engine.evaluate(objects[i]).length],
  ['glue `evaluate(object)`: the wasm export, which calls `JSON.stringify` through js-sys', (i) => glue.evaluate(objects[i]).length],
  ['`JSON.stringify(object)` alone', (i) => JSON.stringify(objects[i]).length],
];

/**
 * Runs `run` over every event once and returns microseconds per event: the
 * process's CPU time (user and system), which other processes on the same
 * cores disturb less than the wall-clock time, and the wall-clock time.
 */
function pass(run) {
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  for (let i = 0; i < lines.length; i++) run(i);
  const wall = ((performance.now() - wallStart) * 1000) / lines.length;
  const cpu = process.cpuUsage(cpuStart);
  return { cpu: (cpu.user + cpu.system) / lines.length, wall };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const machine = await machineLine();
for (const [, run] of CASES) pass(run);

// Rounds run every case once, in turn, so a burst of load from other
// processes falls on all cases alike.
const samples = CASES.map(() => ({ cpu: [], wall: [] }));
for (let round = 0; round < rounds; round++) {
  CASES.forEach(([, run], index) => {
    const { cpu, wall } = pass(run);
    samples[index].cpu.push(cpu);
    samples[index].wall.push(wall);
  });
}
const results = CASES.map(([name], index) => ({
  name,
  cpu: median(samples[index].cpu),
  wall: median(samples[index].wall),
}));
for (const result of results) {
  process.stderr.write(`bench-evaluate: ${result.name}: ${result.cpu.toFixed(1)} µs/event CPU, ${result.wall.toFixed(1)} wall\n`);
}

const bytes = lines.reduce((total, line) => total + Buffer.byteLength(line), 0);
const [object, string, , glueObject] = results;
const markdown = `## evaluate() per event

Measured ${new Date().toISOString().slice(0, 10)} by \`pkg-scripts/bench-evaluate\` on ${machine}.
Each case evaluates the ${lines.length.toLocaleString('en')} events of \`${relative(root, FILE)}\` (one JSON object per line, ${Math.round(bytes / lines.length).toLocaleString('en')} bytes on average, none matching) one call at a time against the 6 default rules. After one warm-up pass per case, ${rounds} rounds run every case once in turn; the figures are medians over the rounds. CPU time is this process's user and system time, which load from other processes on the same cores disturbs less than wall-clock time.

| case | µs/event, CPU | µs/event, wall clock |
|---|---:|---:|
${results.map((result) => `| ${result.name} | ${result.cpu.toFixed(1)} | ${result.wall.toFixed(1)} |`).join('\n')}

By CPU time, an object costs ${(object.cpu / string.cpu).toFixed(2)}× a JSON string through the package, because it is converted with \`JSON.stringify\` first. Given to the wasm export directly, which converts it the same way, it costs ${(glueObject.cpu / object.cpu).toFixed(2)}× the package's object path.
`;
writeSection(join(root, 'docs/BENCHMARKS.md'), 'bench-evaluate', markdown);
process.stderr.write('bench-evaluate: wrote docs/BENCHMARKS.md\n');
