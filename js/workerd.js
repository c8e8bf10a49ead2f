// The entry for workerd (Cloudflare Workers) and other runtimes that import a
// .wasm file as a compiled `WebAssembly.Module`. The module is instantiated
// while this entry loads, so no `init()` call is needed.

import { initSync } from './sigma_edge.js';
import { setReady } from './runtime.js';
import wasmModule from './sigma_edge_bg.wasm';

initSync({ module: wasmModule });
setReady();

export * from './api.js';

/** Resolves at once: the module is ready when this entry has loaded. */
export async function init() {}
