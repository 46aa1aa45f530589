/*!
 * canonize.mjs: {document} -> {nquads}, or {nquads_in} -> {nquads}
 *
 * RDF Dataset Canonicalization (RDFC-1.0) as jsonld.js and rdf-canonize do it,
 * with JSON-LD safe mode on (as the Data Integrity cryptosuites use it).
 */
import jsonld from 'jsonld';
import rdfCanonize from 'rdf-canonize';

import {main} from './io.mjs';
import {documentLoader} from './loader.mjs';

await main(async job => {
  if('document' in job) {
    const nquads = await jsonld.canonize(job.document, {
      algorithm: 'RDFC-1.0', format: 'application/n-quads', safe: true,
      documentLoader,
    });
    return {nquads};
  }
  if('nquads_in' in job) {
    const nquads = await rdfCanonize.canonize(job.nquads_in, {
      algorithm: 'RDFC-1.0', inputFormat: 'application/n-quads',
      format: 'application/n-quads',
    });
    return {nquads};
  }
  throw new TypeError('A job needs "document" or "nquads_in".');
});
