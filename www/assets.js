// Loading of the page's worker script and WebAssembly module, for the page
// served with pkg/ beside www/. The single-file build (dist/sigma-edge.html)
// replaces this module with one that reads both from the HTML file itself.

/** Starts a scan worker (worker.js, a module worker). */
export function createWorker(name) {
  return new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name });
}

/** Fetches and compiles the sigma-edge WebAssembly module. */
export async function compileWasm() {
  const response = await fetch(new URL('../pkg/sigma_edge_bg.wasm', import.meta.url));
  if (!response.ok) {
    throw new Error(`cannot load pkg/sigma_edge_bg.wasm: HTTP ${response.status}; run pkg-scripts/build`);
  }
  return WebAssembly.compileStreaming(response);
}
