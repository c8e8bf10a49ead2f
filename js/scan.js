// `Scan`: an async iterator of the matches in one input, read chunk by chunk
// through a wasm `Scanner`.

import { fromGlueError } from './errors.js';
import { openChunks, defaultName } from './chunks.js';

/**
 * The largest piece handed to the wasm scanner at once. The glue copies each
 * piece into wasm memory, so a larger chunk is split to keep that memory
 * from growing to the size of the chunk.
 */
const PUSH_BYTES = 1 << 20;

const DEFAULT_MAX_WARNINGS = 1000;

/** @type {Record<string, (value: unknown) => boolean>} */
const OPTION_CHECKS = {
  file: (value) => typeof value === 'string',
  maxWarnings: (value) => Number.isSafeInteger(value) && /** @type {number} */ (value) >= 0,
  onWarning: (value) => typeof value === 'function',
  prefilter: (value) => typeof value === 'boolean',
};

const OPTION_TYPES = {
  file: 'a string',
  maxWarnings: 'an integer of 0 or more',
  onWarning: 'a function',
  prefilter: 'a boolean',
};

/**
 * Rejects unknown scan options and options of the wrong type, which would
 * otherwise be ignored or misread.
 * @param {unknown} options
 */
export function checkScanOptions(options) {
  if (typeof options !== 'object' || options === null) {
    throw Object.assign(new TypeError('scan options must be an object'), { code: 'invalid-options' });
  }
  for (const [name, value] of Object.entries(options)) {
    const check = OPTION_CHECKS[name];
    if (check === undefined) {
      const message = `unknown scan option '${name}'; the options are ${Object.keys(OPTION_CHECKS).join(', ')}`;
      throw Object.assign(new TypeError(message), { code: 'invalid-options' });
    }
    if (value !== undefined && !check(value)) {
      const message = `scan option '${name}' must be ${OPTION_TYPES[/** @type {keyof OPTION_TYPES} */ (name)]}`;
      throw Object.assign(new TypeError(message), { code: 'invalid-options' });
    }
  }
}

/** @typedef {import('./index.js').Match} Match */
/** @typedef {import('./index.js').ScanSummary} ScanSummary */
/** @typedef {import('./index.js').ScanWarning} ScanWarning */

export class Scan {
  /** @type {import('./sigma_edge.js').Scanner | null} */
  #scanner;
  /** @type {import('./chunks.js').ChunkIterator} */
  #chunks;
  /** @type {Match[]} */
  #queue = [];
  #queued = 0;
  /** @type {ScanSummary | null} */
  #summary = null;
  /** @type {ScanWarning[]} */
  #warnings = [];
  #maxWarnings;
  /** @type {((warning: ScanWarning) => void) | undefined} */
  #onWarning;
  /** Serialises `next` and `return`, which both use the chunk iterator. */
  #turn = Promise.resolve();

  /**
   * @param {(file: string) => import('./sigma_edge.js').Scanner} openScanner
   * @param {unknown} input
   * @param {import('./index.js').ScanOptions} options
   */
  constructor(openScanner, input, options) {
    this.#chunks = openChunks(input);
    this.#maxWarnings = options.maxWarnings ?? DEFAULT_MAX_WARNINGS;
    this.#onWarning = options.onWarning;
    this.#scanner = openScanner(options.file ?? defaultName(input));
  }

  /**
   * Counts so far; final once the iterator is done.
   * @returns {ScanSummary}
   */
  get summary() {
    return this.#summary ?? /** @type {import('./sigma_edge.js').Scanner} */ (this.#scanner).summary();
  }

  /** The records that could not be read, up to `maxWarnings` of them. */
  get warnings() {
    return this.#warnings;
  }

  /** Whether the input has been read to its end, or the scan stopped. */
  get done() {
    return this.#scanner === null;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** @returns {Promise<IteratorResult<Match, ScanSummary>>} */
  next() {
    const result = this.#turn.then(() => this.#next());
    this.#turn = result.then(noop, noop);
    return result;
  }

  /**
   * Stops the scan: cancels the input and frees the wasm scanner.
   * @returns {Promise<IteratorResult<Match, ScanSummary>>}
   */
  return() {
    const result = this.#turn.then(async () => {
      await this.#close();
      return /** @type {const} */ ({ done: true, value: this.summary });
    });
    this.#turn = result.then(noop, noop);
    return result;
  }

  /**
   * Reads the whole input and returns every match, with the warnings and the summary.
   * @returns {Promise<{ matches: Match[], warnings: ScanWarning[], summary: ScanSummary }>}
   */
  async collect() {
    const matches = [];
    for await (const match of this) matches.push(match);
    return { matches, warnings: this.#warnings, summary: this.summary };
  }

  /** @returns {Promise<IteratorResult<Match, ScanSummary>>} */
  async #next() {
    while (this.#queued === this.#queue.length) {
      if (this.#scanner === null) return { done: true, value: this.summary };
      try {
        await this.#step(this.#scanner);
      } catch (error) {
        await this.#close();
        throw error;
      }
    }
    const match = this.#queue[this.#queued++];
    return { done: false, value: match };
  }

  /**
   * Pushes the next chunk into the scanner, or finishes it at the end of the
   * input, and queues the matches that come out. Errors of the input and of
   * `onWarning` pass unchanged; errors of the scanner become package errors.
   * @param {import('./sigma_edge.js').Scanner} scanner
   */
  async #step(scanner) {
    this.#queue = [];
    this.#queued = 0;
    const { done, value } = await this.#chunks.next();

    if (done) {
      let finished;
      try {
        finished = scanner.finish();
      } catch (error) {
        throw fromGlueError(error);
      }
      this.#queue = finished.matches;
      this.#summary = finished.summary;
      scanner.free();
      this.#scanner = null;
      this.#addWarnings(finished.warnings);
      return;
    }

    for (let start = 0; start < value.length; start += PUSH_BYTES) {
      let warnings;
      try {
        const matches = scanner.push(value.subarray(start, start + PUSH_BYTES));
        for (const match of matches) this.#queue.push(match);
        warnings = scanner.takeWarnings();
      } catch (error) {
        throw fromGlueError(error);
      }
      this.#addWarnings(warnings);
    }
  }

  /** @param {ScanWarning[]} warnings */
  #addWarnings(warnings) {
    for (const warning of warnings) {
      if (this.#warnings.length < this.#maxWarnings) this.#warnings.push(warning);
      this.#onWarning?.(warning);
    }
  }

  /** Frees the scanner and cancels the input; a failure to cancel is ignored. */
  async #close() {
    const scanner = this.#scanner;
    if (scanner === null) return;
    this.#summary = scanner.summary();
    scanner.free();
    this.#scanner = null;
    this.#queue = [];
    this.#queued = 0;
    try {
      await this.#chunks.return();
    } catch {
      // The input already failed or ended; there is nothing left to release.
    }
  }
}

function noop() {}

if (typeof Symbol.asyncDispose === 'symbol') {
  Object.defineProperty(Scan.prototype, Symbol.asyncDispose, {
    async value() {
      await this.return();
    },
    writable: true,
    configurable: true,
  });
}
