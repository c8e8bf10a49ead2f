// Reads one whole JSON record back from a scanned file, for the detail view.
// The scanner reports each record's byte offset; for JSON input the record
// is the JSON value that starts there.

/** Largest record read back; a longer one is not shown. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * Returns the length of the JSON object or array at the start of `text`
 * (after leading whitespace), or -1 when it does not end within `text`.
 */
export function jsonValueLength(text) {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') {
      depth -= 1;
      if (depth === 0) return i + 1;
    } else if (depth === 0 && !/\s/.test(c)) {
      return -1;
    }
  }
  return -1;
}

/**
 * Reads the JSON record at `offset` of `file` and returns it parsed, or null
 * when there is no complete JSON object there within MAX_RECORD_BYTES.
 */
export async function readJsonRecord(file, offset) {
  const bytes = await file.slice(offset, offset + MAX_RECORD_BYTES).arrayBuffer();
  const text = new TextDecoder().decode(bytes);
  const length = jsonValueLength(text);
  if (length === -1) return null;
  try {
    const value = JSON.parse(text.slice(0, length));
    return value !== null && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}
