/*!
 * presentations.mjs: one job, by `op`:
 *   {op: 'sign', presentation, keyPair, cryptosuite, challenge, domain?, created?}
 *     -> {signed}   (@digitalbazaar/vc signPresentation, purpose authentication)
 *   {op: 'verify', presentation, challenge, domain?, now?}
 *     -> {verified, error?}   (@digitalbazaar/vc verify(); the credentials
 *        inside are verified too, without status)
 */
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import * as vc from '@digitalbazaar/vc';

import {main, serializeError} from './io.mjs';
import {documentLoader} from './loader.mjs';
import {lookup, verifyingSuites} from './suites.mjs';

async function sign({presentation, keyPair, cryptosuite, challenge, domain, created}) {
  const {cryptosuite: suiteImpl, keys} = lookup(cryptosuite);
  const {publicKeyMultibase} = keyPair;
  const controller = `did:key:${publicKeyMultibase}`;
  const key = await keys.from({
    type: 'Multikey', publicKeyMultibase,
    secretKeyMultibase: keyPair.secretKeyMultibase,
    controller, id: `${controller}#${publicKeyMultibase}`,
  });
  const suite = new DataIntegrityProof({
    signer: key.signer(), cryptosuite: suiteImpl,
    ...(created === undefined ? {} : {date: created}),
  });
  const signed = await vc.signPresentation(
    {presentation, suite, challenge, domain, documentLoader});
  return {signed};
}

async function verify({presentation, challenge, domain, now}) {
  const result = await vc.verify({
    presentation, suite: verifyingSuites(), documentLoader, challenge, domain,
    ...(now === undefined ? {} : {now}),
  });
  const out = {verified: result.verified === true};
  if(!out.verified) {
    const error = result.error ??
      result.presentationResult?.error ??
      (result.credentialResults ?? []).map(r => r.error).find(e => e);
    out.error = serializeError(error ?? new Error('Not verified.'));
  }
  return out;
}

await main(async job => job.op === 'sign' ? sign(job) : verify(job));
