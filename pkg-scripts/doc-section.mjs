// Replaces one generated section of a Markdown file, between
// `<!-- NAME:begin -->` and `<!-- NAME:end -->`, or appends it with its
// markers when the file has none.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * @param {string} file the Markdown file
 * @param {string} name the marker name, such as `bench-evaluate`
 * @param {string} markdown the section, without markers
 */
export function writeSection(file, name, markdown) {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const section = `${begin}\n${markdown.trim()}\n${end}`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';

  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  if (start !== -1 && stop > start) {
    writeFileSync(file, text.slice(0, start) + section + text.slice(stop + end.length));
  } else {
    writeFileSync(file, `${text.trimEnd()}\n\n${section}\n`);
  }
}

/** Describes this machine in one line: CPU, cores, memory, Node version, load. */
export async function machineLine() {
  const os = await import('node:os');
  const cpus = os.cpus();
  const memory = (os.totalmem() / 2 ** 30).toFixed(0);
  const load = os.loadavg()[0].toFixed(1);
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${memory} GiB, Node ${process.version}, 1-minute load average ${load} at the start`;
}
