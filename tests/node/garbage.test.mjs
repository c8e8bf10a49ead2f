// Garbage through every export of the wasm glue (pkg/sigma_edge.js) and of
// the npm package: wrong types, a 64 MiB string, JSON nested 100,000 deep
// as text and as an object, lone surrogates, throwing getters and proxies.
// Each call must either return or throw a JavaScript Error of the expected
// name. A panic in Rust would show as `RuntimeError: unreachable` instead
// and leave the module unusable, so after every call the same module must
// still find the EDR-Freeze event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { EDR_FREEZE, SAMPLE, installPackedPackage, root } from './helpers/package.mjs';
import * as glue from '../../pkg/sigma_edge.js';

glue.initSync({ module: readFileSync(join(root, 'pkg/sigma_edge_bg.wasm')) });

const SAMPLE_JSON = readFileSync(`${SAMPLE}.json`, 'utf8');
const SAMPLE_EVTX = readFileSync(`${SAMPLE}.evtx`);
const MIB = 1024 * 1024;
/** The default `maxRecordBytes`. */
const MAX_RECORD_BYTES = 16 * MIB;
const DEPTH = 100_000;

/** Returns an object nested `levels` deep: `{ a: { a: ... } }`. */
function deepObject(levels) {
  const top = {};
  let inner = top;
  for (let level = 1; level < levels; level++) {
    inner.a = {};
    inner = inner.a;
  }
  return top;
}

const cyclic = { EventID: 10 };
cyclic.self = cyclic;
const revoked = Proxy.revocable({}, {});
revoked.revoke();

/**
 * Values of the wrong type: wherever a string, bytes, an event, an options
 * object or a boolean is expected, each of these must throw a TypeError.
 */
const WRONG_TYPES = {
  number: 42,
  nan: NaN,
  symbol: Symbol('garbage'),
  function: () => 'garbage',
  bigint: 10n,
  float64Array: new Float64Array(2),
  arrayBuffer: new ArrayBuffer(4),
  dataView: new DataView(new ArrayBuffer(4)),
};

/** Events that are objects or strings but cannot be read: each throws an InputError. */
const BAD_EVENTS = {
  array: [1, 2],
  hugeString: 'x'.repeat(64 * MIB),
  hugeValue: { CommandLine: 'x'.repeat(64 * MIB) },
  deepObject: deepObject(DEPTH),
  deepArrayText: '['.repeat(DEPTH) + ']'.repeat(DEPTH),
  deepObjectText: '{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH),
  invalidJson: '{"EventID": 10',
  cyclic,
  throwingGetter: { get EventID() { throw new Error('getter failed'); } },
  throwingToJson: { toJSON() { throw 'not an Error'; } },
  throwingProxy: new Proxy({}, { ownKeys() { throw new Error('trap failed'); } }),
  revokedProxy: revoked.proxy,
};

/** Events with lone surrogates, which are read with U+FFFD in their place. */
const LONE_SURROGATES = {
  text: '{"EventID": 10, "Image": "C:\\\\x\ud800y.exe"}',
  object: { EventID: 10, Image: 'C:\\x\udc00y.exe', ['\ud83d']: 'key' },
  escaped: '{"EventID": 10, "Image": "\\ud800"}',
};

/** Calls `call` and returns `{ value }` or `{ error }`. */
function outcome(call) {
  try {
    return { value: call() };
  } catch (error) {
    return { error };
  }
}

/** Checks that `result` is a thrown Error named `name`, and not a wasm trap. */
function assertThrew(result, name, label) {
  assert.ok('error' in result, `${label}: returned instead of throwing ${name}`);
  const { error } = result;
  assert.ok(!(error instanceof WebAssembly.RuntimeError), `${label}: wasm trap: ${error}`);
  assert.ok(error instanceof Error, `${label}: threw a non-Error: ${String(error)}`);
  assert.equal(error.name, name, `${label}: ${error.message}`);
}

function assertReturned(result, label) {
  assert.ok(!('error' in result), `${label}: threw ${result.error}`);
}

/** Checks that the glue module still finds the EDR-Freeze event in JSON and EVTX. */
function assertGlueWorks(label) {
  const matches = glue.evaluate(SAMPLE_JSON);
  assert.deepEqual(matches.map((match) => [match.ruleId, match.recordId]), [[EDR_FREEZE, 445923]], label);
  const engine = new glue.Engine();
  const scanner = engine.scanner('sample.evtx');
  const found = [...scanner.push(SAMPLE_EVTX), ...scanner.finish().matches];
  assert.deepEqual(found.map((match) => match.recordId), [445923], label);
  scanner.free();
  engine.free();
}

/** Runs `call`, checks it threw `name` (or returned, for `null`), then that the glue still works. */
function expectGlue(label, name, call) {
  const result = outcome(call);
  if (name === null) assertReturned(result, label);
  else assertThrew(result, name, label);
  assertGlueWorks(`after ${label}`);
  return result;
}

test('glue evaluate rejects wrong types and bad events', () => {
  const engine = new glue.Engine();
  for (const [kind, value] of Object.entries({ ...WRONG_TYPES, null: null, undefined, boolean: true, bytes: new Uint8Array([0x7b, 0x7d]) })) {
    const result = expectGlue(`evaluate(${kind})`, 'TypeError', () => glue.evaluate(value));
    assert.equal(result.error.code, 'invalid-event');
    expectGlue(`Engine.evaluate(${kind})`, 'TypeError', () => engine.evaluate(value));
  }
  for (const [kind, value] of Object.entries(BAD_EVENTS)) {
    const result = expectGlue(`evaluate(${kind})`, 'InputError', () => glue.evaluate(value));
    assert.equal(result.error.code, 'invalid-event');
    expectGlue(`Engine.evaluate(${kind})`, 'InputError', () => engine.evaluate(value));
  }
  engine.free();
});

test('glue errors name the limit and the cause', () => {
  const messages = {
    hugeString: `invalid event: the event's JSON text has ${64 * MIB} bytes, over the maxRecordBytes limit of ${MAX_RECORD_BYTES}`,
    deepObjectText: 'invalid event: the string is not valid JSON: recursion limit exceeded at line 1 column 636',
    throwingToJson: 'invalid event: the object cannot be converted to JSON: not an Error',
    throwingGetter: 'invalid event: the object cannot be converted to JSON: getter failed',
  };
  for (const [kind, message] of Object.entries(messages)) {
    const { error } = outcome(() => glue.evaluate(BAD_EVENTS[kind]));
    assert.equal(error.message, message, kind);
  }
  const { error } = outcome(() => glue.evaluate(BAD_EVENTS.deepObject));
  assert.match(error.message, /^invalid event: the object cannot be converted to JSON: Maximum call stack size exceeded/);
});

test('glue reads lone surrogates as U+FFFD', () => {
  const engine = new glue.Engine({
    defaultRules: false,
    rules: ["title: t\nid: lone\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image|contains: '\ufffd'\n  condition: sel\n"],
  });
  for (const [kind, event] of Object.entries(LONE_SURROGATES)) {
    const result = expectGlue(`evaluate(${kind} with a lone surrogate)`, null, () => engine.evaluate(event));
    assert.deepEqual(result.value.map((match) => match.ruleId), ['lone'], kind);
  }
  engine.free();
});

test('glue evaluateBatch rejects garbage items and non-arrays', () => {
  const engine = new glue.Engine();
  for (const [kind, value] of Object.entries({ ...WRONG_TYPES, null: null, string: SAMPLE_JSON, object: {} })) {
    expectGlue(`evaluateBatch(${kind})`, 'TypeError', () => engine.evaluateBatch(value));
    const isEvent = kind === 'string' || kind === 'object';
    expectGlue(`evaluateBatch([${kind}])`, isEvent ? null : 'TypeError', () => engine.evaluateBatch([value]));
  }
  for (const [kind, value] of Object.entries(BAD_EVENTS)) {
    const result = expectGlue(`evaluateBatch([${kind}])`, 'InputError', () => engine.evaluateBatch([{}, value]));
    assert.match(result.error.message, /^event 1: /);
  }
  const sparse = [];
  sparse.length = 2 ** 32 - 1;
  expectGlue('evaluateBatch(sparse array of length 2^32-1)', 'TypeError', () => engine.evaluateBatch(sparse));
  const trapping = new Proxy([SAMPLE_JSON], { get() { throw new Error('trap failed'); } });
  expectGlue('evaluateBatch(throwing proxy)', 'TypeError', () => engine.evaluateBatch(trapping));
  expectGlue('evaluateBatch(revoked proxy)', 'TypeError', () => engine.evaluateBatch(revoked.proxy));
  const result = expectGlue('evaluateBatch(two samples)', null, () => engine.evaluateBatch([SAMPLE_JSON, JSON.parse(SAMPLE_JSON)]));
  assert.deepEqual(result.value.map((matches) => matches.length), [1, 1]);
  engine.free();
});

test('glue Engine constructor rejects garbage options', () => {
  const options = {
    ...WRONG_TYPES,
    boolean: true,
    string: 'rules',
    array: [],
    bytes: new Uint8Array(4),
    rulesNotArray: { rules: 'title: x' },
    ruleNumber: { rules: [5] },
    ruleSymbol: { rules: [Symbol('rule')] },
    ruleNull: { rules: [null] },
    ruleBytes: { rules: [new Uint8Array(4)] },
    ruleNamedWithoutYaml: { rules: [{ name: 'x.yml' }] },
    ruleDeepArray: { rules: [JSON.parse('['.repeat(1000) + ']'.repeat(1000))] },
    sparseRules: { rules: Object.assign([], { length: 2 ** 32 - 1 }) },
    defaultRulesString: { defaultRules: 'no' },
    strictNumber: { strict: 1 },
    unknown: { rulez: [] },
    limitsNumber: { limits: 5 },
    limitZero: { limits: { maxDepth: 0 } },
    limitNegative: { limits: { maxRecordBytes: -1 } },
    limitFraction: { limits: { maxRules: 0.5 } },
    limitTooLarge: { limits: { maxRuleFileBytes: 2 ** 53 } },
    limitInfinity: { limits: { maxRegexBytes: Infinity } },
    limitString: { limits: { maxDepth: '64' } },
    limitUnknown: { limits: { maxEvents: 1 } },
    throwingProxy: new Proxy({}, { ownKeys() { throw new Error('trap failed'); } }),
    throwingGetter: { get rules() { throw new Error('getter failed'); } },
    throwingRuleName: { rules: [{ get name() { throw Symbol('not an Error'); }, yaml: '' }] },
    revokedProxy: revoked.proxy,
  };
  for (const [kind, value] of Object.entries(options)) {
    const result = expectGlue(`new Engine(${kind})`, 'TypeError', () => new glue.Engine(value));
    assert.equal(result.error.code, 'invalid-options', kind);
  }
  for (const value of [null, undefined, {}, { limits: {} }, { limits: { maxDepth: undefined } }]) {
    expectGlue(`new Engine(${JSON.stringify(value)})`, null, () => new glue.Engine(value).free());
  }
});

test('glue Engine reports hostile rules as warnings', () => {
  const laughs = ['lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let level = 1; level <= 9; level++) {
    laughs.push(`lol${level}: &a${level} [${Array(10).fill(`*a${level - 1}`).join(', ')}]`);
  }
  const rules = {
    'huge.yml': `title: ${'x'.repeat(64 * MIB)}\n`,
    'laughs.yml': laughs.join('\n') + '\n',
    'deep.yml': '- '.repeat(DEPTH) + 'x\n',
    'flow.yml': 'a: ' + '['.repeat(DEPTH) + ']'.repeat(DEPTH) + '\n',
    'surrogate.yml': 'title: \ud800\nid: lone\nlogsource: {product: windows}\ndetection:\n  sel: {Image: "\ud800"}\n  condition: sel\n',
    'condition.yml': `title: t\nid: deep-condition\ndetection:\n  sel: {Image: x}\n  condition: ${'('.repeat(DEPTH)}sel${')'.repeat(DEPTH)}\n`,
  };
  const result = expectGlue('new Engine(hostile rules)', null, () =>
    new glue.Engine({ defaultRules: false, rules: Object.entries(rules).map(([name, yaml]) => ({ name, yaml })) }));
  const engine = result.value;
  // Level n of the laughs adds ten aliases of (10^(n+1) - 1) / 9 nodes each.
  let aliasNodes = 0;
  for (let level = 1; level <= 9; level++) aliasNodes += 10 * (10 ** (level + 1) - 1) / 9;
  const expected = {
    'huge.yml': ['limit', `huge.yml: the rule file size in bytes (maxRuleFileBytes) is ${64 * MIB + 8}, over the maximum of ${MIB}`],
    'laughs.yml': ['limit', `laughs.yml: the number of nodes that YAML aliases add is ${aliasNodes}, over the maximum of 10000`],
    'deep.yml': ['limit', 'deep.yml: the YAML nesting depth (maxDepth) is 65, over the maximum of 64'],
    // The YAML parser (yaml-rust2) rejects a 256th open flow collection
    // before the depth check sees 65 levels.
    'flow.yml': ['yaml', 'flow.yml: invalid YAML: recursion limit exceeded at byte 258 line 1 column 259'],
    'condition.yml': [
      'condition',
      `condition.yml (rule deep-condition): invalid condition '${'('.repeat(120)}…': ` +
        "the condition nests parentheses and 'not' deeper than 64 levels",
    ],
  };
  const found = Object.fromEntries(engine.warnings.map((warning) => [warning.file, [warning.code, warning.message]]));
  assert.deepEqual(found, expected);
  assert.deepEqual(engine.rules().map((rule) => rule.title), ['\ufffd']);
  engine.free();

  const strict = expectGlue('new Engine(billion laughs, strict)', 'RuleError', () =>
    new glue.Engine({ defaultRules: false, strict: true, rules: [rules['laughs.yml']] }));
  assert.equal(strict.error.code, 'limit');
});

test('glue scanner rejects garbage arguments', () => {
  const engine = new glue.Engine();
  for (const [kind, value] of Object.entries({ ...WRONG_TYPES, null: null, undefined, bytes: new Uint8Array(4) })) {
    const result = expectGlue(`scanner(${kind})`, 'TypeError', () => engine.scanner(value));
    assert.equal(result.error.code, 'invalid-argument');
  }
  for (const [kind, value] of Object.entries({ ...WRONG_TYPES, string: 'yes', bytes: new Uint8Array(4) })) {
    expectGlue(`scanner(file, ${kind})`, 'TypeError', () => engine.scanner('f', value));
    expectGlue(`scanner(file, true, ${kind})`, 'TypeError', () => engine.scanner('f', true, value));
  }
  expectGlue('scanner(64 MiB name)', null, () => engine.scanner(BAD_EVENTS.hugeString).free());
  expectGlue('scanner(lone surrogate name)', null, () => engine.scanner('\ud800.evtx').free());

  const scanner = engine.scanner('garbage');
  for (const [kind, value] of Object.entries({ ...WRONG_TYPES, null: null, undefined, string: 'ElfFile', array: [1, 2] })) {
    const result = expectGlue(`push(${kind})`, 'TypeError', () => scanner.push(value));
    assert.equal(result.error.code, 'invalid-argument');
  }
  for (const extra of [[], [1], [Symbol('x'), null]]) {
    expectGlue(`takeWarnings(${extra.length} arguments)`, null, () => scanner.takeWarnings(...extra));
    expectGlue(`summary(${extra.length} arguments)`, null, () => scanner.summary(...extra));
    expectGlue(`rules(${extra.length} arguments)`, null, () => engine.rules(...extra));
    expectGlue(`version(${extra.length} arguments)`, null, () => glue.version(...extra));
    expectGlue(`prefilterLiterals(${extra.length} arguments)`, null, () => engine.prefilterLiterals(...extra));
  }
  expectGlue('warnings', null, () => engine.warnings);
  const finished = expectGlue('finish(nothing pushed)', 'InputError', () => scanner.finish());
  assert.equal(finished.error.code, 'unknown-format');
  engine.free();
});

test('glue scanner reads garbage bytes as warnings or errors', () => {
  const engine = new glue.Engine();
  // The prefilter would skip these records unread, because none contains a
  // literal of the rules; with it off, each one is parsed and reported.
  const scan = (label, bytes) => {
    const scanner = engine.scanner(label, false);
    const pushed = expectGlue(`push(${label})`, null, () => scanner.push(bytes));
    const result = outcome(() => scanner.finish());
    assertGlueWorks(`after finish(${label})`);
    const twice = expectGlue(`finish(${label}) again`, 'InputError', () => scanner.finish());
    assert.equal(twice.error.code, 'finished');
    scanner.free();
    return { pushed, result };
  };
  const encoder = new TextEncoder();

  const huge = scan('64 MiB JSON line', encoder.encode(`{"a":"${'x'.repeat(64 * MIB)}"}\n`));
  assert.deepEqual(huge.result.value.warnings.map((warning) => warning.message), [
    `record larger than the maxRecordBytes limit of ${MAX_RECORD_BYTES} bytes; skipped`,
  ]);
  const deep = scan('deep JSON', encoder.encode('{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH) + '\n'));
  assert.equal(deep.result.value.summary.records, 1);
  assert.deepEqual(deep.result.value.warnings, [
    // serde_json stops at 128 levels: byte 636 is the 128th '{'.
    { file: 'deep JSON', record: 1, offset: 0, message: 'invalid JSON: recursion limit exceeded at line 1 column 636' },
  ]);
  const brackets = scan('open brackets', encoder.encode('['.repeat(DEPTH)));
  assert.deepEqual(brackets.result.value.warnings.map((warning) => warning.message), [
    'truncated JSON value: the input ends inside it',
  ]);
  // The reader skips an event at its 65th nested element and starts the
  // next event at the following `<Event>`: 1,538 events of 65 elements
  // are too deep, and the last 30 elements are cut off.
  const xml = scan('deep XML', encoder.encode('<Event>'.repeat(DEPTH)));
  const xmlWarnings = xml.result.value.warnings;
  assert.equal(xml.result.value.summary.records, 1539);
  assert.equal(xmlWarnings.length, 1539);
  assert.deepEqual(xmlWarnings[0], {
    file: 'deep XML', record: 1, offset: 0,
    message: 'XML event nested deeper than the maxDepth limit of 64 elements (at byte 448); the event is skipped',
  });
  assert.deepEqual(xmlWarnings[1537], {
    file: 'deep XML', record: 1538, offset: 1537 * 455,
    message: `XML event nested deeper than the maxDepth limit of 64 elements (at byte ${1537 * 455 + 448}); the event is skipped`,
  });
  assert.deepEqual(xmlWarnings[1538], {
    file: 'deep XML', record: 1539, offset: 1538 * 455, message: 'truncated XML event: the input ends inside it',
  });
  const utf8 = scan('invalid UTF-8', Uint8Array.from([...encoder.encode('{"EventID": 10, "Image": "'), 0xff, 0xc3, 0x28, ...encoder.encode('"}\n')]));
  assert.equal(utf8.result.value.summary.records, 1);
  assert.deepEqual(utf8.result.value.warnings, []);

  // Bytes in no format: every later push and finish throws the same error.
  const binary = engine.scanner('binary', false);
  const bytes = Uint8Array.from({ length: 1000 }, (_, index) => (index * 7919) % 251);
  const message = 'binary: unknown format: expected EVTX, JSON, NDJSON, XML or CSV (plain, UTF-16, gzip or zip), ' +
    'but the file starts with bytes 00 8a 19 a3 32 bc 4b d5 64 ee 7d 0c 96 25 af 3e';
  for (const [label, call] of [['push(binary)', () => binary.push(bytes)], ['push(binary) again', () => binary.push(bytes)], ['finish(binary)', () => binary.finish()]]) {
    const { error } = expectGlue(label, 'InputError', call);
    assert.equal(error.code, 'unknown-format', label);
    assert.equal(error.message, message, label);
  }
  binary.free();
  engine.free();
});

test('glue countLiteral rejects garbage arguments', () => {
  const bytes = new TextEncoder().encode('WerFaultSecure.exe werfaultsecure.EXE');
  for (const [kind, value] of Object.entries({ ...WRONG_TYPES, null: null, string: 'bytes' })) {
    expectGlue(`countLiteral(${kind})`, 'TypeError', () => glue.countLiteral(value, 'x', false));
  }
  for (const [kind, value] of Object.entries({ ...WRONG_TYPES, null: null, bytes: new Uint8Array(2) })) {
    expectGlue(`countLiteral(bytes, ${kind})`, 'TypeError', () => glue.countLiteral(bytes, value, false));
  }
  // The optional flag takes a boolean, or null or undefined for false.
  for (const [kind, value] of Object.entries({ ...WRONG_TYPES, string: 'yes', bytes: new Uint8Array(2) })) {
    expectGlue(`countLiteral(bytes, literal, ${kind})`, 'TypeError', () => glue.countLiteral(bytes, 'x', value));
  }
  const counts = {
    ascii: glue.countLiteral(bytes, 'werfaultsecure.exe', false),
    empty: glue.countLiteral(new Uint8Array(0), '', false),
    emptyLiteral: glue.countLiteral(bytes, '', true),
    surrogate: glue.countLiteral(bytes, '\ud800', undefined),
  };
  assert.deepEqual(counts, { ascii: 2, empty: 0, emptyLiteral: 0, surrogate: 0 });
  assertGlueWorks('after countLiteral');
});

test('glue calls on freed objects throw errors', () => {
  const engine = new glue.Engine();
  const scanner = engine.scanner('x');
  engine.free();
  scanner.free();
  expectGlue('evaluate on a freed Engine', 'Error', () => engine.evaluate(SAMPLE_JSON));
  expectGlue('scanner on a freed Engine', 'Error', () => engine.scanner('x'));
  expectGlue('push on a freed Scanner', 'Error', () => scanner.push(SAMPLE_EVTX));
});

// The npm package, installed from its tarball as a plugin author gets it.
let project;
let sigma;

before(async () => {
  ({ project } = installPackedPackage({ prefix: 'sigma-edge-garbage-' }));
  const entry = createRequire(join(project, 'index.js')).resolve('sigma-edge');
  sigma = await import(pathToFileURL(entry).href);
});

after(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

/** Checks that the package still finds the EDR-Freeze event. */
async function assertPackageWorks(label) {
  assert.deepEqual(sigma.evaluate(SAMPLE_JSON).map((match) => match.recordId), [445923], label);
  const { matches } = await new sigma.Engine().scan(SAMPLE_EVTX).collect();
  assert.deepEqual(matches.map((match) => match.recordId), [445923], label);
}

async function expectPackage(label, name, call) {
  let result;
  try {
    result = { value: await call() };
  } catch (error) {
    result = { error };
  }
  if (name === null) assertReturned(result, label);
  else assertThrew(result, name, label);
  await assertPackageWorks(`after ${label}`);
  return result;
}

test('package evaluate and Engine reject garbage', async () => {
  const engine = new sigma.Engine();
  for (const [kind, value] of Object.entries({ ...WRONG_TYPES, null: null, undefined, boolean: true })) {
    await expectPackage(`evaluate(${kind})`, 'TypeError', () => sigma.evaluate(value));
    await expectPackage(`Engine.evaluate(${kind})`, 'TypeError', () => engine.evaluate(value));
    await expectPackage(`evaluateBatch(${kind})`, 'TypeError', () => engine.evaluateBatch(value));
  }
  // No options (undefined or null) means the defaults.
  for (const [kind, value] of Object.entries({ ...WRONG_TYPES, boolean: true, array: [] })) {
    await expectPackage(`new Engine(${kind})`, 'TypeError', () => new sigma.Engine(value));
  }
  for (const [kind, value] of Object.entries(BAD_EVENTS)) {
    await expectPackage(`evaluate(${kind})`, 'InvalidInputError', () => sigma.evaluate(value));
    await expectPackage(`evaluateBatch([${kind}])`, 'InvalidInputError', () => engine.evaluateBatch([value]));
  }
  for (const [kind, event] of Object.entries(LONE_SURROGATES)) {
    await expectPackage(`evaluate(${kind} with a lone surrogate)`, null, () => sigma.evaluate(event));
  }
  const limits = await expectPackage('new Engine(limits: { maxDepth: 0 })', 'TypeError', () =>
    new sigma.Engine({ limits: { maxDepth: 0 } }));
  assert.equal(limits.error.code, 'invalid-options');
  const strict = await expectPackage('new Engine(huge rule, strict)', 'SigmaRuleError', () =>
    new sigma.Engine({ strict: true, rules: [`title: ${'x'.repeat(2 * MIB)}\n`] }));
  assert.equal(strict.error.code, 'limit');
  await expectPackage('version(garbage)', null, () => sigma.version(Symbol('x')));
  await expectPackage('rules(garbage)', null, () => engine.rules(Symbol('x')));
  await expectPackage('warnings', null, () => engine.warnings);
  engine.free();
  await expectPackage('evaluate on a freed Engine', 'SigmaEdgeError', () => engine.evaluate(SAMPLE_JSON));
});

test('package scan rejects garbage inputs and options', async () => {
  const engine = new sigma.Engine();
  const { float64Array, arrayBuffer, dataView, ...notBytes } = WRONG_TYPES;
  for (const [kind, value] of Object.entries({ ...notBytes, null: null, undefined, object: {} })) {
    await expectPackage(`scan(${kind})`, 'TypeError', () => engine.scan(value).collect());
  }
  for (const [kind, value] of Object.entries({ ...WRONG_TYPES, null: null, array: [], string: 'file' })) {
    const result = await expectPackage(`scan(bytes, ${kind} options)`, 'TypeError', () => engine.scan(SAMPLE_EVTX, value).collect());
    assert.equal(result.error.code, 'invalid-options', kind);
  }
  // Any ArrayBuffer or view of one is read as its bytes: zeros here.
  for (const [kind, value] of Object.entries({ float64Array, arrayBuffer, dataView })) {
    const result = await expectPackage(`scan(${kind})`, 'UnsupportedFormatError', () => engine.scan(value).collect());
    assert.equal(result.error.code, 'unknown-format', kind);
  }
  await expectPackage('scan(chunks of garbage)', 'TypeError', () => engine.scan([SAMPLE_EVTX, 5]).collect());
  const unknown = await expectPackage('scan(binary)', 'UnsupportedFormatError', () =>
    engine.scan(Uint8Array.from({ length: 1000 }, (_, index) => (index * 7919) % 251)).collect());
  assert.equal(unknown.error.code, 'unknown-format');
  const huge = await expectPackage('scan(64 MiB JSON line)', null, () =>
    engine.scan(new TextEncoder().encode(`{"a":"${'x'.repeat(64 * MIB)}"}\n`), { prefilter: false }).collect());
  assert.deepEqual(huge.value.warnings.map((warning) => warning.message), [
    `record larger than the maxRecordBytes limit of ${MAX_RECORD_BYTES} bytes; skipped`,
  ]);
  engine.free();
});
