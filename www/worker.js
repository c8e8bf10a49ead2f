// The scan worker: keeps one sigma-edge Engine and scans files in slices, so
// the page stays responsive. Messages in and out are described in scan.js.
import { initSync, Engine, version } from '../pkg/sigma_edge.js';

// File.slice size. Each slice is one Scanner.push call and one progress update.
const SLICE_BYTES = 4 * 1024 * 1024;

let engine = null;
let bundledIds = [];
const cancelled = new Set();

/** Copies the fields of a JS Error (a RuleError, InputError or TypeError from the wasm module). */
function describeError(error) {
  return {
    name: error?.name ?? 'Error',
    code: error?.code ?? null,
    message: error?.message ?? String(error),
  };
}

function loadRules({ rules, defaultRules, generation }) {
  engine?.free();
  engine = new Engine({ rules, defaultRules });
  postMessage({ type: 'rules', generation, rules: engine.rules(), warnings: engine.warnings, bundledIds, version: version() });
}

function init(options) {
  initSync({ module: options.module });
  const bundled = new Engine();
  bundledIds = bundled.rules().map((rule) => rule.id);
  bundled.free();
  loadRules(options);
}

function readSlice(file, start) {
  return file.slice(start, start + SLICE_BYTES).arrayBuffer();
}

async function scan({ id, file, name, prefilter }) {
  // Matches carry the whole event, so the detail view can show any format.
  const scanner = engine.scanner(name, prefilter !== false, true);
  const started = performance.now();
  const report = (type, extra) =>
    postMessage({ type, id, summary: scanner.summary(), elapsed: performance.now() - started, ...extra });

  try {
    // The next slice is read while the current one is scanned.
    let position = 0;
    let next = readSlice(file, 0);
    while (position < file.size) {
      const bytes = new Uint8Array(await next);
      if (cancelled.has(id)) {
        report('cancelled', { warnings: scanner.takeWarnings() });
        return;
      }
      position += bytes.length;
      if (position < file.size) {
        next = readSlice(file, position);
        // A read that fails after the scan has stopped would otherwise be an unhandled rejection.
        next.catch(() => {});
      }

      const matches = scanner.push(bytes);
      report('progress', { matches, warnings: scanner.takeWarnings() });
    }
    const { matches, warnings, summary } = scanner.finish();
    postMessage({ type: 'done', id, matches, warnings, summary, elapsed: performance.now() - started });
  } catch (error) {
    let warnings = [];
    try {
      warnings = scanner.takeWarnings();
    } catch {
      // The scanner is unusable after some errors; its warnings are then lost with it.
    }
    report('failed', { error: describeError(error), warnings });
  } finally {
    cancelled.delete(id);
    scanner.free();
  }
}

self.onmessage = async ({ data }) => {
  try {
    switch (data.type) {
      case 'init':
        init(data);
        break;
      case 'rules':
        loadRules(data);
        break;
      case 'scan':
        await scan(data);
        break;
      case 'cancel':
        cancelled.add(data.id);
        break;
    }
  } catch (error) {
    postMessage({ type: 'error', request: data.type, id: data.id ?? null, error: describeError(error) });
  }
};
