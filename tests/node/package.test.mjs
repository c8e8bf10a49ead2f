// The npm package as a plugin author gets it: packed with `npm pack`,
// installed from the tarball into a new project, imported by name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { EDR_FREEZE, SAMPLE, installPackedPackage, root } from './helpers/package.mjs';

const NDJSON = join(root, 'tests/data/otrf/otrf_eid10_nearmiss_subset.jsonl');
const LARGE = join(root, 'tests/data/otrf/rdp_interactive_taskmanager_lsass_dump_2020-09-22043748.json');

let project;
let files;
/** The package's Node entry, loaded from the installed copy. */
let sigma;

before(async () => {
  ({ project, files } = installPackedPackage({ prefix: 'sigma-edge-plugin-' }));
  const entry = createRequire(join(project, 'index.js')).resolve('sigma-edge');
  sigma = await import(pathToFileURL(entry).href);
});

after(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

/** Runs `node FILE` in the project and returns its stdout, failing on a non-zero exit. */
function runInProject(file, source) {
  writeFileSync(join(project, file), source);
  const result = spawnSync(process.execPath, [file], { cwd: project, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

test('package.json declares entries and types', () => {
  const manifest = JSON.parse(readFileSync(join(project, 'node_modules/sigma-edge/package.json'), 'utf8'));
  assert.equal(manifest.name, 'sigma-edge');
  assert.equal(manifest.type, 'module');
  assert.equal(manifest.types, './index.d.ts');
  assert.deepEqual(Object.keys(manifest.exports['.']), ['types', 'workerd', 'node', 'browser', 'default']);
  assert.deepEqual(manifest.dependencies, undefined);
  for (const file of ['index.d.ts', 'sigma_edge.d.ts', 'node.js', 'workerd.js', 'browser.js', 'sigma_edge_bg.wasm', 'README.md', 'LICENSE-MIT', 'LICENSE-APACHE', 'LICENSE-SigmaHQ.md']) {
    assert.ok(files.includes(file), `the tarball lacks ${file}`);
  }
});

test('ESM import finds EDR-Freeze in three lines', () => {
  const stdout = runInProject('plugin.mjs', `
import { readFileSync } from 'node:fs';
import { evaluate } from 'sigma-edge';
const matches = evaluate(readFileSync(${JSON.stringify(SAMPLE + '.json')}, 'utf8'));
console.log(JSON.stringify(matches.map((m) => [m.ruleId, m.recordId])));
`);
  assert.deepEqual(JSON.parse(stdout), [[EDR_FREEZE, 445923]]);
});

test('CommonJS loads it with require and import()', () => {
  const canRequireEsm = process.features.require_module === true;
  const stdout = runInProject('plugin.cjs', `
const { readFileSync } = require('node:fs');
const event = JSON.parse(readFileSync(${JSON.stringify(SAMPLE + '.json')}, 'utf8'));
const found = [];
if (${canRequireEsm}) found.push(require('sigma-edge').evaluate(event)[0].ruleId);
import('sigma-edge').then(({ evaluate }) => {
  found.push(evaluate(event)[0].ruleId);
  console.log(JSON.stringify(found));
});
`);
  const expected = canRequireEsm ? [EDR_FREEZE, EDR_FREEZE] : [EDR_FREEZE];
  assert.deepEqual(JSON.parse(stdout), expected);
});

test('TypeScript declarations type-check a plugin', () => {
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: [],
    },
    files: ['plugin.ts'],
  }));
  writeFileSync(join(project, 'plugin.ts'), `
import { evaluate, init, Engine, InvalidInputError, SigmaEdgeError, type Match, type ScanSummary, type RuleInfo } from 'sigma-edge';

await init();
const matches: Match[] = evaluate({ EventID: 10 });
const recordId: number | null | undefined = matches[0]?.recordId;
const start: number | null | undefined = matches[0]?.reasons[0]?.start;

const engine = new Engine({ rules: [{ name: 'mine.yml', yaml: '' }], defaultRules: true, strict: false });
const rules: RuleInfo[] = engine.rules();
const batches: Match[][] = engine.evaluateBatch([{}, '{}']);
const scan = engine.scan(new Uint8Array(0), { file: 'x.evtx', maxWarnings: 5, onWarning: (warning) => warning.offset });
for await (const match of scan) console.log(match.fields['SourceImage'], match.record);
const summary: ScanSummary = scan.summary;
const all: { matches: Match[]; summary: ScanSummary } = await engine.scan([new Uint8Array(0)]).collect();

try {
  engine.evaluate('{');
} catch (error) {
  if (error instanceof InvalidInputError) console.log(error.code);
  if (error instanceof SigmaEdgeError) console.log(error.message);
}
engine.free();

// @ts-expect-error: the option is \`rules\`
new Engine({ rulez: [] });
// @ts-expect-error: an event is an object or a string
evaluate(5);
console.log(recordId, start, rules, batches, summary, all);
`);
  const tsc = join(root, 'node_modules/.bin/tsc');
  const result = spawnSync(tsc, ['-p', project], { cwd: project, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});

test('wrapper JavaScript matches its declarations', () => {
  // node.js and workerd.js are left out: they need Node's types and a .wasm module import.
  const modules = ['api.js', 'browser.js', 'chunks.js', 'engine.js', 'errors.js', 'runtime.js', 'scan.js'];
  const config = join(project, 'tsconfig.wrapper.json');
  writeFileSync(config, JSON.stringify({
    compilerOptions: {
      allowJs: true, checkJs: true, strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext',
      target: 'es2022', lib: ['es2022', 'dom', 'esnext.disposable'], types: [],
    },
    files: modules.map((file) => `node_modules/sigma-edge/${file}`),
  }));
  const tsc = join(root, 'node_modules/.bin/tsc');
  const result = spawnSync(tsc, ['-p', config], { cwd: project, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});

test('browser entry needs init and accepts bytes', () => {
  const browserEntry = join(project, 'node_modules/sigma-edge/browser.js');
  const wasm = join(project, 'node_modules/sigma-edge/sigma_edge_bg.wasm');
  const stdout = runInProject('browser.mjs', `
import { readFileSync } from 'node:fs';
const { init, evaluate, SigmaEdgeError } = await import(${JSON.stringify(pathToFileURL(browserEntry).href)});
const event = readFileSync(${JSON.stringify(SAMPLE + '.json')}, 'utf8');
let before;
try { evaluate(event); } catch (error) { before = [error instanceof SigmaEdgeError, error.code]; }
await init(readFileSync(${JSON.stringify(wasm)}));
console.log(JSON.stringify({ before, after: evaluate(event)[0].ruleId }));
`);
  assert.deepEqual(JSON.parse(stdout), { before: [true, 'not-initialized'], after: EDR_FREEZE });
});

test('evaluate gives the same matches for object and string', () => {
  const text = readFileSync(`${SAMPLE}.json`, 'utf8');
  const fromString = sigma.evaluate(text);
  const fromObject = sigma.evaluate(JSON.parse(text));
  assert.equal(fromString.length, 1);
  assert.deepEqual(fromObject, fromString);

  const match = fromString[0];
  assert.equal(match.ruleId, EDR_FREEZE);
  assert.equal(match.recordId, 445923);
  assert.equal(match.eventId, 10);
  assert.equal(match.level, 'high');
  assert.equal(match.fields.SourceImage, 'C:\\Windows\\System32\\WerFaultSecure.exe');
  const callTrace = match.reasons.find((reason) => reason.field === 'CallTrace');
  assert.equal(callTrace.value.slice(callTrace.start, callTrace.end), '\\dbgcore.DLL');
});

test('Engine lists rules, warnings and batches', () => {
  const custom = 'title: Mine\nid: mine-1\nlogsource: {product: windows, category: process_access}\n'
    + 'detection:\n  sel:\n    TargetImage|endswith: \\lsass.exe\n  condition: sel\n';
  const broken = 'title: Broken\nid: broken-1\ncorrelation:\n  type: event_count\n  rules: [mine-1]\n  timespan: 1h\n  condition: {gte: 5}\n';
  const engine = new sigma.Engine({ rules: [{ name: 'mine.yml', yaml: custom }, broken], defaultRules: false });

  assert.deepEqual(engine.rules().map((rule) => [rule.id, rule.file, rule.logsource.category]), [['mine-1', 'mine.yml', 'process_access']]);
  assert.deepEqual(engine.warnings.map((warning) => [warning.file, warning.ruleId, warning.code]), [['rules[1]', 'broken-1', 'unsupported']]);

  const event = { EventID: 10, Channel: 'Microsoft-Windows-Sysmon/Operational', TargetImage: 'C:\\Windows\\System32\\lsass.exe' };
  const batches = engine.evaluateBatch([event, JSON.stringify(event), { EventID: 1 }]);
  assert.deepEqual(batches.map((matches) => matches.map((match) => match.ruleId)), [['mine-1'], ['mine-1'], []]);
  engine.free();
});

test('Engine fills placeholders of expand rules', () => {
  const rule = 'title: Admin logon\nid: admin-1\nlogsource: {product: windows, service: security}\n'
    + "detection:\n  sel:\n    TargetUserName|expand: '%Administrators%'\n  condition: sel\n";
  const unset = new sigma.Engine({ rules: [rule], defaultRules: false });
  assert.deepEqual(unset.warnings.map((warning) => warning.code), ['placeholder']);
  unset.free();

  const engine = new sigma.Engine({ rules: [rule], defaultRules: false, placeholders: { Administrators: ['adm_*'] } });
  assert.deepEqual(engine.warnings, []);
  const matches = engine.evaluate({ EventID: 4624, Channel: 'Security', TargetUserName: 'ADM_alice' });
  assert.deepEqual(matches.map((match) => match.ruleId), ['admin-1']);
  engine.free();
});

test('errors are classes a caller can tell apart', () => {
  const { SigmaEdgeError, SigmaRuleError, InvalidInputError, UnsupportedFormatError, Engine, evaluate } = sigma;

  assert.throws(() => new Engine({ rules: ['title: x'], strict: true }), (error) => {
    assert.ok(error instanceof SigmaRuleError);
    assert.ok(error instanceof SigmaEdgeError);
    assert.equal(error.name, 'SigmaRuleError');
    assert.equal(error.code, 'missing');
    assert.match(error.message, /^rules\[0\]: missing required key 'detection'/);
    return true;
  });

  assert.throws(() => evaluate('{"EventID": 10'), { name: 'InvalidInputError', code: 'invalid-event' });
  assert.throws(() => evaluate('[1, 2]'), InvalidInputError);
  assert.throws(() => evaluate(5), { name: 'TypeError', code: 'invalid-event' });
  assert.throws(() => new Engine({ rulez: [] }), { name: 'TypeError', code: 'invalid-options' });

  const circular = { EventID: 10 };
  circular.self = circular;
  assert.throws(() => evaluate(circular), { name: 'InvalidInputError', code: 'invalid-event' });

  const engine = new Engine();
  assert.throws(() => engine.evaluateBatch([{}, 7]), { name: 'TypeError', message: /^event 1: / });
  engine.free();
  assert.throws(() => engine.rules(), { name: 'SigmaEdgeError', code: 'freed' });
  engine.free();

  assert.ok(UnsupportedFormatError.prototype instanceof InvalidInputError);
  assert.ok(InvalidInputError.prototype instanceof SigmaEdgeError);
});

test('scan rejects text in no supported format', async () => {
  const engine = new sigma.Engine();
  const scan = engine.scan(new TextEncoder().encode('just some notes\n'), { file: 'notes.txt' });
  await assert.rejects(scan.collect(), (error) => {
    assert.ok(error instanceof sigma.UnsupportedFormatError);
    assert.equal(error.code, 'unknown-format');
    assert.match(error.message, /^notes\.txt: unknown format/);
    return true;
  });
  assert.equal(scan.done, true);
  assert.throws(() => engine.scan('Sysmon.evtx'), { name: 'TypeError', code: 'invalid-input', message: /TextEncoder/ });
});

test('scan reads bytes, streams and iterables alike', async () => {
  const engine = new sigma.Engine();
  const evtx = readFileSync(`${SAMPLE}.evtx`);
  const inputs = {
    buffer: evtx,
    arrayBuffer: evtx.buffer.slice(evtx.byteOffset, evtx.byteOffset + evtx.byteLength),
    blob: new Blob([evtx]),
    readableStream: new Blob([evtx]).stream(),
    nodeStream: createReadStream(`${SAMPLE}.evtx`, { highWaterMark: 4096 }),
    chunks: [evtx.subarray(0, 5000), evtx.subarray(5000)],
  };
  for (const [kind, input] of Object.entries(inputs)) {
    const scan = engine.scan(input, { file: 'sample.evtx' });
    const matches = [];
    for await (const match of scan) matches.push(match);
    assert.deepEqual(matches.map((m) => [m.ruleId, m.recordId, m.file, m.record, m.offset]), [[EDR_FREEZE, 445923, 'sample.evtx', 1, 4608]], kind);
    const summary = { file: 'sample.evtx', format: 'evtx', bytes: evtx.length, records: 1, recordsSkipped: 0, matches: 1, warnings: 0 };
    assert.deepEqual(scan.summary, summary, kind);
  }
  engine.free();
});

test('scan with small chunks matches evaluate per line', async () => {
  const text = readFileSync(NDJSON, 'utf8');
  const lines = text.split('\n').filter(Boolean);
  const expected = lines.flatMap((line) => sigma.evaluate(line).map((match) => [match.ruleId, match.recordId]));
  assert.equal(expected.length, 3);

  // 97 bytes: records and UTF-8 sequences end up split across chunks.
  async function* smallChunks() {
    const bytes = new TextEncoder().encode(text);
    for (let i = 0; i < bytes.length; i += 97) yield bytes.subarray(i, i + 97);
  }
  const engine = new sigma.Engine();
  const { matches, summary } = await engine.scan(smallChunks()).collect();
  assert.deepEqual(matches.map((match) => [match.ruleId, match.recordId]), expected);
  assert.equal(summary.records, lines.length);
  assert.equal(summary.file, 'input');
  engine.free();
});

test('scan splits a large buffer and ends with the summary', async () => {
  const bytes = readFileSync(LARGE);
  assert.ok(bytes.length > 4 << 20);
  const engine = new sigma.Engine();
  const scan = engine.scan(bytes, { file: 'large.json' });
  const result = await scan.next();
  assert.equal(result.done, true);
  assert.equal(result.value, scan.summary);
  assert.equal(result.value.file, 'large.json');
  assert.equal(result.value.bytes, bytes.length);
  assert.equal(result.value.records, 5489);
  assert.equal(result.value.matches, 0);
  assert.deepEqual(await scan.next(), result);
  engine.free();
});

test('scan matches the same with prefilter off', async () => {
  const bytes = readFileSync(NDJSON);
  const engine = new sigma.Engine();
  const on = await engine.scan(bytes).collect();
  const off = await engine.scan(bytes, { prefilter: false }).collect();
  assert.equal(on.matches.length, 3);
  assert.deepEqual(off.matches, on.matches);
  assert.ok(on.summary.recordsSkipped > 0);
  assert.equal(off.summary.recordsSkipped, 0);
  assert.equal(off.summary.records, on.summary.records);
  engine.free();
});

test('scan rejects unknown or mistyped options', () => {
  const engine = new sigma.Engine();
  const bytes = new Uint8Array(0);
  assert.throws(() => engine.scan(bytes, { fileName: 'x' }), { name: 'TypeError', code: 'invalid-options', message: /unknown scan option 'fileName'/ });
  assert.throws(() => engine.scan(bytes, { prefilter: 'no' }), { name: 'TypeError', message: /'prefilter' must be a boolean/ });
  assert.throws(() => engine.scan(bytes, { maxWarnings: -1 }), { name: 'TypeError', message: /'maxWarnings' must be an integer/ });
  assert.throws(() => engine.scan(bytes, { onWarning: true }), { name: 'TypeError', message: /'onWarning' must be a function/ });
  engine.free();
});

test('scan reports damaged records as warnings', async () => {
  const good = readFileSync(`${SAMPLE}.json`, 'utf8').replace(/\s*\n\s*/g, '');
  // The damaged lines name WerFaultSecure.exe, so the prefilter parses them.
  const bad = '{"SourceImage": "C:\\\\Windows\\\\System32\\\\WerFaultSecure.exe", broken';
  const input = [good, bad, bad, good].join('\n') + '\n';
  const seen = [];
  const engine = new sigma.Engine();
  const scan = engine.scan([input], { file: 'events.ndjson', maxWarnings: 1, onWarning: (warning) => seen.push(warning) });
  const { matches, warnings, summary } = await scan.collect();

  assert.deepEqual(matches.map((match) => match.record), [1, 4]);
  assert.equal(seen.length, 2);
  assert.deepEqual(warnings, seen.slice(0, 1));
  assert.deepEqual(seen.map((warning) => [warning.file, warning.record, warning.offset]), [
    ['events.ndjson', 2, Buffer.byteLength(good) + 1],
    ['events.ndjson', 3, Buffer.byteLength(good) + 1 + bad.length + 1],
  ]);
  assert.match(seen[0].message, /^invalid JSON/);
  assert.equal(summary.warnings, 2);
  engine.free();
});

test('leaving a scan early cancels its input', async () => {
  const evtx = readFileSync(`${SAMPLE}.evtx`);
  let cancelled = false;
  let pulls = 0;
  const stream = new ReadableStream({
    pull(controller) {
      pulls++;
      controller.enqueue(new Uint8Array(evtx));
    },
    cancel() {
      cancelled = true;
    },
  });
  const engine = new sigma.Engine();
  const scan = engine.scan(stream, { file: 'endless.evtx' });
  for await (const match of scan) {
    assert.equal(match.ruleId, EDR_FREEZE);
    break;
  }
  assert.equal(cancelled, true);
  assert.equal(scan.done, true);
  assert.ok(pulls <= 3, `pulled ${pulls} chunks`);
  assert.deepEqual(await scan.next(), { done: true, value: scan.summary });
  engine.free();
});

test('scan keeps working after its Engine is freed', async () => {
  const engine = new sigma.Engine();
  const scan = engine.scan(readFileSync(`${SAMPLE}.evtx`));
  engine.free();
  const { matches } = await scan.collect();
  assert.deepEqual(matches.map((match) => match.ruleId), [EDR_FREEZE]);
});
