// The example edge worker in workerd, with the packed package installed the
// way a platform engineer would install it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import { EDR_FREEZE, SAMPLE } from './helpers/package.mjs';
import { startPackedWorker, stopPackedWorker } from './helpers/workerd.mjs';

/** MAX_BODY_BYTES in examples/edge-worker/config.capnp. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

let running;
let worker;
let base;

before(async () => {
  running = await startPackedWorker('sigma-edge-worker-');
  ({ worker, base } = running);
});

after(() => stopPackedWorker(running));

/** Sends a request and returns the status, headers and parsed JSON body. */
async function request(path, init = {}) {
  const response = await fetch(base + path, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? null : JSON.parse(text) };
}

/**
 * Sends POST /scan with node:http and resolves with the response as soon as
 * it arrives, even while the body is still being sent: the worker responds 413
 * without reading the rest, and fetch() may report the closed connection
 * instead of the response. `write` sends the body and is told when the
 * response has arrived.
 */
function postEarlyResponse(headers, write) {
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = http.request(`${base}/scan`, { method: 'POST', headers }, (response) => {
      responded = true;
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (data) => { text += data; });
      response.on('end', () => {
        req.destroy();
        resolve({ status: response.statusCode, body: JSON.parse(text) });
      });
    });
    req.on('error', (error) => {
      if (!responded) reject(error);
    });
    write(req, () => responded).catch(reject);
  });
}

function assertEdrFreezeMatch(body, file, format) {
  assert.equal(body.matches.length, 1);
  const [match] = body.matches;
  assert.equal(match.ruleId, EDR_FREEZE);
  assert.equal(match.recordId, 445923);
  assert.equal(match.eventId, 10);
  assert.equal(match.file, file);
  assert.equal(match.fields.TargetImage.endsWith('\\MsMpEng.exe'), true);
  assert.deepEqual(body.warnings, []);
  assert.equal(body.stats.format, format);
  assert.equal(body.stats.records, 1);
  assert.equal(body.stats.matches, 1);
  assert.equal(body.stats.truncated, false);
}

test('GET /rules lists the bundled rules', async () => {
  const { status, headers, body } = await request('/rules');
  assert.equal(status, 200);
  assert.match(headers.get('content-type'), /^application\/json/);
  assert.equal(body.rules.length, 6);
  const rule = body.rules.find((candidate) => candidate.id === EDR_FREEZE);
  assert.equal(rule.level, 'high');
  assert.deepEqual(rule.logsource, { product: 'windows', category: 'process_access' });
});

test('HEAD /rules has no body', async () => {
  const { status, body } = await request('/rules', { method: 'HEAD' });
  assert.equal(status, 200);
  assert.equal(body, null);
});

test('POST /scan finds EDR-Freeze in the EVTX', async () => {
  const evtx = readFileSync(`${SAMPLE}.evtx`);
  const { status, body } = await request('/scan', { method: 'POST', body: evtx });
  assert.equal(status, 200);
  assertEdrFreezeMatch(body, 'request-body', 'evtx');
  assert.equal(body.stats.bytes, evtx.length);
});

test('POST /scan finds EDR-Freeze in the JSON', async () => {
  const { status, body } = await request('/scan?file=sample.json', { method: 'POST', body: readFileSync(`${SAMPLE}.json`) });
  assert.equal(status, 200);
  assertEdrFreezeMatch(body, 'sample.json', 'json');
});

test('POST /scan reads a chunked body', async () => {
  const evtx = readFileSync(`${SAMPLE}.evtx`);
  let offset = 0;
  const stream = new ReadableStream({
    pull(controller) {
      if (offset >= evtx.length) return controller.close();
      controller.enqueue(evtx.subarray(offset, offset + 1000));
      offset += 1000;
    },
  });
  const { status, body } = await request('/scan', { method: 'POST', body: stream, duplex: 'half' });
  assert.equal(status, 200);
  assertEdrFreezeMatch(body, 'request-body', 'evtx');
});

test('POST /scan rejects unreadable bodies with 400', async () => {
  const text = await request('/scan?file=notes.txt', { method: 'POST', body: 'just some notes\n' });
  assert.equal(text.status, 400);
  assert.equal(text.body.error.code, 'unknown-format');
  assert.match(text.body.error.message, /^notes\.txt: unknown format: expected EVTX, JSON/);

  const empty = await request('/scan', { method: 'POST' });
  assert.equal(empty.status, 400);
  assert.equal(empty.body.error.code, 'empty-body');
});

test('POST /scan rejects a large Content-Length with 413', async () => {
  // Only the headers are sent: the worker must respond from Content-Length alone.
  const headers = { 'content-length': String(MAX_BODY_BYTES + 1) };
  const { status, body } = await postEarlyResponse(headers, async (req) => req.flushHeaders());
  assert.equal(status, 413);
  assert.equal(body.error.code, 'too-large');
});

test('POST /scan counts streamed bytes for 413', async () => {
  // Valid NDJSON, so only the size limit can stop the scan.
  const line = JSON.stringify(JSON.parse(readFileSync(`${SAMPLE}.json`, 'utf8'))) + '\n';
  const chunk = Buffer.from(line.repeat(Math.ceil((1 << 20) / line.length)));
  let sent = 0;
  const { status, body } = await postEarlyResponse({ 'transfer-encoding': 'chunked' }, async (req, responded) => {
    while (!responded() && sent <= MAX_BODY_BYTES + chunk.length) {
      if (!req.write(chunk)) await new Promise((resolve) => req.once('drain', resolve));
      sent += chunk.length;
      // Lets the response be read before the next write.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    if (!responded()) req.end();
  });
  assert.equal(status, 413);
  assert.equal(body.error.code, 'too-large');
  assert.equal(body.error.message, `the request body is over the limit of ${MAX_BODY_BYTES} bytes`);
  assert.ok(sent > MAX_BODY_BYTES, `the worker responded after ${sent} bytes`);
});

test('other methods get 405 with Allow', async () => {
  const scan = await request('/scan');
  assert.equal(scan.status, 405);
  assert.equal(scan.headers.get('allow'), 'POST');
  assert.equal(scan.body.error.code, 'method-not-allowed');

  const rules = await request('/rules', { method: 'DELETE' });
  assert.equal(rules.status, 405);
  assert.equal(rules.headers.get('allow'), 'GET, HEAD');
});

test('unknown paths get 404', async () => {
  const { status, body } = await request('/scan/extra');
  assert.equal(status, 404);
  assert.equal(body.error.code, 'not-found');
});

test('worker logged no internal error', () => {
  assert.doesNotMatch(worker.output.text, /internal error/);
});
