// The scan command: streams each file through the wasm scanner, prints one
// JSON line per match on stdout and a summary on stderr.
import { createReadStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { initSync, Engine } from '../pkg/sigma_edge.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLE_DIR = 'tests/data/edr-freeze/proc_access_win_werfaultsecure_msmpeng_access';
const SAMPLES = [
  join(SAMPLE_DIR, '387df17d-3b04-448f-8669-9e7fd5e5fd8c.evtx'),
  join(SAMPLE_DIR, '387df17d-3b04-448f-8669-9e7fd5e5fd8c.json'),
];
const READ_SIZE = 1 << 20;

const USAGE = `Usage: pkg-scripts/scan [--rules PATH]... [FILE...]

Checks Windows event log files against Sigma rules and prints one JSON line
per match on stdout and a summary on stderr. The format is detected from the
content: EVTX, XML (Event Viewer or wevtutil), JSON or NDJSON (evtx JSON,
Winlogbeat, flat), CSV with a header row, any of the text formats in UTF-16,
and all of them inside .gz or .zip files (each zip member is scanned as
ARCHIVE:MEMBER).

  --rules PATH     a Sigma rule file (.yml/.yaml) or a folder searched for
                   them; repeatable; replaces the bundled EDR-Freeze rules
  --no-prefilter   parse every record; by default records that contain no
                   literal any rule needs are skipped unparsed (matches are
                   the same, but damaged records among them go unreported)
  --progress       report progress on stderr: bytes read, records, matches
                   and speed, about once a second and when each file ends
                   (the default when stderr is a terminal)
  --no-progress    do not report progress
  -h, --help       show this help

A FILE that is a folder is scanned file by file, with its subfolders.
With no FILE, scans the bundled EDR-Freeze sample (EVTX and JSON); - reads
standard input.

Exit status: 0 when every file and rule was read whole; 1 when some records
could not be read (each is a warning on stderr); 2 when a file or rule could
not be read at all. A --rules PATH that cannot be read stops the command
before any file is scanned.`;

function parseArguments(argv) {
  const rules = [];
  const files = [];
  let prefilter = true;
  let progress = process.stderr.isTTY === true;
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    if (argument === '-h' || argument === '--help') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else if (argument === '--rules') {
      if (i + 1 >= argv.length) throw new Error('--rules needs a file or folder');
      rules.push(argv[++i]);
    } else if (argument === '--no-prefilter') {
      prefilter = false;
    } else if (argument === '--progress' || argument === '--no-progress') {
      progress = argument === '--progress';
    } else if (argument.startsWith('--rules=')) {
      rules.push(argument.slice('--rules='.length));
    } else if (argument.startsWith('-') && argument !== '-') {
      throw new Error(`unknown option ${argument}; see --help`);
    } else {
      files.push(argument);
    }
  }
  return { rules, files, prefilter, progress };
}

/** Lists the rule files under a path: the file itself, or *.yml/*.yaml in a folder tree. */
function ruleFiles(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true })
    .map((name) => join(path, name))
    .filter((file) => /\.ya?ml$/i.test(file) && statSync(file).isFile())
    .sort();
}

/** Reads the rule files under each path, or returns null after printing why one cannot be read. */
function readRules(rulePaths) {
  const rules = [];
  for (const path of rulePaths) {
    try {
      const files = ruleFiles(path);
      if (files.length === 0) throw new Error('no .yml or .yaml file found');
      for (const file of files) rules.push({ name: file, yaml: readFileSync(file, 'utf8') });
    } catch (error) {
      process.stderr.write(`error: cannot read rules from ${path}: ${error.message}; no file scanned\n`);
      return null;
    }
  }
  return rules;
}

/** Builds the engine, prints each rule that failed to load, and returns the engine with the failure count. */
function loadEngine(rules, defaultRules) {
  let unreadable = 0;
  const engine = new Engine({ rules, defaultRules });
  for (const warning of engine.warnings) {
    const note = warning.code === 'never-matches' || warning.code === 'unused-filter';
    process.stderr.write(`${note ? 'note' : 'error'}: ${warning.message}\n`);
    if (!note) unreadable++;
  }
  return { engine, unreadable };
}

/** Expands each folder among `paths` into the files under it, sorted. Other paths stay as given. */
function inputFiles(paths) {
  const files = [];
  for (const path of paths) {
    let folder = false;
    try {
      folder = path !== '-' && statSync(path).isDirectory();
    } catch {
      // A missing file is reported when its scan fails.
    }
    if (!folder) {
      files.push(path);
      continue;
    }
    const inside = readdirSync(path, { recursive: true })
      .map((name) => join(path, name))
      .filter((file) => statSync(file).isFile())
      .sort();
    files.push(...inside);
  }
  return files;
}

function printMatch(match) {
  const line = {
    ruleId: match.ruleId,
    ruleTitle: match.ruleTitle,
    level: match.level,
    file: match.file,
    recordId: match.recordId,
    eventId: match.eventId,
    channel: match.channel,
    computer: match.computer,
    timestamp: match.timestamp,
    fields: match.fields,
    record: match.record,
    offset: match.offset,
  };
  process.stdout.write(JSON.stringify(line) + '\n');
}

const MIB = 1024 * 1024;
/** The minimum time between two progress reports of one file. */
const PROGRESS_INTERVAL_MS = 1000;

/**
 * Progress of one file on stderr. On a terminal, each report overwrites the
 * last, and other output clears it first. Elsewhere, each report is a line.
 */
class Progress {
  #file;
  #total;
  #enabled;
  #terminal = process.stderr.isTTY === true;
  #started = performance.now();
  #reported = this.#started;
  #shown = false;

  /** @param {string} file @param {number | undefined} total bytes, when known */
  constructor(file, total, enabled) {
    this.#file = file;
    this.#total = total;
    this.#enabled = enabled;
  }

  /**
   * Reports the counts that `summary` returns (the scanner's summary) when
   * a second has passed since the last report.
   */
  update(summary) {
    const now = performance.now();
    if (!this.#enabled || now - this.#reported < PROGRESS_INTERVAL_MS) return;
    this.#reported = now;
    this.#write(summary(), now, false);
  }

  /** Reports the final state of the file. */
  done(state) {
    if (this.#enabled) this.#write(state, performance.now(), true);
  }

  /** Removes a report that a terminal still shows, before other output. */
  clear() {
    if (this.#shown) process.stderr.write('\r\x1b[K');
    this.#shown = false;
  }

  #write({ bytes, records, matches }, now, final) {
    const seconds = (now - this.#started) / 1000;
    const read = this.#total === undefined
      ? `${(bytes / MIB).toFixed(1)} MiB`
      : `${(bytes / MIB).toFixed(1)} of ${(this.#total / MIB).toFixed(1)} MiB (${percent(bytes, this.#total)}%)`;
    const speed = seconds > 0 ? `, ${(bytes / MIB / seconds).toFixed(0)} MiB/s` : '';
    const text = `progress: ${this.#file}: ${read}, ${count(records, 'record')}, ${count(matches, 'match', 'matches')}${speed}${final ? ', done' : ''}`;
    this.clear();
    if (this.#terminal && !final) {
      process.stderr.write(text);
      this.#shown = true;
    } else {
      process.stderr.write(text + '\n');
    }
  }
}

/** Returns `number` with the noun in the singular or plural that it takes. */
function count(number, singular, plural = `${singular}s`) {
  return `${number} ${number === 1 ? singular : plural}`;
}

function percent(part, whole) {
  return whole === 0 ? 100 : Math.floor((part / whole) * 100);
}

function printWarnings(warnings, progress) {
  for (const warning of warnings) {
    const where = warning.record == null ? '' : `record ${warning.record} `;
    progress.clear();
    process.stderr.write(`warning: ${warning.file}: ${where}at byte ${warning.offset}: ${warning.message}\n`);
  }
}

/** Returns the size of a regular file, or undefined for stdin and pipes. */
function fileSize(file) {
  if (file === '-') return undefined;
  const stats = statSync(file);
  return stats.isFile() ? stats.size : undefined;
}

async function scanFile(engine, file, options) {
  const progress = new Progress(file, fileSize(file), options.progress);
  const scanner = engine.scanner(file, options.prefilter);
  const stream = file === '-' ? process.stdin : createReadStream(file, { highWaterMark: READ_SIZE });
  try {
    for await (const piece of stream) {
      const found = scanner.push(piece);
      if (found.length > 0) progress.clear();
      for (const match of found) printMatch(match);
      printWarnings(scanner.takeWarnings(), progress);
      progress.update(() => scanner.summary());
    }
    const { matches, warnings, summary } = scanner.finish();
    progress.clear();
    for (const match of matches) printMatch(match);
    printWarnings(warnings, progress);
    progress.done(summary);
    return summary;
  } finally {
    progress.clear();
    scanner.free();
  }
}

async function main() {
  let options;
  try {
    options = parseArguments(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`error: ${error.message}\n`);
    return 2;
  }
  initSync({ module: readFileSync(join(root, 'pkg/sigma_edge_bg.wasm')) });
  const rules = readRules(options.rules);
  if (rules === null) return 2;
  const { engine, unreadable } = loadEngine(rules, options.rules.length === 0);
  if (engine.rules().length === 0) {
    process.stderr.write('error: no rule could be loaded; no file scanned\n');
    return 2;
  }
  const files = options.files.length > 0 ? inputFiles(options.files) : SAMPLES.map((file) => relative(process.cwd(), join(root, file)));

  const totals = { files: 0, records: 0, skipped: 0, matches: 0, warnings: 0, errors: unreadable };
  for (const file of files) {
    try {
      const summary = await scanFile(engine, file, options);
      totals.files++;
      totals.records += summary.records;
      totals.skipped += summary.recordsSkipped;
      totals.matches += summary.matches;
      totals.warnings += summary.warnings;
    } catch (error) {
      process.stderr.write(`error: ${error.message.startsWith(file) ? '' : file + ': '}${error.message}\n`);
      totals.errors++;
    }
  }
  process.stderr.write(
    `scanned ${totals.files} file(s): ${count(totals.records, 'record')} (${totals.skipped} skipped unparsed), ` +
      `${count(totals.matches, 'match', 'matches')}, ${count(totals.warnings, 'warning')}, ${count(totals.errors, 'error')}\n`,
  );
  if (totals.errors > 0) return 2;
  return totals.warnings > 0 ? 1 : 0;
}

process.exitCode = await main();
