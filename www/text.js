// Text helpers shared by the page's views: number and size formatting, and
// the conversion of the wasm module's UTF-8 byte ranges to string indexes.

const integer = new Intl.NumberFormat('en-US');
const oneDecimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function formatCount(n) {
  return integer.format(n);
}

/** "1 file", "3 files". */
export function plural(n, singular, pluralForm = `${singular}s`) {
  return `${formatCount(n)} ${n === 1 ? singular : pluralForm}`;
}

/** Formats a byte count in binary units (KiB = 1024 bytes). */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${integer.format(bytes)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${oneDecimal.format(value)} ${units[unit]}`;
}

/** Formats a scan rate in MB/s (10^6 bytes per second). */
export function formatRate(bytes, milliseconds) {
  if (milliseconds <= 0) return '';
  return `${oneDecimal.format(bytes / 1000 / milliseconds)} MB/s`;
}

/**
 * Converts a byte range [start, end) of the UTF-8 encoding of `value` into a
 * range of UTF-16 code unit indexes, as String.prototype.slice expects.
 * Returns null when the range does not fall on character boundaries of
 * `value` or lies outside it.
 */
export function utf8RangeToIndexes(value, start, end) {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start) return null;
  const bytes = encoder.encode(value);
  if (end > bytes.length) return null;

  const isBoundary = (offset) => offset === bytes.length || (bytes[offset] & 0xc0) !== 0x80;
  if (!isBoundary(start) || !isBoundary(end)) return null;

  const from = decoder.decode(bytes.subarray(0, start)).length;
  const to = from + decoder.decode(bytes.subarray(start, end)).length;
  return { from, to };
}
