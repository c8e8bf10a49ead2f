// Turns the inputs that `Engine.scan` accepts into one async iterator of
// `Uint8Array` chunks, which can be stopped early.

/** @typedef {{ next(): Promise<IteratorResult<Uint8Array>>, return(): Promise<unknown> }} ChunkIterator */

const encoder = new TextEncoder();

/**
 * Converts one chunk to bytes: a `Uint8Array` (such as a Node `Buffer`)
 * as is, another `ArrayBuffer` view or an `ArrayBuffer` without copying, a
 * string as UTF-8.
 * @param {unknown} chunk
 * @param {number} index
 * @returns {Uint8Array}
 */
function toBytes(chunk, index) {
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (typeof chunk === 'string') return encoder.encode(chunk);
  const kind = chunk === null ? 'null' : typeof chunk;
  throw Object.assign(
    new TypeError(`scan: chunk ${index} is ${kind}; expected a Uint8Array, an ArrayBuffer or a string`),
    { code: 'invalid-input' },
  );
}

/**
 * @param {ReadableStream} stream
 * @returns {ChunkIterator}
 */
function fromReadableStream(stream) {
  const reader = stream.getReader();
  let index = 0;
  return {
    async next() {
      const { done, value } = await reader.read();
      if (done) {
        reader.releaseLock();
        return { done: true, value: undefined };
      }
      return { done: false, value: toBytes(value, index++) };
    },
    async return() {
      await reader.cancel();
      reader.releaseLock();
    },
  };
}

/**
 * @param {AsyncIterator<unknown> | Iterator<unknown>} iterator
 * @returns {ChunkIterator}
 */
function fromIterator(iterator) {
  let index = 0;
  return {
    async next() {
      const { done, value } = await iterator.next();
      if (done) return { done: true, value: undefined };
      return { done: false, value: toBytes(value, index++) };
    },
    async return() {
      await iterator.return?.();
    },
  };
}

/**
 * Opens the chunk iterator for a scan input.
 * @param {unknown} input a `Uint8Array`, `ArrayBuffer`, `Blob`, `ReadableStream`,
 *   or an (async) iterable of chunks such as a Node `Readable`
 * @returns {ChunkIterator}
 */
export function openChunks(input) {
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
    return fromIterator([toBytes(input, 0)][Symbol.iterator]());
  }
  if (typeof Blob === 'function' && input instanceof Blob) {
    return fromReadableStream(input.stream());
  }
  const object = /** @type {any} */ (input);
  if (object !== null && typeof object === 'object') {
    if (typeof object.getReader === 'function') return fromReadableStream(object);
    if (typeof object[Symbol.asyncIterator] === 'function') return fromIterator(object[Symbol.asyncIterator]());
    if (typeof object[Symbol.iterator] === 'function') return fromIterator(object[Symbol.iterator]());
  }
  const kind = input === null ? 'null' : typeof input;
  throw Object.assign(
    new TypeError(
      `scan: the input is ${kind}; expected a Uint8Array, a ReadableStream or an async iterable of chunks` +
        (typeof input === 'string' ? ' (to scan text, pass [text] or encode it with TextEncoder)' : ''),
    ),
    { code: 'invalid-input' },
  );
}

/**
 * Returns the name a scan gives its input when the caller gives none: a
 * `File`'s name, a Node file stream's path, or `input`.
 * @param {unknown} input
 * @returns {string}
 */
export function defaultName(input) {
  const object = /** @type {any} */ (input);
  if (object && typeof object.name === 'string' && object.name !== '') return object.name;
  if (object && typeof object.path === 'string') return object.path;
  return 'input';
}
