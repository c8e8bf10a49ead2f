// Error classes of the package, and the mapping from the errors the wasm
// glue throws (plain `Error`s with a `name` and a `code`) to them.

/** The base class of every error that sigma-edge throws on purpose. */
export class SigmaEdgeError extends Error {
  /**
   * @param {string} message
   * @param {{ code?: string, cause?: unknown }} [options]
   */
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    /** A short machine-readable name of the problem, such as `unsupported`. */
    this.code = options.code ?? 'error';
  }
}

/** A Sigma rule that cannot be loaded (thrown by `new Engine` with `strict: true`). */
export class SigmaRuleError extends SigmaEdgeError {}

/** An event or input that cannot be read: not JSON, not an object, damaged. */
export class InvalidInputError extends SigmaEdgeError {}

/** An input whose content matches no supported log format. */
export class UnsupportedFormatError extends InvalidInputError {}

/**
 * Converts an error thrown by the wasm glue into the package's error class
 * for its `name` and `code`. A glue `TypeError` (an argument of the wrong
 * type) becomes a built-in `TypeError` that keeps its `code`. An error
 * without a `code`, such as a `WebAssembly.RuntimeError`, is returned
 * unchanged.
 * @param {unknown} error
 * @returns {unknown}
 */
export function fromGlueError(error) {
  if (!(error instanceof Error) || typeof (/** @type {any} */ (error).code) !== 'string') return error;

  const code = /** @type {any} */ (error).code;
  const options = { code, cause: error };
  switch (error.name) {
    case 'RuleError':
      return new SigmaRuleError(error.message, options);
    case 'InputError':
      return code === 'unknown-format'
        ? new UnsupportedFormatError(error.message, options)
        : new InvalidInputError(error.message, options);
    case 'TypeError':
      return Object.assign(new TypeError(error.message, { cause: error }), { code });
    case 'Error':
      return new SigmaEdgeError(error.message, options);
    default:
      return error;
  }
}
