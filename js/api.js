// The API shared by every entry point. The entries differ only in how they
// instantiate the WebAssembly module.

export { evaluate, version, Engine } from './engine.js';
export { Scan } from './scan.js';
export { SigmaEdgeError, SigmaRuleError, InvalidInputError, UnsupportedFormatError } from './errors.js';
