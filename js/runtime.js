// Whether the WebAssembly module has been instantiated. The Node and workerd
// entries instantiate it while they load; the browser entry needs `init()`.

import { SigmaEdgeError } from './errors.js';

let ready = false;

/** Records that the glue's `initSync` or `init` has completed. */
export function setReady() {
  ready = true;
}

/** Throws unless the WebAssembly module is ready. */
export function assertReady() {
  if (!ready) {
    throw new SigmaEdgeError(
      'the WebAssembly module is not initialized: call `await init()` from sigma-edge first',
      { code: 'not-initialized' },
    );
  }
}
