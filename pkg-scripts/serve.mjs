// A static file server for the log review page: www/ and pkg/ from one
// origin on 127.0.0.1, with the page's Content-Security-Policy on every
// response. Only GET and HEAD of files under those two folders are served.
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVED_FOLDERS = ['www', 'pkg'];

// The same policy as the page's meta tag, plus frame-ancestors, which only
// works as a header.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain; charset=utf-8',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** Maps a URL path to a file under www/ or pkg/, or null. */
function resolvePath(urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const relative = normalize(decoded).replace(/^[/\\]+/, '');
  const folder = relative.split(sep)[0];
  if (!SERVED_FOLDERS.includes(folder)) return null;
  const path = join(root, relative);
  return path.startsWith(join(root, folder) + sep) || path === join(root, folder) ? path : null;
}

function send(response, status, headers, body) {
  response.writeHead(status, { ...SECURITY_HEADERS, ...headers });
  response.end(body);
}

function handle(request, response) {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    send(response, 405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }, 'method not allowed\n');
    return;
  }
  const { pathname } = new URL(request.url, 'http://127.0.0.1');
  if (pathname === '/' || pathname === '/www') {
    send(response, 302, { Location: '/www/' }, '');
    return;
  }

  let path = resolvePath(pathname);
  let stats = null;
  try {
    if (path && statSync(path).isDirectory()) path = join(path, 'index.html');
    stats = path ? statSync(path) : null;
  } catch {
    stats = null;
  }
  if (!stats || !stats.isFile()) {
    send(response, 404, { 'Content-Type': 'text/plain' }, 'not found\n');
    return;
  }

  const type = CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';
  response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': stats.size });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(path)
    .on('error', (error) => {
      process.stderr.write(`serve: cannot read ${path}: ${error.message}\n`);
      response.destroy(error);
    })
    .pipe(response);
}

/** Starts the server on 127.0.0.1; port 0 picks a free port. */
export function serve(port) {
  return new Promise((resolve, reject) => {
    const server = createServer(handle);
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argument = process.argv[2] ?? '8080';
  const port = Number(argument);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`serve: invalid port '${argument}'; expected a number from 0 to 65535\n`);
    process.exit(2);
  }
  try {
    const server = await serve(port);
    const url = `http://127.0.0.1:${server.address().port}/www/`;
    process.stdout.write(`Serving the log review page at ${url}\n`);
    process.stdout.write('Press Ctrl+C to stop.\n');
  } catch (error) {
    process.stderr.write(`serve: cannot listen on 127.0.0.1:${port}: ${error.message}\n`);
    process.exit(1);
  }
}
