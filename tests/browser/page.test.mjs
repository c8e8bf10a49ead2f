// The log review page in headless Chromium, used as a responder uses it:
// served by pkg-scripts/serve on 127.0.0.1, and as dist/sigma-edge.html
// opened from disk. Every network request is recorded and checked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = join(root, 'tests/artifacts');
const BUNDLE = join(root, 'dist/sigma-edge.html');
const SAMPLES = join(root, 'tests/data/edr-freeze/proc_access_win_werfaultsecure_msmpeng_access');
const EVTX = join(SAMPLES, '387df17d-3b04-448f-8669-9e7fd5e5fd8c.evtx');
const JSON_SAMPLE = join(SAMPLES, '387df17d-3b04-448f-8669-9e7fd5e5fd8c.json');
const OTRF = join(root, 'tests/data/otrf/rdp_interactive_taskmanager_lsass_dump_2020-09-22043748.json');
const OTRF_LINES = 5489;

const TITLE = 'Suspicious Process Access of MsMpEng by WerFaultSecure - EDR-Freeze';
const NEEDLE = '\\dbgcore.DLL';

const CHROMIUM_FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

let server;
let origin;
let context;
let scratch;

/**
 * Starts pkg-scripts/serve on a free port and resolves with its origin. Its
 * output is read to the end, so the server never writes to a closed pipe.
 */
function startServer() {
  server = spawn(join(root, 'pkg-scripts/serve'), ['0'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    server.stdout.setEncoding('utf8');
    server.stdout.on('data', (chunk) => {
      output += chunk;
      const found = output.match(/http:\/\/127\.0\.0\.1:\d+/);
      if (found) resolve(found[0]);
    });
    server.once('exit', (code) => reject(new Error(`pkg-scripts/serve exited with ${code} before printing its URL: ${output}`)));
  });
}

before(async () => {
  assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing; run pkg-scripts/build`);
  mkdirSync(ARTIFACTS, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), 'sigma-edge-page-'));
  origin = await startServer();
  context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1366, height: 900 },
    acceptDownloads: true,
  });
});

after(async () => {
  await context?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/**
 * Opens the page and records what it requests and any error it logs.
 * Resolves once the worker has loaded the rules.
 */
async function openPage(url = `${origin}/www/`) {
  const page = await context.newPage();
  const requests = [];
  const errors = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console error: ${message.text()}`);
  });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 15_000 });
  return { page, requests, errors };
}

/** Chooses files in the picker and waits until every file is scanned. */
async function dropFiles(page, paths) {
  await page.setInputFiles('#file-input', paths);
  await page.waitForSelector('body[data-scan="idle"]', { state: 'attached', timeout: 60_000 });
}

function assertOwnOrigin(requests) {
  assert.ok(requests.length > 0, 'the page made no requests at all');
  for (const url of requests) assert.equal(new URL(url).origin, origin, `request beyond the page's origin: ${url}`);
}

function assertNoErrors(errors) {
  assert.deepEqual(errors, []);
}

async function hitRows(page) {
  return page.locator('#hits tbody tr').allInnerTexts();
}

/** Returns the marked text of the CallTrace reason in the detail view. */
async function callTraceMark(page) {
  return page.locator('#detail .reason', { hasText: 'CallTrace' }).locator('mark').innerText();
}

function writeTemp(name, content) {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

/**
 * Writes a damaged EVTX (the sample cut inside its file header), an NDJSON
 * file with one broken line and a text file; returns their paths.
 */
function damagedFiles() {
  const truncated = writeTemp('truncated.evtx', readFileSync(EVTX).subarray(0, 3000));
  const goodLine = JSON.stringify(JSON.parse(readFileSync(JSON_SAMPLE, 'utf8')));
  // The broken line names WerFaultSecure.exe, as a damaged record of interest would.
  const brokenLine = '{"Event": {"EventData": {"SourceImage": "C:\\\\Windows\\\\System32\\\\WerFaultSecure.exe", broken';
  const ndjson = writeTemp('broken-line.ndjson', `${goodLine}\n${brokenLine}\n`);
  const notes = writeTemp('notes.txt', 'not an event log\n');
  return { truncated, ndjson, notes, brokenOffset: Buffer.byteLength(goodLine) + 1 };
}

test('EVTX sample shows one EDR-Freeze hit', async () => {
  const { page, requests, errors } = await openPage();
  await dropFiles(page, [EVTX]);

  assert.equal(await page.locator('#verdict-title').innerText(), 'EDR-Freeze activity found in 1 file');
  assert.match(await page.locator('#verdict').getAttribute('class'), /verdict-alert/);
  const rows = await hitRows(page);
  assert.equal(rows.length, 1);
  assert.match(rows[0], new RegExp(TITLE));
  assert.match(rows[0], /WerFaultSecure\.exe → MsMpEng\.exe/);
  assert.match(rows[0], /swachchhanda/);

  assert.equal(await page.locator('#detail-heading').innerText(), TITLE);
  assert.equal(await callTraceMark(page), NEEDLE);
  const detail = await page.locator('#detail').innerText();
  for (const expected of ['445923', 'Microsoft-Windows-Sysmon/Operational', '4,608', 'swachchhanda']) {
    assert.ok(detail.includes(expected), `detail view lacks ${expected}`);
  }
  assert.equal(await page.locator('#rule-summary tbody tr').count(), 1);
  const record = await page.locator('#detail section.record').innerText();
  assert.match(record, /GrantedAccess\s+0x1fffff/);
  assert.match(record, /Provider_Name\s+Microsoft-Windows-Sysmon/);
  assertOwnOrigin(requests);
  assertNoErrors(errors);
  await page.close();
});

test('JSON sample shows hit and whole record', async () => {
  const { page, requests, errors } = await openPage();
  await dropFiles(page, [JSON_SAMPLE]);

  assert.equal(await page.locator('#verdict-title').innerText(), 'EDR-Freeze activity found in 1 file');
  const rows = await hitRows(page);
  assert.equal(rows.length, 1);
  assert.match(rows[0], new RegExp(TITLE));
  assert.equal(await callTraceMark(page), NEEDLE);
  const record = await page.locator('#detail section.record').innerText();
  assert.match(record, /EventRecordID\s+445923/);
  assert.match(record, /SourceUser\s+swachchhanda\\xodih/);
  assertOwnOrigin(requests);
  assertNoErrors(errors);
  await page.close();
});

test('damaged files warn, good hit stays', async () => {
  const { truncated, ndjson, notes, brokenOffset } = damagedFiles();
  const { page, requests, errors } = await openPage();
  await dropFiles(page, [truncated, EVTX, ndjson, notes]);

  // The sample EVTX and the good line of the NDJSON file match.
  assert.equal(await page.locator('#verdict-title').innerText(), 'EDR-Freeze activity found in 2 files');
  assert.match(await page.locator('#verdict-detail').innerText(), /Not checked completely: 1 file could not be read, 2 warnings/);
  assert.equal((await hitRows(page)).length, 2);

  const warnings = await page.locator('#warnings tbody tr').allInnerTexts();
  assert.equal(warnings.length, 3);
  assert.ok(warnings.some((row) => /^truncated\.evtx\t–\t0\ttruncated EVTX file/.test(row)), warnings.join('\n'));
  const offset = brokenOffset.toLocaleString('en-US');
  assert.ok(warnings.some((row) => row.startsWith(`broken-line.ndjson\t2\t${offset}\tinvalid JSON`)), warnings.join('\n'));
  assert.ok(warnings.some((row) => /^notes\.txt\t–\t–\t.*unknown format/.test(row)), warnings.join('\n'));

  const notesItem = page.locator('#file-list li', { hasText: 'notes.txt' });
  assert.equal(await notesItem.locator('.file-status').innerText(), 'Not read');
  const evtxItem = page.locator('#file-list li', { hasText: '387df17d' });
  assert.equal(await evtxItem.locator('.file-status').innerText(), 'Done');
  assertOwnOrigin(requests);
  assertNoErrors(errors);
  await page.close();
});

test('parse every record reports damage the prefilter skips', async () => {
  const goodLine = JSON.stringify(JSON.parse(readFileSync(JSON_SAMPLE, 'utf8')));
  // No word of the rules in the broken line, so by default it is skipped unparsed.
  const ndjson = writeTemp('quiet-damage.ndjson', `${goodLine}\n{"EventID": 4624, broken\n`);
  const { page, errors } = await openPage();
  await dropFiles(page, [ndjson]);
  assert.equal(await page.locator('#warnings tbody tr').count(), 0);

  await page.locator('#clear-all').click();
  await page.locator('#parse-all').check();
  await dropFiles(page, [ndjson]);
  const warnings = await page.locator('#warnings tbody tr').allInnerTexts();
  const offset = (Buffer.byteLength(goodLine) + 1).toLocaleString('en-US');
  assert.deepEqual(warnings.map((row) => row.split('\t').slice(0, 3)), [['quiet-damage.ndjson', '2', offset]]);
  assert.equal((await hitRows(page)).length, 1);
  assertNoErrors(errors);
  await page.close();
});

test('highlight after non-ASCII text', async () => {
  const event = JSON.parse(readFileSync(JSON_SAMPLE, 'utf8'));
  event.Event.EventData.CallTrace = 'C:\\Benutzer\\Jürgen Übel 📁\\ntdll.dll+1284|C:\\Windows\\System32\\dbgcore.DLL+164cc';
  const path = writeTemp('non-ascii.json', JSON.stringify(event));
  const { page, errors } = await openPage();
  await dropFiles(page, [path]);

  assert.equal(await callTraceMark(page), NEEDLE);
  const value = await page.locator('#detail .reason', { hasText: 'CallTrace' }).locator('pre').innerText();
  assert.equal(value, event.Event.EventData.CallTrace);
  assertNoErrors(errors);
  await page.close();
});

test('user rules load or show errors', async () => {
  const { page, errors } = await openPage();
  await page.locator('#add-rule summary').click();
  const ownRule = [
    'title: Any access to MsMpEng',
    'id: 5a0e3f43-8a70-4c43-9d1a-3c2b1d7e9f10',
    'level: low',
    'logsource: {product: windows, category: process_access}',
    'detection:',
    "  selection: {TargetImage|endswith: '\\MsMpEng.exe'}",
    '  condition: selection',
  ].join('\n');
  await page.fill('#rule-yaml', ownRule);
  await page.click('#add-rule-button');
  await page.locator('#rule-list tbody tr', { hasText: 'Any access to MsMpEng' }).waitFor();
  assert.equal(await page.locator('#rules-count').innerText(), '7 rules loaded');

  await page.fill('#rule-yaml', 'title: Broken rule\nid: broken-1\n');
  await page.click('#add-rule-button');
  const error = page.locator('#rule-errors .rule-error');
  await error.waitFor();
  assert.match(await error.innerText(), /pasted rule 2 .*missing required key 'detection'/);

  await dropFiles(page, [EVTX]);
  assert.equal(await page.locator('#verdict-title').innerText(), 'EDR-Freeze activity found in 1 file');
  assert.match(await page.locator('#verdict-detail').innerText(), /Your own rules matched 1 event/);
  assert.equal((await hitRows(page)).length, 2);
  assert.equal(await page.locator('#rule-summary tbody tr').count(), 2);

  await page.selectOption('#filter-level', 'low');
  await page.waitForSelector('#filter-count:text-is("1 of 2 hits")');
  const rows = await hitRows(page);
  assert.equal(rows.length, 1);
  assert.match(rows[0], /Any access to MsMpEng/);

  // Switching the bundled rules off offers a new scan with the user's rule alone.
  await page.uncheck('#bundled-rules');
  await page.locator('#rules-stale').waitFor();
  await page.click('#rescan');
  await page.waitForSelector('body[data-scan="idle"]', { state: 'attached' });
  assert.equal(await page.locator('#verdict-title').innerText(), 'Bundled EDR-Freeze rules off; 1 file, 1 record checked');
  assert.equal(await page.locator('#rules-count').innerText(), '1 rule loaded');
  await page.waitForSelector('#filter-count:text-is("1 hit")');
  assertNoErrors(errors);
  await page.close();
});

test('folder picker and drop add files', async () => {
  const folder = join(scratch, 'exported', 'host-a');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'sysmon.evtx'), readFileSync(EVTX));
  const { page, errors } = await openPage();

  await page.setInputFiles('#folder-input', join(scratch, 'exported'));
  await page.waitForSelector('body[data-scan="idle"]', { state: 'attached' });
  assert.equal(await page.locator('#file-list .file-name').innerText(), 'exported/host-a/sysmon.evtx');

  // A drop of a file made in the page: synthetic drops carry no file system entries.
  const text = readFileSync(JSON_SAMPLE, 'utf8');
  await page.evaluate((content) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([content], 'dropped.json', { type: 'application/json' }));
    const zone = document.getElementById('drop-zone');
    for (const type of ['dragenter', 'dragover', 'drop']) {
      zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }
  }, text);
  await page.locator('#file-list li', { hasText: 'dropped.json' }).waitFor();
  await page.waitForSelector('body[data-scan="idle"]', { state: 'attached' });
  assert.equal(await page.locator('#verdict-title').innerText(), 'EDR-Freeze activity found in 2 files');
  assertNoErrors(errors);
  await page.close();
});

test('export writes NDJSON and CSV of the hits', async () => {
  const { page, requests, errors } = await openPage();
  await dropFiles(page, [EVTX, JSON_SAMPLE]);

  const [ndjsonDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-ndjson')]);
  assert.match(ndjsonDownload.suggestedFilename(), /^sigma-edge-hits-\d{8}-\d{6}\.ndjson$/);
  const lines = readFileSync(await ndjsonDownload.path(), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(lines.length, 2);
  assert.deepEqual(lines.map((match) => match.ruleTitle), [TITLE, TITLE]);
  assert.ok(lines.every((match) => match.reasons.length === 3));

  const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const csv = readFileSync(await csvDownload.path(), 'utf8').trim().split('\r\n');
  assert.equal(csv.length, 3);
  assert.match(csv[0], /^timestamp,computer,ruleTitle,ruleId,level,source,target,/);
  assert.match(csv[1], /swachchhanda,Suspicious Process Access of MsMpEng by WerFaultSecure - EDR-Freeze,387df17d/);
  assertOwnOrigin(requests);
  assertNoErrors(errors);
  await page.close();
});

test('keyboard opens picker and moves rows', async () => {
  const { page, errors } = await openPage();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'drop-zone');

  // The listener turns on file chooser interception; a round trip to the
  // page makes sure that is in place before Enter opens the chooser.
  const chooser = new Promise((resolve) => page.once('filechooser', resolve));
  await page.evaluate(() => document.readyState);
  await page.keyboard.press('Enter');
  await (await chooser).setFiles([EVTX, JSON_SAMPLE]);
  await page.waitForSelector('body[data-scan="idle"]', { state: 'attached' });
  assert.equal((await hitRows(page)).length, 2);

  await page.locator('#hits tbody tr[tabindex="0"]').focus();
  await page.keyboard.press('ArrowDown');
  const selected = page.locator('#hits tbody tr[aria-selected="true"]');
  assert.equal(await selected.count(), 1);
  assert.equal(await selected.evaluate((row) => row.rowIndex), 2);
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-selected')), 'true');
  assert.match(await page.locator('#detail').innerText(), /\.json/);

  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'detail');

  await page.click('#hits th[data-sort="file"] button');
  await page.waitForSelector('#hits th[data-sort="file"][aria-sort="ascending"]');
  assert.match((await hitRows(page))[0], /\.evtx/);
  await page.click('#hits th[data-sort="file"] button');
  await page.waitForSelector('#hits th[data-sort="file"][aria-sort="descending"]');
  assert.match((await hitRows(page))[0], /\.json/);
  assertNoErrors(errors);
  await page.close();
});

test('screenshots at laptop and tablet widths', async () => {
  const { truncated, ndjson } = damagedFiles();
  const { page, requests, errors } = await openPage();
  await dropFiles(page, [EVTX, truncated, ndjson]);
  for (const width of [1366, 768]) {
    for (const colorScheme of ['light', 'dark']) {
      await page.setViewportSize({ width, height: 900 });
      await page.emulateMedia({ colorScheme });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow} px wider than a ${width} px window`);
      await page.screenshot({ path: join(ARTIFACTS, `page-${width}-${colorScheme}.png`), fullPage: true });
    }
  }
  assertOwnOrigin(requests);
  assertNoErrors(errors);
  await page.close();
});

/** Writes about 200 MB of NDJSON by repeating the lines of an OTRF dataset. */
function largeFile() {
  const path = join(scratch, 'large.ndjson');
  if (existsSync(path)) return { path, copies: 25 };
  let text = readFileSync(OTRF, 'utf8');
  if (!text.endsWith('\n')) text += '\n';
  const copies = Math.ceil(200e6 / Buffer.byteLength(text));
  const fd = openSync(path, 'w');
  for (let i = 0; i < copies; i++) writeSync(fd, text);
  closeSync(fd);
  return { path, copies };
}

test('large file shows progress and stays responsive', async () => {
  const { path, copies } = largeFile();
  const { page, requests, errors } = await openPage();
  await page.setInputFiles('#file-input', [path]);

  const progress = new Set();
  let slowest = 0;
  for (;;) {
    const started = performance.now();
    const { value, scan } = await page.evaluate(() => ({
      value: document.querySelector('#file-list .file-progress')?.value ?? 0,
      scan: document.body.dataset.scan,
    }));
    slowest = Math.max(slowest, performance.now() - started);
    progress.add(value);
    if (scan === 'idle') break;
    await page.waitForTimeout(50);
  }

  assert.ok(slowest < 200, `page.evaluate took ${slowest.toFixed(0)} ms during the scan`);
  const size = statSync(path).size;
  const partial = [...progress].filter((value) => value > 0 && value < size);
  assert.ok(partial.length >= 3, `expected several progress values, saw ${[...progress].join(', ')}`);
  const stats = await page.locator('#file-list .file-stats').innerText();
  assert.match(stats, new RegExp(`${(OTRF_LINES * copies).toLocaleString('en-US')} records`));
  assert.equal(await page.locator('#verdict-title').innerText(), `No EDR-Freeze activity in 1 file, ${(OTRF_LINES * copies).toLocaleString('en-US')} records`);
  assertOwnOrigin(requests);
  assertNoErrors(errors);
  await page.close();
});

test('cancel stops a large file', async () => {
  const { path } = largeFile();
  const { page, errors } = await openPage();
  await page.setInputFiles('#file-input', [path]);
  await page.waitForFunction(() => document.querySelector('#file-list .file-progress')?.value > 0);
  await page.click('#file-list .file-cancel');
  await page.waitForSelector('body[data-scan="idle"]', { state: 'attached' });

  assert.equal(await page.locator('#file-list .file-status').innerText(), 'Cancelled');
  assert.match(await page.locator('#verdict-detail').innerText(), /1 file cancelled/);
  assert.equal(await page.locator('#verdict-title').innerText(), 'No file could be checked');
  assertNoErrors(errors);
  await page.close();
});

test('single-file page works from file://', async () => {
  const { truncated } = damagedFiles();
  const { page, requests, errors } = await openPage(pathToFileURL(BUNDLE).href);
  await dropFiles(page, [EVTX, JSON_SAMPLE, truncated]);

  assert.equal(await page.locator('#verdict-title').innerText(), 'EDR-Freeze activity found in 2 files');
  const rows = await hitRows(page);
  assert.equal(rows.length, 2);
  assert.ok(rows.every((row) => row.includes(TITLE)));
  assert.equal(await callTraceMark(page), NEEDLE);
  assert.match((await page.locator('#warnings tbody tr').allInnerTexts()).join('\n'), /truncated EVTX file/);

  for (const url of requests) {
    assert.ok(['file:', 'blob:', 'data:'].includes(new URL(url).protocol), `request beyond the file: ${url}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.screenshot({ path: join(ARTIFACTS, 'bundle-1366-light.png'), fullPage: true });
  assertNoErrors(errors);
  await page.close();
});
