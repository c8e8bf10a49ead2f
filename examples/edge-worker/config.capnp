# Runs the worker in workerd on 127.0.0.1:8787:
#   npm install && npx workerd serve config.capnp
# (workerd comes from the npm package `workerd`). Paths are relative to this
# file, and the package comes from node_modules/sigma-edge.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),

    # workerd resolves no packages, so the bare name `sigma-edge` is a module
    # that re-exports the package's workerd entry. Every module of the package
    # is listed by its path, and the .wasm file is a Wasm module, which the
    # entry imports as a compiled WebAssembly.Module.
    (name = "sigma-edge", esModule = "export * from './node_modules/sigma-edge/workerd.js';"),
    (name = "node_modules/sigma-edge/workerd.js", esModule = embed "node_modules/sigma-edge/workerd.js"),
    (name = "node_modules/sigma-edge/api.js", esModule = embed "node_modules/sigma-edge/api.js"),
    (name = "node_modules/sigma-edge/chunks.js", esModule = embed "node_modules/sigma-edge/chunks.js"),
    (name = "node_modules/sigma-edge/engine.js", esModule = embed "node_modules/sigma-edge/engine.js"),
    (name = "node_modules/sigma-edge/errors.js", esModule = embed "node_modules/sigma-edge/errors.js"),
    (name = "node_modules/sigma-edge/runtime.js", esModule = embed "node_modules/sigma-edge/runtime.js"),
    (name = "node_modules/sigma-edge/scan.js", esModule = embed "node_modules/sigma-edge/scan.js"),
    (name = "node_modules/sigma-edge/sigma_edge.js", esModule = embed "node_modules/sigma-edge/sigma_edge.js"),
    (name = "node_modules/sigma-edge/sigma_edge_bg.wasm", wasm = embed "node_modules/sigma-edge/sigma_edge_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
  bindings = [
    # The largest request body POST /scan accepts, in bytes (32 MiB).
    (name = "MAX_BODY_BYTES", text = "33554432"),
  ],
);
