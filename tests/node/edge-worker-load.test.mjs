// The example edge worker in workerd under load: many concurrent requests,
// good and bad bodies mixed, against one worker on 127.0.0.1. Each response
// must equal the one the same package gives in Node for that body alone,
// and no request may get a 500.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

import { EDR_FREEZE, SAMPLE, root } from './helpers/package.mjs';
import { startPackedWorker, stopPackedWorker } from './helpers/workerd.mjs';

/** Requests sent in all, and how many are in flight at once. */
const REQUESTS = 600;
const CONCURRENCY = 32;
/** How long one request may take before the test fails. */
const REQUEST_TIMEOUT_MS = 60_000;

const FORMATS = join(root, 'tests/data/formats');
const EVTX = readFileSync(`${SAMPLE}.evtx`);
const SAMPLE_LINE = JSON.stringify(JSON.parse(readFileSync(`${SAMPLE}.json`, 'utf8')));

/**
 * The bodies: every supported format with the EDR-Freeze events, and
 * damaged or unreadable input, with the number of matches and warnings each
 * must give, or the error code of a body the worker rejects with 400. A
 * damaged NDJSON line or a deep array with no literal of the rules is
 * skipped unparsed by the prefilter, so it gives no warning.
 */
const BODIES = [
  { name: 'sample.evtx', body: EVTX, matches: 1, warnings: 0 },
  { name: 'sample.json', body: Buffer.from(SAMPLE_LINE), matches: 1, warnings: 0 },
  { name: 'edr-freeze.ndjson', body: readFileSync(join(FORMATS, 'edr-freeze.ndjson')), matches: 7, warnings: 0 },
  { name: 'edr-freeze.events.xml.gz', body: readFileSync(join(FORMATS, 'edr-freeze.events.xml.gz')), matches: 7, warnings: 0 },
  { name: 'edr-freeze.csv', body: readFileSync(join(FORMATS, 'edr-freeze.csv')), matches: 7, warnings: 0 },
  { name: 'edr-freeze.utf16le.xml', body: readFileSync(join(FORMATS, 'edr-freeze.utf16le.xml')), matches: 7, warnings: 0 },
  { name: 'many.ndjson.gz', body: gzipSync(`${SAMPLE_LINE}\n`.repeat(500)), matches: 500, warnings: 0 },
  { name: 'truncated.evtx', body: EVTX.subarray(0, 3000), matches: 0, warnings: 1 },
  { name: 'cut-in-record.evtx', body: EVTX.subarray(0, EVTX.length - 100), matches: 1, warnings: 1 },
  { name: 'bad-line.ndjson', body: Buffer.from(`${SAMPLE_LINE}\n{"EventID": 10,\n${SAMPLE_LINE}\n`), matches: 2, warnings: 0 },
  {
    name: 'bad-line-with-literal.ndjson',
    body: Buffer.from(`${SAMPLE_LINE}\n{"SourceImage": "WerFaultSecure.exe", "TargetImage": "MsMpEng.exe", "CallTrace": "dbgcore.dll",\n${SAMPLE_LINE}\n`),
    matches: 2,
    warnings: 1,
  },
  { name: 'deep.json', body: Buffer.from('['.repeat(50_000) + ']'.repeat(50_000)), matches: 0, warnings: 0 },
  { name: 'evtx-magic-garbage.evtx', body: Buffer.concat([Buffer.from('ElfFile\0'), Buffer.alloc(70_000, 0xa5)]), matches: 0, warnings: 2 },
  { name: 'notes.txt', body: Buffer.from('just some notes\n'), code: 'unknown-format' },
  { name: 'empty', body: Buffer.alloc(0), code: 'empty-body' },
];

let running;
let worker;
let base;
/** The package as the worker imports it, run in Node for the expected responses. */
let pkg;

before(async () => {
  running = await startPackedWorker('sigma-edge-worker-load-');
  ({ worker, base } = running);
  pkg = await import(pathToFileURL(join(running.project, 'node_modules/sigma-edge/node.js')).href);
});

after(() => stopPackedWorker(running));

/**
 * Scans `body` with the package in Node and returns the response the worker
 * must give: status 200 with its matches, warnings and stats, or 400 with
 * the error code of unreadable or empty input.
 */
async function expectedResponse(engine, name, body) {
  if (body.length === 0) return { status: 400, code: 'empty-body' };
  const run = engine.scan(body, { file: name, maxWarnings: 100 });
  const matches = [];
  try {
    for await (const match of run) matches.push(match);
  } catch (error) {
    assert.ok(error instanceof pkg.InvalidInputError, `${name}: ${error}`);
    return { status: 400, code: error.code };
  }
  return { status: 200, matches, warnings: run.warnings, stats: { ...run.summary, truncated: false } };
}

/** Sends one body to POST /scan and returns the status and parsed JSON. */
async function post(name, body) {
  const response = await fetch(`${base}/scan?file=${encodeURIComponent(name)}`, {
    method: 'POST',
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: response.status, body: await response.json() };
}

/** Checks one worker response against the expected response for its body. */
function assertResponse(response, expected, label) {
  assert.notEqual(response.status, 500, `${label}: ${JSON.stringify(response.body)}`);
  assert.equal(response.status, expected.status, `${label}: ${JSON.stringify(response.body)}`);
  if (expected.status === 200) {
    assert.deepEqual(response.body, { matches: expected.matches, warnings: expected.warnings, stats: expected.stats }, label);
  } else {
    assert.equal(response.body.error.code, expected.code, label);
  }
}

test('expected responses have the known counts', async () => {
  const engine = new pkg.Engine();
  for (const { name, body, ...known } of BODIES) {
    const expected = await expectedResponse(engine, name, body);
    if ('code' in known) {
      assert.deepEqual(expected, { status: 400, code: known.code }, name);
      continue;
    }
    assert.equal(expected.status, 200, name);
    assert.equal(expected.matches.length, known.matches, `${name}: matches`);
    assert.equal(expected.warnings.length, known.warnings, `${name}: warnings`);
  }
});

test('concurrent mixed requests all get the right response', { timeout: 300_000 }, async () => {
  const engine = new pkg.Engine();
  const expected = [];
  for (const { name, body } of BODIES) expected.push(await expectedResponse(engine, name, body));
  const statuses = new Set(expected.map((response) => response.status));
  assert.deepEqual([...statuses].sort(), [200, 400], 'the bodies include good and bad input');

  // Request i sends body i mod n, so every body is in flight beside every other.
  let next = 0;
  const counts = new Map();
  async function client() {
    while (next < REQUESTS) {
      const index = next++;
      const bodyIndex = index % BODIES.length;
      const { name, body } = BODIES[bodyIndex];
      const response = await post(name, body);
      assertResponse(response, expected[bodyIndex], `request ${index} (${name})`);
      counts.set(response.status, (counts.get(response.status) ?? 0) + 1);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, client));

  for (const status of [200, 400]) {
    let sent = 0;
    for (let index = 0; index < REQUESTS; index++) {
      if (expected[index % BODIES.length].status === status) sent++;
    }
    assert.equal(counts.get(status), sent, `responses with status ${status}`);
  }
});

test('worker still responds and logged no internal error after the load', async () => {
  const { status, body } = await post('sample.evtx', EVTX);
  assert.equal(status, 200);
  assert.deepEqual(body.matches.map((match) => [match.ruleId, match.recordId]), [[EDR_FREEZE, 445923]]);
  assert.doesNotMatch(worker.output.text, /internal error/);
});
