/*!
 * canonize.mjs: {document, messageDigestAlgorithm?} -> {nquads}, or
 * {nquads_in} -> {nquads}
 *
 * RDF Dataset Canonicalization (RDFC-1.0) as jsonld.js and rdf-canonize do it,
 * with JSON-LD safe mode on and rdfDirection 'i18n-datatype' (as the Data
 * Integrity cryptosuites and jsonld-signatures canonize), and
 * the hash RDFC-1.0 labels blank nodes with (SHA-256 unless given: the
 * ecdsa-rdfc-2019 cryptosuite passes SHA-384 for P-384 keys).
 */
import jsonld from 'jsonld';
import rdfCanonize from 'rdf-canonize';

import {main} from './io.mjs';
import {documentLoader} from './loader.mjs';

await main(async job => {
  if('document' in job) {
    const nquads = await jsonld.canonize(job.document, {
      algorithm: 'RDFC-1.0', format: 'application/n-quads', safe: true,
      rdfDirection: 'i18n-datatype', documentLoader,
      ...(job.messageDigestAlgorithm ? {
        canonizeOptions: {messageDigestAlgorithm: job.messageDigestAlgorithm},
      } : {}),
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
