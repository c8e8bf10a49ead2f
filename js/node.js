// The Node entry: reads the .wasm file beside this module and instantiates
// it synchronously while the module loads, so no `init()` call is needed and
// `require('sigma-edge')` works where Node supports `require` of ES modules.

import { readFileSync } from 'node:fs';

import { initSync } from './sigma_edge.js';
import { setReady } from './runtime.js';

initSync({ module: readFileSync(new URL('./sigma_edge_bg.wasm', import.meta.url)) });
setReady();

export * from './api.js';

/** Resolves at once: the module is ready when this entry has loaded. */
export async function init() {}
