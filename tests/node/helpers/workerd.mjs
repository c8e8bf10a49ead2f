// Starts the example edge worker in workerd on 127.0.0.1, from a project that
// installed the packed package, and stops it again.
import { spawn } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { installPackedPackage, root } from './package.mjs';

export const WORKERD = join(root, 'node_modules/.bin/workerd');
const EXAMPLE = join(root, 'examples/edge-worker');

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Copies the example's worker.js and config.capnp into `project` and runs
 * `workerd serve` there on `port`. Resolves once GET /rules returns 200,
 * with the process, its output so far, and the milliseconds from spawn to
 * that first 200.
 * @param {string} project @param {number} port
 */
export async function startWorker(project, port) {
  copyFileSync(join(EXAMPLE, 'worker.js'), join(project, 'worker.js'));
  copyFileSync(join(EXAMPLE, 'config.capnp'), join(project, 'config.capnp'));

  const started = performance.now();
  const child = spawn(WORKERD, ['serve', 'config.capnp', '--socket-addr', `http=127.0.0.1:${port}`], {
    cwd: project,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { text: '' };
  child.stdout.on('data', (data) => { output.text += data; });
  child.stderr.on('data', (data) => { output.text += data; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Stops workerd too when the test process ends without reaching stopWorker.
  const stopOnExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnExit);
  child.once('exit', () => process.off('exit', stopOnExit));

  const deadline = started + 30_000;
  for (;;) {
    const code = await Promise.race([exited, delay(20).then(() => undefined)]);
    if (code !== undefined) throw new Error(`workerd exited with ${code}:\n${output.text}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/rules`);
      if (response.status === 200) {
        await response.arrayBuffer();
        return { child, output, firstResponseMs: performance.now() - started };
      }
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline) {
      await stopWorker(child);
      throw new Error(`workerd did not respond 200 to GET /rules within 30 s:\n${output.text}`);
    }
  }
}

/**
 * Installs the packed package into a new project named with `prefix` and
 * starts the example worker there on a free port. Resolves with the
 * project folder, the worker (as `startWorker` gives it) and the base URL.
 * @param {string} prefix
 */
export async function startPackedWorker(prefix) {
  const { project } = installPackedPackage({ prefix });
  try {
    const port = await freePort();
    const worker = await startWorker(project, port);
    return { project, worker, base: `http://127.0.0.1:${port}` };
  } catch (error) {
    rmSync(project, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Stops a worker started by `startPackedWorker` and deletes its project.
 * @param {{ project: string, worker: { child: import('node:child_process').ChildProcess } } | undefined} running
 */
export async function stopPackedWorker(running) {
  if (running === undefined) return;
  await stopWorker(running.worker.child);
  rmSync(running.project, { recursive: true, force: true });
}

/** Stops a workerd process started by `startWorker` and waits for it to exit. */
export async function stopWorker(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
