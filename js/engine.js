// `evaluate` and `Engine`: thin wrappers over the wasm glue that convert
// events to JSON text before they cross into wasm and map glue errors to the
// package's error classes.

import * as glue from './sigma_edge.js';
import { InvalidInputError, SigmaEdgeError, fromGlueError } from './errors.js';
import { assertReady } from './runtime.js';
import { Scan, checkScanOptions } from './scan.js';

/**
 * Converts an event object to JSON text, the form the wasm export parses,
 * so that a conversion failure is thrown as `InvalidInputError`. Strings,
 * other values and bytes (an `ArrayBuffer` or a view of one) pass
 * unchanged, so the glue reports a wrong type as a `TypeError`. The result
 * is typed `any` for that reason.
 * @param {unknown} event
 * @returns {any}
 */
function toGlueEvent(event) {
  if (typeof event !== 'object' || event === null) return event;
  try {
    // `instanceof` throws for a revoked proxy, like `JSON.stringify`.
    if (ArrayBuffer.isView(event) || event instanceof ArrayBuffer) return event;
    return JSON.stringify(event);
  } catch (error) {
    const message = `invalid event: the object cannot be converted to JSON: ${/** @type {Error} */ (error).message}`;
    throw new InvalidInputError(message, { code: 'invalid-event', cause: error });
  }
}

/**
 * Evaluates one event (an object or a JSON string) against the bundled
 * EDR-Freeze rules and returns its matches.
 * @param {object | string} event
 */
export function evaluate(event) {
  assertReady();
  const input = toGlueEvent(event);
  try {
    return glue.evaluate(input);
  } catch (error) {
    throw fromGlueError(error);
  }
}

/** Returns the version of the sigma-edge crate inside the wasm module. */
export function version() {
  assertReady();
  return glue.version();
}

/** A compiled rule set: the bundled rules, the caller's rules, or both. */
export class Engine {
  /** @type {glue.Engine | null} */
  #engine;

  /** @param {{ rules?: Array<string | { name: string, yaml: string }>, defaultRules?: boolean, strict?: boolean, placeholders?: Record<string, string[]>, limits?: import('./index.js').Limits }} [options] */
  constructor(options) {
    assertReady();
    try {
      this.#engine = new glue.Engine(options);
    } catch (error) {
      throw fromGlueError(error);
    }
  }

  /** @returns {glue.Engine} */
  #live() {
    if (this.#engine === null) {
      throw new SigmaEdgeError('this Engine was freed; create a new one', { code: 'freed' });
    }
    return this.#engine;
  }

  /** @param {object | string} event */
  evaluate(event) {
    const engine = this.#live();
    const input = toGlueEvent(event);
    try {
      return engine.evaluate(input);
    } catch (error) {
      throw fromGlueError(error);
    }
  }

  /** @param {Array<object | string>} events */
  evaluateBatch(events) {
    const engine = this.#live();
    if (!Array.isArray(events)) return this.#batchOf(engine, events);
    const inputs = new Array(events.length);
    for (let index = 0; index < events.length; index++) {
      try {
        inputs[index] = toGlueEvent(events[index]);
      } catch (error) {
        /** @type {Error} */ (error).message = `event ${index}: ${/** @type {Error} */ (error).message}`;
        throw error;
      }
    }
    return this.#batchOf(engine, inputs);
  }

  /** @param {glue.Engine} engine @param {any} inputs an array of events, or a wrong type for the glue to reject */
  #batchOf(engine, inputs) {
    try {
      return engine.evaluateBatch(inputs);
    } catch (error) {
      throw fromGlueError(error);
    }
  }

  rules() {
    const engine = this.#live();
    try {
      return engine.rules();
    } catch (error) {
      throw fromGlueError(error);
    }
  }

  get warnings() {
    const engine = this.#live();
    try {
      return engine.warnings;
    } catch (error) {
      throw fromGlueError(error);
    }
  }

  /**
   * Starts a streaming scan of one input.
   * @param {import('./index.js').ScanInput} input
   * @param {import('./index.js').ScanOptions} [options]
   * @returns {Scan}
   */
  scan(input, options = {}) {
    const engine = this.#live();
    checkScanOptions(options);
    return new Scan((file) => engine.scanner(file, options.prefilter ?? true), input, options);
  }

  /** Releases the wasm memory of the rule set. Scans already started keep working. */
  free() {
    this.#engine?.free();
    this.#engine = null;
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Object.defineProperty(Engine.prototype, Symbol.dispose, {
    value: Engine.prototype.free, writable: true, configurable: true,
  });
}
