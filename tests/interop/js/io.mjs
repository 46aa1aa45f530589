/*!
 * Shared plumbing of the harness scripts: one JSON payload on stdin, one JSON
 * result on stdout. A payload that is a list is a batch: each job gets its own
 * result, and a failing job yields {error} without stopping the others.
 */
import {readFileSync} from 'node:fs';

/**
 * Turns an error (possibly a jsonld-signatures VerificationError holding
 * several) into plain JSON.
 *
 * @param {Error} error - The error.
 * @returns {object} {name, message, code?, cause?, errors?}.
 */
export function serializeError(error) {
  if(!(error instanceof Error)) {
    return {name: 'NonError', message: String(error)};
  }
  const out = {name: error.name, message: error.message};
  // jsonld.js wraps a loader failure: JsonLdError {details: {code, cause}}
  const code = error.details?.code ?? error.code;
  if(typeof code === 'string') {
    out.code = code;
  }
  const cause = error.details?.cause ?? error.cause;
  if(cause !== undefined) {
    out.cause = serializeError(cause);
  }
  if(Array.isArray(error.errors) && error.errors.length > 0) {
    out.errors = error.errors.map(serializeError);
  }
  return out;
}

/**
 * Reads stdin, runs `handler` on each job, writes the result(s).
 *
 * @param {Function} handler - async job => result object.
 */
export async function main(handler) {
  const payload = JSON.parse(readFileSync(0, 'utf8'));
  const jobs = Array.isArray(payload) ? payload : [payload];
  const results = [];
  for(const job of jobs) {
    try {
      results.push(await handler(job));
    } catch(error) {
      results.push({error: serializeError(error)});
    }
  }
  process.stdout.write(
    JSON.stringify(Array.isArray(payload) ? results : results[0]));
}
