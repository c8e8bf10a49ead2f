// Exports of hits as NDJSON and CSV, built in memory and saved through a
// Blob URL and a download link. Nothing leaves the browser.

import { processPair } from './hits.js';

const CSV_COLUMNS = [
  ['timestamp', (m) => m.timestamp],
  ['computer', (m) => m.computer],
  ['ruleTitle', (m) => m.ruleTitle],
  ['ruleId', (m) => m.ruleId],
  ['level', (m) => m.level],
  ['source', (m) => processPair(m).source],
  ['target', (m) => processPair(m).target],
  ['eventId', (m) => m.eventId],
  ['channel', (m) => m.channel],
  ['recordId', (m) => m.recordId],
  ['file', (m) => m.file],
  ['record', (m) => m.record],
  ['offset', (m) => m.offset],
  ['fields', (m) => JSON.stringify(m.fields ?? {})],
];

/** Serializes matches as NDJSON, one per line, as the wasm module returned them. */
export function toNdjson(matches) {
  return matches.map((match) => JSON.stringify(match) + '\n').join('');
}

/**
 * Quotes a CSV cell (RFC 4180). A cell that starts with =, +, -, @, a tab or
 * a carriage return gets a leading apostrophe, so a spreadsheet shows it as
 * text instead of running it as a formula; log values are attacker-controlled.
 */
export function csvCell(value) {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(matches) {
  const lines = [CSV_COLUMNS.map(([name]) => name).join(',')];
  for (const match of matches) lines.push(CSV_COLUMNS.map(([, get]) => csvCell(get(match))).join(','));
  return lines.join('\r\n') + '\r\n';
}

function timestampForFileName(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

/** Saves `text` as a file through a temporary Blob URL. */
export function download(text, type, extension) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `sigma-edge-hits-${timestampForFileName(new Date())}.${extension}`;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser reads the Blob after click() returns, so the URL is revoked later.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
