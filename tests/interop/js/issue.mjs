/*!
 * issue.mjs: {document, keyPair, proofs, created?, presentation?, challenge?,
 *   domain?} -> {signed}
 *
 * Signs a credential (or, with presentation: true, a presentation) with each
 * proof of `proofs` in turn, each joining the proof set: a Data Integrity
 * cryptosuite name ('eddsa-rdfc-2022', 'ecdsa-rdfc-2019') or the legacy
 * 'Ed25519Signature2020'. jsonld-signatures adds the suite's context when the
 * document lacks it, as vc.issue does. Proof purpose: assertionMethod for a
 * credential, authentication (with challenge and domain) for a presentation.
 * VC 1.1 and 2.0 documents alike; the issuer is not checked here.
 */
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import jsigs from 'jsonld-signatures';

import {main} from './io.mjs';
import {documentLoader} from './loader.mjs';
import {lookup} from './suites.mjs';

const {purposes: {AssertionProofPurpose, AuthenticationProofPurpose}} = jsigs;

async function suiteFor(name, keyPair, created) {
  const {publicKeyMultibase} = keyPair;
  const controller = keyPair.controller ?? `did:key:${publicKeyMultibase}`;
  const id = keyPair.id ?? `${controller}#${publicKeyMultibase}`;
  const secretKeyMultibase = keyPair.secretKeyMultibase ??
    keyPair.privateKeyMultibase;
  const date = created === undefined ? {} : {date: created};
  if(name === 'Ed25519Signature2020') {
    const key = await Ed25519Multikey.from({
      type: 'Multikey', publicKeyMultibase, secretKeyMultibase, controller, id,
    });
    return new Ed25519Signature2020({signer: key.signer(), ...date});
  }
  const {cryptosuite, keys} = lookup(name);
  const key = await keys.from({
    type: 'Multikey', publicKeyMultibase, secretKeyMultibase, controller, id,
  });
  return new DataIntegrityProof({signer: key.signer(), cryptosuite, ...date});
}

await main(async ({
  document, keyPair, proofs, created, presentation = false, challenge, domain,
}) => {
  let signed = document;
  for(const name of proofs) {
    const suite = await suiteFor(name, keyPair, created);
    const purpose = presentation ?
      new AuthenticationProofPurpose({challenge, domain}) :
      new AssertionProofPurpose();
    signed = await jsigs.sign(structuredClone(signed), {
      suite, purpose, documentLoader,
    });
  }
  return {signed};
});
