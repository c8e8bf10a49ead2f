// The entry for browsers, bundlers and any other runtime: nothing runs until
// `await init()` has fetched and instantiated the .wasm file.

import initGlue from './sigma_edge.js';
import { setReady } from './runtime.js';

/**
 * Fetches and instantiates the WebAssembly module. Without an argument it
 * fetches `sigma_edge_bg.wasm` beside this file. Calling it again does nothing.
 * @param {import('./index.js').InitInput} [input]
 */
export async function init(input) {
  await initGlue(input === undefined ? undefined : { module_or_path: input });
  setReady();
}

export * from './api.js';
