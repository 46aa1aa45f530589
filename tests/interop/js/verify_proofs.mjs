/*!
 * verify_proofs.mjs: {credential, now?} -> {verified, proofs: [{proofValue, verified, error?}]}
 *
 * jsonld-signatures verify() with an assertionMethod purpose (the proof alone,
 * as verify.mjs with checkIssuer: false), reporting every proof of a proof set
 * on its own, keyed by its proofValue (results come back in completion order).
 * `verified` is jsonld-signatures' own verdict for the set.
 */
import jsigs from 'jsonld-signatures';

import {main, serializeError} from './io.mjs';
import {documentLoader} from './loader.mjs';
import {verifyingSuites} from './suites.mjs';

const {purposes: {AssertionProofPurpose}} = jsigs;

await main(async ({credential, now}) => {
  const result = await jsigs.verify(credential, {
    suite: verifyingSuites(), documentLoader,
    purpose: new AssertionProofPurpose(now === undefined ? {} : {date: now}),
  });
  const proofs = (result.results ?? []).map(r => ({
    proofValue: r.proof?.proofValue ?? null,
    verified: r.verified === true,
    ...(r.error ? {error: serializeError(r.error)} : {}),
  }));
  return {verified: result.verified === true, proofs};
});
