/*!
 * The two Data Integrity cryptosuites certvc speaks, by name.
 */
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import {cryptosuite as ecdsaRdfc2019} from
  '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {cryptosuite as eddsaRdfc2022} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

export const CRYPTOSUITES = {
  'eddsa-rdfc-2022': {cryptosuite: eddsaRdfc2022, keys: Ed25519Multikey},
  'ecdsa-rdfc-2019': {cryptosuite: ecdsaRdfc2019, keys: EcdsaMultikey},
};

export function lookup(name) {
  const entry = CRYPTOSUITES[name];
  if(!entry) {
    throw new Error(`Unknown cryptosuite: ${name}`);
  }
  return entry;
}

/**
 * One verifying DataIntegrityProof per cryptosuite, and the legacy
 * Ed25519Signature2020 suite (real Open Badges 3.0 credentials carry it).
 */
export function verifyingSuites() {
  return [
    ...Object.values(CRYPTOSUITES).map(
      ({cryptosuite}) => new DataIntegrityProof({cryptosuite})),
    new Ed25519Signature2020(),
  ];
}
