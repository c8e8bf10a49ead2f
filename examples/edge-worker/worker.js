// An edge worker that checks event logs against the bundled EDR-Freeze
// Sigma rules. Routes:
//   POST /scan[?file=NAME]  body: a log in any supported format (EVTX, XML,
//                           JSON, NDJSON, CSV, also UTF-16, gzip or zip)
//                           -> 200 { matches, warnings, stats }
//   GET  /rules             -> 200 { rules }
// Errors are JSON { error: { code, message } } with status 400 (input not
// readable), 404 (unknown path), 405 (wrong method, with Allow) or 413 (body
// over MAX_BODY_BYTES).

import { Engine, InvalidInputError } from 'sigma-edge';

/** The body size limit when the MAX_BODY_BYTES binding is not set: 32 MiB. */
const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

/** At most this many matches and warnings are returned; `stats` counts them all. */
const MAX_MATCHES = 1000;
const MAX_WARNINGS = 100;

// Compiled once per isolate and shared by its requests.
const engine = new Engine();

/** The request body grew past the size limit while it was read. */
class BodyTooLargeError extends Error {}

export default {
  /** @param {Request} request @param {{ MAX_BODY_BYTES?: string }} env */
  async fetch(request, env) {
    const url = new URL(request.url);
    try {
      return await route(request, env, url);
    } catch (error) {
      console.error(`${request.method} ${url.pathname}: internal error:`, error);
      return jsonError(500, 'internal', 'internal error; the worker log has the details');
    }
  },
};

/** @param {Request} request @param {{ MAX_BODY_BYTES?: string }} env @param {URL} url */
async function route(request, env, url) {
  switch (url.pathname) {
    case '/scan':
      if (request.method !== 'POST') return methodNotAllowed(request, url, 'POST');
      return scan(request, url, maxBodyBytes(env));
    case '/rules':
      if (request.method !== 'GET' && request.method !== 'HEAD') return methodNotAllowed(request, url, 'GET, HEAD');
      return json(200, { rules: engine.rules() }, request.method === 'HEAD');
    default:
      return clientError(request, url, 404, 'not-found', `no route for ${url.pathname}; the routes are POST /scan and GET /rules`);
  }
}

/**
 * Streams the request body into a scanner and returns the matches.
 * @param {Request} request @param {URL} url @param {number} limit
 */
async function scan(request, url, limit) {
  const file = url.searchParams.get('file') ?? 'request-body';
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > limit) return tooLarge(request, url, limit);
  if (request.body === null) return emptyBody(request, url);

  const matches = [];
  const run = engine.scan(limitedChunks(request.body, limit), { file, maxWarnings: MAX_WARNINGS });
  try {
    for await (const match of run) {
      if (matches.length < MAX_MATCHES) matches.push(match);
    }
  } catch (error) {
    if (error instanceof BodyTooLargeError) return tooLarge(request, url, limit);
    if (error instanceof InvalidInputError) {
      if (run.summary.bytes === 0) return emptyBody(request, url);
      return clientError(request, url, 400, error.code, error.message);
    }
    throw error;
  }

  const stats = run.summary;
  if (stats.bytes === 0) return emptyBody(request, url);
  const truncated = stats.matches > matches.length || stats.warnings > run.warnings.length;
  return json(200, { matches, warnings: run.warnings, stats: { ...stats, truncated } });
}

/**
 * Yields the chunks of a body and throws `BodyTooLargeError` once more than
 * `limit` bytes have arrived, which also covers bodies without Content-Length.
 * @param {ReadableStream<Uint8Array>} body @param {number} limit
 */
async function* limitedChunks(body, limit) {
  const reader = body.getReader();
  let bytes = 0;
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      bytes += value.byteLength;
      if (bytes > limit) throw new BodyTooLargeError(`the body is over ${limit} bytes`);
      yield value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
  }
}

/** @param {{ MAX_BODY_BYTES?: string }} env */
function maxBodyBytes(env) {
  if (env.MAX_BODY_BYTES === undefined) return DEFAULT_MAX_BODY_BYTES;
  const limit = Number(env.MAX_BODY_BYTES);
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new Error(`MAX_BODY_BYTES must be a positive integer number of bytes, found "${env.MAX_BODY_BYTES}"`);
  }
  return limit;
}

/** @param {Request} request @param {URL} url @param {number} limit */
function tooLarge(request, url, limit) {
  return clientError(request, url, 413, 'too-large', `the request body is over the limit of ${limit} bytes`);
}

/** @param {Request} request @param {URL} url */
function emptyBody(request, url) {
  return clientError(request, url, 400, 'empty-body', 'the request body is empty; send an EVTX, JSON or NDJSON event log');
}

/** @param {Request} request @param {URL} url @param {string} allow */
function methodNotAllowed(request, url, allow) {
  const response = clientError(request, url, 405, 'method-not-allowed', `${request.method} is not allowed on ${url.pathname}; use ${allow}`);
  response.headers.set('Allow', allow);
  return response;
}

/**
 * Logs a rejected request in one line and returns its JSON error response.
 * @param {Request} request @param {URL} url @param {number} status @param {string} code @param {string} message
 */
function clientError(request, url, status, code, message) {
  console.warn(`${request.method} ${url.pathname}: ${status} ${code}: ${message}`);
  return jsonError(status, code, message);
}

/** @param {number} status @param {string} code @param {string} message */
function jsonError(status, code, message) {
  return json(status, { error: { code, message } });
}

/** @param {number} status @param {unknown} value @param {boolean} [headOnly] */
function json(status, value, headOnly = false) {
  const body = JSON.stringify(value);
  return new Response(headOnly ? null : body, {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}
