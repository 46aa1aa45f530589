/*!
 * sign.mjs: {credential, keyPair, cryptosuite, created?} -> {signed}
 *
 * Issues with @digitalbazaar/vc issue() and a DataIntegrityProof (VC-DI 1.0
 * section 4.2). The verification method is did:key:X#X unless keyPair.id says
 * otherwise; the controller is did:key:X.
 */
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import * as vc from '@digitalbazaar/vc';

import {main} from './io.mjs';
import {documentLoader} from './loader.mjs';
import {lookup} from './suites.mjs';

await main(async ({credential, keyPair, cryptosuite, created}) => {
  const {cryptosuite: suiteImpl, keys} = lookup(cryptosuite);
  const {publicKeyMultibase} = keyPair;
  const controller = keyPair.controller ?? `did:key:${publicKeyMultibase}`;
  const id = keyPair.id ?? `did:key:${publicKeyMultibase}#${publicKeyMultibase}`;
  const key = await keys.from({
    type: 'Multikey',
    publicKeyMultibase,
    secretKeyMultibase: keyPair.secretKeyMultibase ??
      keyPair.privateKeyMultibase,
    controller, id,
  });
  const suite = new DataIntegrityProof({
    signer: key.signer(), cryptosuite: suiteImpl,
    ...(created === undefined ? {} : {date: created}),
  });
  const signed = await vc.issue({credential, suite, documentLoader});
  return {signed};
});
