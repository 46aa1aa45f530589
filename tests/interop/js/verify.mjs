/*!
 * verify.mjs: {credential, now?, checkIssuer?, didDocuments?} -> {verified, error?}
 *
 * @digitalbazaar/vc verifyCredential() with both cryptosuites; validity dates
 * are checked as usual (against `now` when given). No credentialStatus is used
 * in these tests, so no checkStatus is passed (vc then refuses any status).
 *
 * checkIssuer: false verifies the proof alone (jsonld-signatures with an
 * assertionMethod purpose) without vc's rule that the issuer be the key's
 * controller: the W3C vectors are signed by a did:key for another issuer.
 *
 * didDocuments: DID -> DID document, for a did:web issuer (no network here).
 */
import * as vc from '@digitalbazaar/vc';
import jsigs from 'jsonld-signatures';

import {main, serializeError} from './io.mjs';
import {withDidDocuments} from './loader.mjs';
import {verifyingSuites} from './suites.mjs';

const {purposes: {AssertionProofPurpose}} = jsigs;

await main(async ({credential, now, checkIssuer = true, didDocuments = {}}) => {
  const documentLoader = withDidDocuments(didDocuments);
  const options = {
    suite: verifyingSuites(), documentLoader,
    ...(now === undefined ? {} : {now}),
  };
  const result = checkIssuer ?
    await vc.verifyCredential({credential, ...options}) :
    await jsigs.verify(credential, {
      ...options, purpose: new AssertionProofPurpose(
        now === undefined ? {} : {date: now}),
    });
  const out = {verified: result.verified === true};
  if(!out.verified) {
    // result.error gathers the per-proof errors of result.results
    const error = result.error ??
      (result.results ?? []).map(r => r.error).find(e => e);
    out.error = serializeError(error ?? new Error('Not verified.'));
  }
  return out;
});
