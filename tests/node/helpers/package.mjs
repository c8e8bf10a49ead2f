// Packs pkg/ with `npm pack` and installs the tarball into a new project in a
// temporary folder, as a user of the published package would get it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const EDR_FREEZE = '387df17d-3b04-448f-8669-9e7fd5e5fd8c';
export const SAMPLE = join(root, 'tests/data/edr-freeze/proc_access_win_werfaultsecure_msmpeng_access', EDR_FREEZE);

/** Runs npm quietly in `cwd` and returns its stdout. */
function npm(args, cwd) {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });
}

/**
 * Packs pkg/ and installs it into a new project whose package.json has the
 * given `type`. Returns the project folder and the tarball path.
 * @param {{ type?: 'module' | 'commonjs', prefix: string }} options
 */
export function installPackedPackage({ type = 'module', prefix }) {
  const pkg = join(root, 'pkg');
  if (!existsSync(join(pkg, 'package.json'))) {
    throw new Error('pkg/package.json is missing: run pkg-scripts/build first');
  }
  const project = mkdtempSync(join(tmpdir(), prefix));
  const packed = JSON.parse(npm(['pack', pkg, '--json', '--pack-destination', project], root));
  const tarball = join(project, packed[0].filename);

  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'plugin', private: true, type }, null, 2));
  npm(['install', '--offline', tarball], project);
  return { project, tarball, files: packed[0].files.map((file) => file.path) };
}
