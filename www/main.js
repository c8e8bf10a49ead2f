// The log review page: files in, scan state, and the views drawn from it.

import { compileWasm } from './assets.js';
import { DetailView } from './detail.js';
import { download, toCsv, toNdjson } from './export.js';
import { LEVELS, selectHits } from './hits.js';
import { setUpIntake } from './input.js';
import { renderFiles, renderOverall, renderRuleSummary, renderVerdict, renderWarnings } from './render.js';
import { RulesPanel } from './rules.js';
import { ScanPool } from './scan.js';
import { HitTable, MAX_ROWS } from './table.js';
import { formatCount, plural } from './text.js';

/** Maximum number of hits kept in memory; more are counted but not listed or exported. */
const MAX_HITS = 100_000;

/** Minimum time between redraws of the hits table during a scan, in ms. */
const RESULTS_REDRAW_MS = 250;

const $ = (id) => document.getElementById(id);

const state = {
  files: [],
  nextFileId: 1,
  hits: [],
  nextSeq: 0,
  hitsNotKept: 0,
  warnings: [],
  bundledIds: new Set(),
  bundledOn: true,
  rulesChanged: false,
  filter: { text: '', level: '', rule: '' },
  sort: { key: 'time', descending: false },
  selected: null,
  view: [],
  // Scan time over all runs: `activeMs` of the finished runs, plus the
  // current run since `started`.
  run: { started: 0, activeMs: 0 },
  fatal: null,
};

const dirty = { results: false, warnings: false };
let lastResultsRender = 0;
let frame = 0;
let redrawTimer = 0;
let pool = null;

const table = new HitTable($('hits'), {
  onSelect: (seq) => selectHit(seq),
  onOpen: () => detail.focus(),
  onSort: (key) => {
    state.sort = { key, descending: state.sort.key === key ? !state.sort.descending : false };
    dirty.results = true;
    scheduleRender();
  },
});
const detail = new DetailView($('detail'));

const rulesPanel = new RulesPanel(
  {
    panel: $('rules-section'),
    bundled: $('bundled-rules'),
    list: $('rule-list'),
    errors: $('rule-errors'),
    count: $('rules-count'),
    yaml: $('rule-yaml'),
    addButton: $('add-rule-button'),
    fileButton: $('rule-file-button'),
    fileInput: $('rule-file-input'),
    addPanel: $('add-rule'),
  },
  (config) => applyRules(config),
);

// --- scan state -----------------------------------------------------------

function emptySummary() {
  return { format: null, bytes: 0, records: 0, matches: 0, warnings: 0 };
}

function isRunning() {
  return state.files.some((entry) => entry.status === 'queued' || entry.status === 'scanning');
}

function startRun() {
  if (!isRunning()) state.run.started = performance.now();
}

function scanTime() {
  return state.run.activeMs + (isRunning() ? performance.now() - state.run.started : 0);
}

function addFiles({ files, unreadable }) {
  const known = new Set(state.files.map((entry) => `${entry.name}\0${entry.size}\0${entry.file.lastModified}`));
  const fresh = files.filter(({ file, name }) => !known.has(`${name}\0${file.size}\0${file.lastModified}`));
  const skipped = files.length - fresh.length;
  $('intake-status').textContent = skipped ? `${plural(skipped, 'file')} already in the list, not added again.` : '';

  for (const { name, message } of unreadable) {
    state.warnings.push({ file: name, record: null, offset: null, message: `cannot read the dropped entry: ${message}` });
    dirty.warnings = true;
  }
  if (fresh.length === 0) {
    scheduleRender();
    return;
  }
  startRun();
  document.body.dataset.scan = 'running';
  const entries = fresh.map(({ file, name }) => ({
    id: state.nextFileId++,
    file,
    name,
    size: file.size,
    status: 'queued',
    summary: emptySummary(),
    elapsed: 0,
    error: null,
  }));
  state.files.push(...entries);
  pool.enqueue(entries.map(({ id, file, name }) => ({ id, file, name, prefilter: !$('parse-all').checked })));
  scheduleRender();
}

function addHits(entry, matches) {
  for (const match of matches ?? []) {
    if (state.hits.length >= MAX_HITS) {
      state.hitsNotKept += 1;
      continue;
    }
    state.hits.push({ seq: state.nextSeq++, fileId: entry.id, match });
  }
  if (matches?.length) dirty.results = true;
}

function addWarnings(warnings) {
  if (!warnings?.length) return;
  state.warnings.push(...warnings);
  dirty.warnings = true;
}

function onScanEvent(message) {
  if (message.type === 'fatal') {
    state.fatal = message.error;
    scheduleRender();
    return;
  }
  const entry = state.files.find((candidate) => candidate.id === message.id);
  if (!entry) return;

  if (message.summary) entry.summary = message.summary;
  if (message.elapsed !== undefined) entry.elapsed = message.elapsed;
  addHits(entry, message.matches);
  addWarnings(message.warnings);

  switch (message.type) {
    case 'started':
      entry.status = 'scanning';
      break;
    case 'done':
    case 'cancelled':
      entry.status = message.type;
      break;
    case 'failed':
      entry.status = 'failed';
      entry.error = message.error;
      addWarnings([{ file: entry.name, record: null, offset: null, message: message.error.message, unreadableFile: true }]);
      break;
  }
  if (!isRunning() && state.run.started) {
    state.run.activeMs += performance.now() - state.run.started;
    state.run.started = 0;
  }
  scheduleRender();
}

// --- rules ----------------------------------------------------------------

async function applyRules(config) {
  try {
    const info = await pool.setRules(config);
    showRules(info, config);
    if (state.files.length) state.rulesChanged = true;
  } catch (error) {
    state.fatal = error;
  }
  scheduleRender();
}

function showRules(info, config) {
  state.bundledIds = new Set(info.bundledIds);
  state.bundledOn = config.defaultRules;
  rulesPanel.render(info);
  $('version').textContent = `sigma-edge ${info.version}.`;
}

function rescan() {
  if (isRunning()) return;
  state.hits = [];
  state.hitsNotKept = 0;
  state.warnings = [];
  state.selected = null;
  state.rulesChanged = false;
  detail.clear();
  state.run = { started: 0, activeMs: 0 };
  startRun();
  document.body.dataset.scan = 'running';
  for (const entry of state.files) Object.assign(entry, { status: 'queued', summary: emptySummary(), elapsed: 0, error: null });
  pool.enqueue(state.files.map(({ id, file, name }) => ({ id, file, name, prefilter: !$('parse-all').checked })));
  dirty.results = dirty.warnings = true;
  scheduleRender();
}

function clearAll() {
  if (isRunning()) pool.cancelAll();
  Object.assign(state, {
    files: [], hits: [], hitsNotKept: 0, warnings: [], selected: null, rulesChanged: false, view: [],
  });
  state.run = { started: 0, activeMs: 0 };
  state.filter = { text: '', level: '', rule: '' };
  $('filter-text').value = '';
  $('intake-status').textContent = '';
  detail.clear();
  dirty.results = dirty.warnings = true;
  scheduleRender();
}

// --- results --------------------------------------------------------------

function selectHit(seq) {
  const hit = state.hits.find((candidate) => candidate.seq === seq);
  if (!hit) return;
  state.selected = seq;
  const entry = state.files.find((candidate) => candidate.id === hit.fileId);
  detail.show(hit, entry ? { file: entry.file, format: entry.summary.format } : null);
}

function fillSelect(select, options, chosen) {
  const first = select.options[0];
  const items = options.map(([value, label]) => Object.assign(document.createElement('option'), { value, textContent: label }));
  select.replaceChildren(first, ...items);
  select.value = options.some(([value]) => value === chosen) ? chosen : '';
}

function renderFilters() {
  const levels = new Set(state.hits.map((hit) => hit.match.level));
  fillSelect($('filter-level'), LEVELS.filter((level) => levels.has(level)).map((level) => [level, level]), state.filter.level);
  const rules = new Map(state.hits.map((hit) => [hit.match.ruleId, hit.match.ruleTitle]));
  fillSelect($('filter-rule'), [...rules].sort((a, b) => a[1].localeCompare(b[1])), state.filter.rule);
  state.filter.level = $('filter-level').value;
  state.filter.rule = $('filter-rule').value;
}

function renderResults() {
  $('results-section').hidden = state.hits.length === 0 && state.hitsNotKept === 0;
  renderRuleSummary($('rule-summary'), state.hits, (ruleId) => {
    state.filter.rule = ruleId;
    $('filter-rule').value = ruleId;
    dirty.results = true;
    scheduleRender();
  });
  renderFilters();

  state.view = selectHits(state.hits, state.filter, state.sort);
  if (state.selected === null && state.view.length > 0) {
    selectHit(state.view[0].seq);
  }
  table.render(state.view, state.selected, state.sort);

  const filtered = state.view.length !== state.hits.length;
  $('filter-count').textContent = filtered ? `${formatCount(state.view.length)} of ${plural(state.hits.length, 'hit')}` : plural(state.hits.length, 'hit');
  $('export-label').textContent = `Export ${plural(state.view.length, 'hit')}`;
  for (const id of ['export-ndjson', 'export-csv']) $(id).disabled = state.view.length === 0;

  const notes = [];
  if (state.view.length > MAX_ROWS) notes.push(`The table shows the first ${formatCount(MAX_ROWS)} of ${plural(state.view.length, 'hit')}; narrow it with the filter, or export them all.`);
  if (state.hitsNotKept) notes.push(`${plural(state.hitsNotKept, 'more hit')} than the ${formatCount(MAX_HITS)} kept were counted but are not listed or exported.`);
  $('hits-note').hidden = notes.length === 0;
  $('hits-note').textContent = notes.join(' ');
}

// --- drawing --------------------------------------------------------------

function scheduleRender() {
  if (!frame) frame = requestAnimationFrame(render);
}

function render() {
  frame = 0;
  const running = isRunning();
  // data-scan lets scripts, such as the browser tests, wait for a scan to end.
  document.body.dataset.scan = running ? 'running' : 'idle';
  if (state.fatal) {
    $('fatal').hidden = false;
    $('fatal').textContent = `The scanner stopped working: ${state.fatal.message}. Reload the page to start again.`;
  }

  renderVerdict($('verdict'), {
    files: state.files,
    hits: state.hits,
    bundledIds: state.bundledIds,
    bundledOn: state.bundledOn,
    warningCount: state.warnings.filter((warning) => !warning.unreadableFile).length,
    rulesChanged: state.rulesChanged,
  });
  $('files-section').hidden = state.files.length === 0;
  document.body.classList.toggle('has-files', state.files.length > 0);
  renderFiles($('file-list'), state.files, (id) => pool.cancel(id));
  renderOverall($('overall'), $('overall-progress'), state.files, scanTime());
  $('cancel-all').hidden = !running;
  rulesPanel.setLocked(running);
  $('rules-stale').hidden = !state.rulesChanged || running;

  const now = performance.now();
  if (dirty.results && (!running || now - lastResultsRender >= RESULTS_REDRAW_MS)) {
    dirty.results = false;
    lastResultsRender = now;
    renderResults();
  }
  if (dirty.warnings) {
    dirty.warnings = false;
    renderWarnings($('warnings-section'), $('warnings-note'), state.warnings);
  }
  if (dirty.results && !redrawTimer) {
    redrawTimer = setTimeout(() => {
      redrawTimer = 0;
      scheduleRender();
    }, RESULTS_REDRAW_MS - (now - lastResultsRender));
  }
}

// --- start ----------------------------------------------------------------

function wireControls() {
  setUpIntake({
    dropZone: $('drop-zone'),
    fileInput: $('file-input'),
    folderButton: $('choose-folder'),
    folderInput: $('folder-input'),
    onFiles: addFiles,
  });
  $('cancel-all').addEventListener('click', () => pool.cancelAll());
  $('clear-all').addEventListener('click', clearAll);
  $('rescan').addEventListener('click', rescan);
  $('filter-text').addEventListener('input', (event) => {
    state.filter.text = event.target.value;
    dirty.results = true;
    scheduleRender();
  });
  for (const [id, key] of [['filter-level', 'level'], ['filter-rule', 'rule']]) {
    $(id).addEventListener('change', (event) => {
      state.filter[key] = event.target.value;
      dirty.results = true;
      scheduleRender();
    });
  }
  $('export-ndjson').addEventListener('click', () => download(toNdjson(state.view.map((hit) => hit.match)), 'application/x-ndjson', 'ndjson'));
  $('export-csv').addEventListener('click', () => download(toCsv(state.view.map((hit) => hit.match)), 'text/csv', 'csv'));
}

async function start() {
  wireControls();
  try {
    const module = await compileWasm();
    pool = new ScanPool(module, onScanEvent);
    const config = rulesPanel.config;
    showRules(await pool.start(config), config);
    document.body.dataset.ready = 'true';
  } catch (error) {
    state.fatal = error;
    scheduleRender();
  }
}

start();
