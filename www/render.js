// Views of the scan state: the verdict banner, the file list with progress,
// the hits-per-rule summary and the warnings table.

import { baseName, levelRank } from './hits.js';
import { levelBadge } from './table.js';
import { formatBytes, formatCount, formatRate, plural } from './text.js';

/** Maximum number of warning rows drawn; the count of the rest is shown. */
export const MAX_WARNING_ROWS = 1000;

const STATUS_TEXT = {
  queued: 'Queued',
  scanning: 'Scanning',
  done: 'Done',
  cancelled: 'Cancelled',
  failed: 'Not read',
};

/** Counts over all files, for the verdict and the overall progress line. */
export function totals(files) {
  const sum = { files: files.length, size: 0, bytes: 0, records: 0, matches: 0 };
  const byStatus = { queued: 0, scanning: 0, done: 0, cancelled: 0, failed: 0 };
  let recordsDone = 0;
  for (const entry of files) {
    sum.size += entry.size;
    sum.bytes += entry.status === 'done' ? entry.size : entry.summary.bytes;
    sum.records += entry.summary.records;
    sum.matches += entry.summary.matches;
    byStatus[entry.status] += 1;
    if (entry.status === 'done') recordsDone += entry.summary.records;
  }
  return { ...sum, byStatus, recordsDone };
}

function incompleteNotes(count, warningCount) {
  const notes = [];
  if (count.byStatus.failed) notes.push(`${plural(count.byStatus.failed, 'file')} could not be read`);
  if (count.byStatus.cancelled) notes.push(`${plural(count.byStatus.cancelled, 'file')} cancelled`);
  if (warningCount) notes.push(plural(warningCount, 'warning'));
  return notes.length ? `Not checked completely: ${notes.join(', ')}. See the lists below.` : '';
}

/**
 * Works out the verdict: {tone, title, detail}. `tone` is `alert` (EDR-Freeze
 * hits), `caution` (hits of the user's rules, or nothing could be read),
 * `pending` (scan running, nothing found yet) or `clear`.
 */
export function verdict({ files, hits, bundledIds, bundledOn, warningCount, rulesChanged }) {
  const count = totals(files);
  const running = count.byStatus.queued + count.byStatus.scanning > 0;
  const edrHits = hits.filter((hit) => bundledIds.has(hit.match.ruleId));
  const edrFiles = new Set(edrHits.map((hit) => hit.fileId)).size;
  const ownHits = hits.length - edrHits.length;
  const checked = `${plural(count.byStatus.done, 'file')}, ${plural(count.recordsDone, 'record')}`;

  const details = [];
  if (running) details.push(`Scanning: ${formatCount(count.byStatus.done)} of ${plural(count.files, 'file')} done.`);
  if (ownHits) details.push(`Your own rules matched ${plural(ownHits, 'event')}.`);
  const incomplete = incompleteNotes(count, warningCount);
  if (incomplete) details.push(incomplete);
  if (rulesChanged) details.push('The rules changed after this scan.');

  if (edrHits.length) {
    const rules = new Set(edrHits.map((hit) => hit.match.ruleId)).size;
    details.unshift(`${plural(edrHits.length, 'hit')} of ${plural(rules, 'EDR-Freeze rule')}; ${checked} checked.`);
    return { tone: 'alert', title: `EDR-Freeze activity found in ${plural(edrFiles, 'file')}`, detail: details.join(' ') };
  }
  if (running) {
    const title = `Scanning ${plural(count.files, 'file')}…`;
    return { tone: ownHits ? 'caution' : 'pending', title, detail: details.join(' ') || 'Nothing found so far.' };
  }
  if (count.byStatus.done === 0) {
    return { tone: 'caution', title: 'No file could be checked', detail: details.join(' ') };
  }
  const title = bundledOn ? `No EDR-Freeze activity in ${checked}` : `Bundled EDR-Freeze rules off; ${checked} checked`;
  const tone = ownHits || incomplete ? 'caution' : 'clear';
  return { tone, title, detail: details.join(' ') || 'No file or record was reported as unreadable.' };
}

export function renderVerdict(section, state) {
  if (state.files.length === 0) {
    section.hidden = true;
    return;
  }
  const { tone, title, detail } = verdict(state);
  section.hidden = false;
  section.className = `verdict verdict-${tone}`;
  section.querySelector('#verdict-title').textContent = title;
  section.querySelector('#verdict-detail').textContent = detail;
}

/**
 * Draws the overall progress line: "2 of 5 files · 120.0 MiB of 300.0 MiB · …".
 * `elapsed` is the wall-clock time of the scan in milliseconds, since
 * workers scan files in parallel.
 */
export function renderOverall(line, bar, files, elapsed) {
  const count = totals(files);
  const finished = count.byStatus.done + count.byStatus.cancelled + count.byStatus.failed;
  const parts = [
    `${formatCount(finished)} of ${plural(count.files, 'file')}`,
    `${formatBytes(count.bytes)} of ${formatBytes(count.size)}`,
    plural(count.records, 'record'),
    plural(count.matches, 'hit'),
  ];
  const rate = formatRate(count.bytes, elapsed);
  if (rate) parts.push(rate);
  line.textContent = parts.join(' · ');
  bar.max = Math.max(1, count.size);
  bar.value = count.bytes;
}

function fileItem(entry, onCancel) {
  const item = document.createElement('li');
  item.className = 'file';
  item.dataset.id = entry.id;
  item.innerHTML = `
    <div class="file-line">
      <span class="file-name"></span>
      <span class="file-format"></span>
      <span class="file-status"></span>
      <button type="button" class="button small file-cancel">Cancel</button>
    </div>
    <progress class="file-progress" max="1" value="0"></progress>
    <p class="file-stats"></p>
    <p class="file-error" hidden></p>`;
  const name = item.querySelector('.file-name');
  name.textContent = entry.name;
  name.title = entry.name;
  const cancel = item.querySelector('.file-cancel');
  cancel.setAttribute('aria-label', `Cancel ${entry.name}`);
  cancel.addEventListener('click', () => onCancel(entry.id));
  item.querySelector('.file-progress').setAttribute('aria-label', `Progress of ${entry.name}`);
  return item;
}

function updateFileItem(item, entry) {
  const { summary } = entry;
  item.className = `file file-${entry.status}`;
  item.querySelector('.file-format').textContent = summary.format ? summary.format.toUpperCase() : '';
  item.querySelector('.file-status').textContent = STATUS_TEXT[entry.status];
  item.querySelector('.file-cancel').hidden = entry.status !== 'queued' && entry.status !== 'scanning';

  const bar = item.querySelector('.file-progress');
  bar.max = Math.max(1, entry.size);
  bar.value = entry.status === 'done' ? entry.size : summary.bytes;

  const stats = [`${formatBytes(summary.bytes)} of ${formatBytes(entry.size)}`, plural(summary.records, 'record'), plural(summary.matches, 'hit')];
  if (summary.warnings) stats.push(plural(summary.warnings, 'warning'));
  const rate = formatRate(summary.bytes, entry.elapsed);
  if (rate && entry.status !== 'queued') stats.push(rate);
  item.querySelector('.file-stats').textContent = stats.join(' · ');

  const error = item.querySelector('.file-error');
  error.hidden = !entry.error;
  error.textContent = entry.error?.message ?? '';
}

/** Keeps the file list in step with `files`, reusing the items it drew. */
export function renderFiles(list, files, onCancel) {
  const items = new Map([...list.children].map((item) => [Number(item.dataset.id), item]));
  for (const entry of files) {
    let item = items.get(entry.id);
    if (!item) {
      item = fileItem(entry, onCancel);
      list.append(item);
    }
    items.delete(entry.id);
    updateFileItem(item, entry);
  }
  for (const stale of items.values()) stale.remove();
}

/** Draws the hits-per-rule table; a click on a rule filters the hits by it. */
export function renderRuleSummary(table, hits, onPick) {
  const rules = new Map();
  for (const { fileId, match } of hits) {
    const rule = rules.get(match.ruleId) ?? { title: match.ruleTitle, level: match.level, count: 0, files: new Set() };
    rule.count += 1;
    rule.files.add(fileId);
    rules.set(match.ruleId, rule);
  }
  const sorted = [...rules].sort(([, a], [, b]) => levelRank(a.level) - levelRank(b.level) || b.count - a.count);
  const rows = sorted.map(([id, rule]) => {
    const row = document.createElement('tr');
    const pick = document.createElement('button');
    pick.type = 'button';
    pick.className = 'link-button';
    pick.textContent = rule.title;
    pick.title = `Show only hits of rule ${id}`;
    pick.addEventListener('click', () => onPick(id));
    row.insertCell().append(pick);
    row.insertCell().append(levelBadge(rule.level));
    Object.assign(row.insertCell(), { className: 'numeric', textContent: formatCount(rule.count) });
    Object.assign(row.insertCell(), { className: 'numeric', textContent: formatCount(rule.files.size) });
    return row;
  });
  table.tBodies[0].replaceChildren(...rows);
  table.hidden = rows.length === 0;
}

/** Draws the warnings table: bad records, and files that could not be read. */
export function renderWarnings(section, note, warnings) {
  section.hidden = warnings.length === 0;
  const rows = warnings.slice(0, MAX_WARNING_ROWS).map((warning) => {
    const row = document.createElement('tr');
    const file = row.insertCell();
    file.textContent = baseName(warning.file);
    file.title = warning.file;
    Object.assign(row.insertCell(), { className: 'numeric mono', textContent: warning.record == null ? '–' : formatCount(warning.record) });
    Object.assign(row.insertCell(), { className: 'numeric mono', textContent: warning.offset == null ? '–' : formatCount(warning.offset) });
    row.insertCell().textContent = warning.message;
    return row;
  });
  section.querySelector('tbody').replaceChildren(...rows);
  note.hidden = warnings.length <= MAX_WARNING_ROWS;
  note.textContent = `Showing the first ${formatCount(MAX_WARNING_ROWS)} of ${plural(warnings.length, 'warning')}.`;
}
