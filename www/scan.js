// The scan pool: Web Workers (worker.js) that each hold an Engine, and a
// queue of files handed to whichever worker is idle.
//
// Messages to a worker:   init {module, rules, defaultRules, generation},
//                         rules {rules, defaultRules, generation},
//                         scan {id, file, name}, cancel {id}.
// Messages from a worker: rules {generation, rules, warnings, bundledIds},
//                         progress | done | cancelled | failed
//                           {id, summary, elapsed, matches?, warnings?, error?},
//                         error {request, error}.

import { createWorker } from './assets.js';

/** Number of workers: one per spare core, at most four. */
export function poolSize() {
  const cores = navigator.hardwareConcurrency || 2;
  return Math.max(1, Math.min(4, cores - 1));
}

export class ScanPool {
  /**
   * @param {WebAssembly.Module} module the compiled sigma-edge module
   * @param {(event: object) => void} onEvent receives every worker message,
   *   plus {type: 'started', id} and {type: 'cancelled', id} for queued files
   */
  constructor(module, onEvent, size = poolSize()) {
    this.module = module;
    this.onEvent = onEvent;
    this.size = size;
    this.workers = [];
    this.queue = [];
    this.ruleConfig = { rules: [], defaultRules: true };
    this.generation = 0;
    this.pendingRules = null;
  }

  /** Starts the workers with a rule set; resolves with the rules they loaded. */
  start(ruleConfig) {
    this.ruleConfig = ruleConfig;
    const reply = this.#awaitRules();
    for (let i = 0; i < this.size; i++) this.workers.push(this.#spawn());
    return reply;
  }

  /** Loads a new rule set in every worker; resolves with the rules loaded. */
  setRules(ruleConfig) {
    this.ruleConfig = ruleConfig;
    const reply = this.#awaitRules();
    for (const slot of this.workers) {
      slot.worker.postMessage({ type: 'rules', ...ruleConfig, generation: this.generation });
    }
    return reply;
  }

  /**
   * Queues files: entries of {id, file, name, prefilter}, where `name` is
   * what matches and warnings call the file and `prefilter` false parses
   * every record.
   */
  enqueue(entries) {
    this.queue.push(...entries);
    this.#pump();
  }

  get busy() {
    return this.queue.length > 0 || this.workers.some((slot) => slot.fileId !== null);
  }

  /** Cancels one file, queued or being scanned. */
  cancel(id) {
    const index = this.queue.findIndex((entry) => entry.id === id);
    if (index >= 0) {
      this.queue.splice(index, 1);
      this.onEvent({ type: 'cancelled', id });
      return;
    }
    const slot = this.workers.find((candidate) => candidate.fileId === id);
    slot?.worker.postMessage({ type: 'cancel', id });
  }

  /**
   * Cancels every file at once. Busy workers are terminated rather than
   * signalled, so the scan stops even in the middle of a slice.
   */
  cancelAll() {
    for (const entry of this.queue.splice(0)) this.onEvent({ type: 'cancelled', id: entry.id });
    this.workers = this.workers.map((slot) => {
      if (slot.fileId === null) return slot;
      slot.worker.terminate();
      this.onEvent({ type: 'cancelled', id: slot.fileId });
      return this.#spawn();
    });
  }

  #awaitRules() {
    this.generation += 1;
    return new Promise((resolve, reject) => {
      this.pendingRules = { generation: this.generation, resolve, reject };
    });
  }

  #spawn() {
    const worker = createWorker('sigma-edge scan');
    const slot = { worker, fileId: null };
    worker.onmessage = ({ data }) => this.#receive(slot, data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(slot, new Error(`the scan worker failed to start: ${event.message || 'script error'}`));
    };
    worker.postMessage({ type: 'init', module: this.module, ...this.ruleConfig, generation: this.generation });
    return slot;
  }

  #receive(slot, message) {
    switch (message.type) {
      case 'rules':
        if (this.pendingRules?.generation === message.generation) {
          this.pendingRules.resolve(message);
          this.pendingRules = null;
        }
        return;
      case 'error':
        this.#fail(slot, Object.assign(new Error(message.error.message), message.error));
        return;
      case 'done':
      case 'failed':
      case 'cancelled':
        slot.fileId = null;
        this.onEvent(message);
        this.#pump();
        return;
      default:
        this.onEvent(message);
    }
  }

  #fail(slot, error) {
    if (this.pendingRules) {
      this.pendingRules.reject(error);
      this.pendingRules = null;
    }
    if (slot.fileId !== null) {
      this.onEvent({ type: 'failed', id: slot.fileId, error: { name: error.name, code: error.code, message: error.message } });
      slot.fileId = null;
    }
    this.onEvent({ type: 'fatal', error });
  }

  #pump() {
    for (const slot of this.workers) {
      if (this.queue.length === 0) return;
      if (slot.fileId !== null) continue;
      const entry = this.queue.shift();
      slot.fileId = entry.id;
      this.onEvent({ type: 'started', id: entry.id });
      slot.worker.postMessage({ type: 'scan', id: entry.id, file: entry.file, name: entry.name, prefilter: entry.prefilter });
    }
  }
}
