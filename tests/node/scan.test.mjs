// The scan command, run as a user runs it, on the bundled samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EDR_FREEZE = '387df17d-3b04-448f-8669-9e7fd5e5fd8c';
const REGRESSION = join(root, 'tests/data/edr-freeze');

function scan(args) {
  const result = spawnSync(join(root, 'pkg-scripts/scan'), args, { cwd: root, encoding: 'utf8' });
  const matches = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  return { status: result.status, matches, stderr: result.stderr };
}

test('scan with no file finds the bundled EDR-Freeze samples', () => {
  const { status, matches, stderr } = scan([]);
  assert.equal(status, 0, stderr);
  assert.equal(matches.length, 2);
  assert.deepEqual(matches.map((m) => m.ruleId), [EDR_FREEZE, EDR_FREEZE]);
  assert.deepEqual(matches.map((m) => m.file.split('.').pop()), ['evtx', 'json']);
  const evtx = matches[0];
  assert.deepEqual(Object.keys(evtx).slice(0, 10), [
    'ruleId', 'ruleTitle', 'level', 'file', 'recordId', 'eventId', 'channel', 'computer', 'timestamp', 'fields',
  ]);
  assert.equal(evtx.ruleTitle, 'Suspicious Process Access of MsMpEng by WerFaultSecure - EDR-Freeze');
  assert.equal(evtx.level, 'high');
  assert.equal(evtx.recordId, 445923);
  assert.equal(evtx.eventId, 10);
  assert.equal(evtx.channel, 'Microsoft-Windows-Sysmon/Operational');
  assert.equal(evtx.computer, 'swachchhanda');
  assert.equal(evtx.fields.SourceImage, 'C:\\Windows\\System32\\WerFaultSecure.exe');
  assert.match(stderr, /scanned 2 file\(s\): 2 records \(0 skipped unparsed\), 2 matches, 0 warnings, 0 errors/);
});

test('scan with the six rules reports each rule on its own sample', () => {
  const folders = readdirSync(REGRESSION).sort();
  const files = folders.map((folder) => {
    const evtx = readdirSync(join(REGRESSION, folder)).find((name) => name.endsWith('.evtx'));
    return join(REGRESSION, folder, evtx);
  });
  const { status, matches, stderr } = scan(['--rules', join(root, 'src/rules'), ...files]);
  assert.equal(status, 0, stderr);
  for (const file of files) {
    const ownId = file.split('/').pop().replace('.evtx', '');
    const ids = matches.filter((m) => m.file === file).map((m) => m.ruleId);
    assert.ok(ids.includes(ownId), `${file} should match ${ownId}, got ${ids}`);
  }
  // The image-load sample from a user folder matches both image-load rules.
  assert.equal(matches.length, 7);
});

test('scan exits 2 on unreadable files and still scans the others', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-edge-scan-'));
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'just some notes\n');
  const sample = join(REGRESSION, 'proc_access_win_werfaultsecure_msmpeng_access', `${EDR_FREEZE}.json`);
  const { status, matches, stderr } = scan([text, join(dir, 'missing.evtx'), sample]);
  assert.equal(status, 2);
  assert.equal(matches.length, 1);
  assert.match(stderr, /notes\.txt: unknown format: expected EVTX, JSON, NDJSON, XML or CSV \(plain, UTF-16, gzip or zip\), but the file starts with "just some notes\\n"/);
  assert.match(stderr, /missing\.evtx: ENOENT/);
  assert.match(stderr, /scanned 1 file\(s\): 1 record \(0 skipped unparsed\), 1 match, 0 warnings, 2 errors/);
});

test('scan reports a bad rule and exits 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-edge-rules-'));
  writeFileSync(join(dir, 'bad.yml'), 'title: Bad\nid: bad-1\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image|bogus|contains: x\n  condition: sel\n');
  const { status, stderr } = scan(['--rules', dir]);
  assert.equal(status, 2);
  assert.match(stderr, /bad\.yml \(rule bad-1\): invalid 'detection': search 'sel': 'Image\|bogus\|contains': unknown modifier 'bogus'/);
});

function damagedNdjson() {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-edge-damaged-'));
  const sample = JSON.stringify({
    EventID: 10, Channel: 'Microsoft-Windows-Sysmon/Operational',
    SourceImage: 'C:\\Windows\\System32\\WerFaultSecure.exe',
    TargetImage: 'C:\\ProgramData\\Microsoft\\Windows Defender\\MsMpEng.exe',
    CallTrace: 'C:\\Windows\\System32\\dbghelp.dll+1',
  });
  const file = join(dir, 'events.ndjson');
  // Line 2 is cut short; line 3 is damaged and has no literal the rules need.
  const cut = sample.slice(0, 200);
  writeFileSync(file, `${sample}\n${cut}\n{"EventID": 4624, broken\n${sample}\n`);
  return { file, sample, cut };
}

test('scan reports a damaged record and keeps the good ones', () => {
  const { file, sample } = damagedNdjson();
  const { status, matches, stderr } = scan([file]);
  assert.equal(status, 1, stderr);
  assert.deepEqual(matches.map((m) => m.record), [1, 4]);
  const offset = Buffer.byteLength(sample) + 1;
  assert.ok(stderr.includes(`events.ndjson: record 2 at byte ${offset}: invalid JSON`), stderr);
  assert.match(stderr, /4 records \(1 skipped unparsed\), 2 matches, 1 warning/);
});

test('scan --no-prefilter reports every damaged record', () => {
  const { file, sample, cut } = damagedNdjson();
  const { status, matches, stderr } = scan(['--no-prefilter', file]);
  assert.equal(status, 1, stderr);
  assert.deepEqual(matches.map((m) => m.record), [1, 4]);
  const offset = Buffer.byteLength(sample) + Buffer.byteLength(cut) + 2;
  assert.ok(stderr.includes(`events.ndjson: record 3 at byte ${offset}: invalid JSON`), stderr);
  assert.match(stderr, /4 records \(0 skipped unparsed\), 2 matches, 2 warnings/);
});

test('scan finds the EDR-Freeze event in every export format', () => {
  const formats = join(root, 'tests/data/formats');
  const files = [
    join(REGRESSION, 'proc_access_win_werfaultsecure_msmpeng_access', `${EDR_FREEZE}.evtx`),
    join(formats, 'edr-freeze.events.xml'),
    join(formats, 'edr-freeze.wevtutil.xml'),
    join(formats, 'edr-freeze.ndjson'),
    join(formats, 'edr-freeze.array.json'),
    join(formats, 'edr-freeze.winlogbeat.ndjson'),
    join(formats, 'edr-freeze.csv'),
    join(formats, 'edr-freeze.utf16le.xml'),
    join(formats, 'edr-freeze.events.xml.gz'),
  ];
  const archive = join(formats, 'edr-freeze.zip');
  const { status, matches, stderr } = scan([...files, archive]);
  assert.equal(status, 0, stderr);
  const found = matches.filter((m) => m.ruleId === EDR_FREEZE);
  for (const file of files) {
    const inFile = found.filter((m) => m.file === file);
    assert.equal(inFile.length, 1, `${file}: ${JSON.stringify(inFile)}`);
    assert.equal(inFile[0].recordId, 445923, file);
    assert.equal(inFile[0].computer, 'swachchhanda', file);
    assert.equal(inFile[0].fields.SourceImage, 'C:\\Windows\\System32\\WerFaultSecure.exe', file);
  }
  // Inside the zip: the eight text and gzip files above and the six EVTX files.
  const members = found.filter((m) => m.file.startsWith(`${archive}:`)).map((m) => m.file.slice(archive.length + 1));
  assert.deepEqual(members.sort(), [
    'edr-freeze.array.json', 'edr-freeze.csv', 'edr-freeze.events.xml', 'edr-freeze.events.xml.gz',
    'edr-freeze.ndjson', 'edr-freeze.utf16le.xml', 'edr-freeze.wevtutil.xml', 'edr-freeze.winlogbeat.ndjson',
    `evtx/${EDR_FREEZE}.evtx`,
  ]);
  // 1 + 8 * 6 records outside the zip, 8 * 6 + 6 inside; the six events
  // match 7 rules in all.
  assert.match(stderr, /scanned 10 file\(s\): 103 records \(0 skipped unparsed\), 120 matches, 0 warnings, 0 errors/);
});

test('scan reports damaged records in containers and goes on', () => {
  const archive = join(root, 'tests/data/formats/defects/zip-unsupported-members.zip');
  const { status, matches, stderr } = scan([archive]);
  assert.equal(status, 1, stderr);
  assert.deepEqual(matches.map((m) => [m.file, m.ruleId]), [[`${archive}:good.ndjson`, EDR_FREEZE]]);
  assert.ok(stderr.includes(`warning: ${archive}: at byte 0: member bzip2.ndjson uses compression method 12 (bzip2), which is not supported; skipped`), stderr);
  assert.ok(stderr.includes(`warning: ${archive}: at byte 918: member encrypted.ndjson is encrypted, which is not supported; skipped`), stderr);
  assert.ok(stderr.includes(`warning: ${archive}:notes.txt: at byte 0: unknown format`), stderr);
  assert.match(stderr, /scanned 1 file\(s\): 1 record \(0 skipped unparsed\), 1 match, 3 warnings, 0 errors/);
});

test('scan prints the warnings found at the end of a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-edge-cut-'));
  const file = join(dir, 'cut.evtx');
  const evtx = readFileSync(join(REGRESSION, 'proc_access_win_werfaultsecure_msmpeng_access', `${EDR_FREEZE}.evtx`));
  writeFileSync(file, evtx.subarray(0, evtx.length - 100));
  const { status, matches, stderr } = scan([file]);
  assert.equal(status, 1, stderr);
  assert.deepEqual(matches.map((m) => m.recordId), [445923]);
  const message = 'truncated EVTX file: the last chunk has 65436 of 65536 bytes; its complete records are read';
  assert.ok(stderr.includes(`warning: ${file}: at byte 4096: ${message}\n`), stderr);
  assert.match(stderr, /scanned 1 file\(s\): 1 record \(0 skipped unparsed\), 1 match, 1 warning, 0 errors/);
});

test('scan --progress reports each file when it ends', () => {
  const evtx = join(REGRESSION, 'proc_access_win_werfaultsecure_msmpeng_access', `${EDR_FREEZE}.evtx`);
  const { status, stderr } = scan(['--progress', evtx]);
  assert.equal(status, 0, stderr);
  const lines = stderr.split('\n').filter((line) => line.startsWith('progress: '));
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0], new RegExp(`^progress: ${evtx}: 0\\.1 of 0\\.1 MiB \\(100%\\), 1 record, 1 match, \\d+ MiB/s, done$`));
});

test('scan without a terminal reports no progress', () => {
  const { status, stderr } = scan([]);
  assert.equal(status, 0, stderr);
  assert.doesNotMatch(stderr, /progress:/);
});

test('scan stops on a rules path it cannot read', () => {
  const missing = join(mkdtempSync(join(tmpdir(), 'sigma-edge-rules-')), 'missing.yml');
  const sample = join(REGRESSION, 'proc_access_win_werfaultsecure_msmpeng_access', `${EDR_FREEZE}.json`);
  const { status, matches, stderr } = scan(['--rules', missing, sample]);
  assert.equal(status, 2);
  assert.deepEqual(matches, []);
  assert.match(stderr, /^error: cannot read rules from .*missing\.yml: ENOENT.*; no file scanned\n$/);
});

test('scan reads every file in a folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-edge-folder-'));
  const folder = join(REGRESSION, 'proc_access_win_werfaultsecure_msmpeng_access');
  mkdirSync(join(dir, 'sub'));
  copyFileSync(join(folder, `${EDR_FREEZE}.evtx`), join(dir, 'sub', 'sysmon.evtx'));
  copyFileSync(join(folder, `${EDR_FREEZE}.json`), join(dir, 'sysmon.json'));
  const { status, matches, stderr } = scan([dir]);
  assert.equal(status, 0, stderr);
  assert.deepEqual(matches.map((m) => m.file), [join(dir, 'sub', 'sysmon.evtx'), join(dir, 'sysmon.json')]);
  assert.match(stderr, /scanned 2 file\(s\): 2 records \(0 skipped unparsed\), 2 matches, 0 warnings, 0 errors/);
});
