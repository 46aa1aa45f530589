/*!
 * Offline document loader for the interop harness.
 *
 * Serves only: the contexts pinned in contexts/data/manifest.json (checked
 * against their SHA-256), the two test-only contexts of the W3C vectors, and
 * did:key documents built locally (did:key 0.7 section 3.1.1, Multikey form).
 * Every other URL throws: the reference implementation never reaches the
 * network, just like certvc's own loader.
 */
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';

const HERE = dirname(fileURLToPath(import.meta.url));
const PINNED_DIR = join(HERE, '..', '..', '..', 'contexts', 'data');
const VECTOR_CONTEXT_DIR = join(HERE, '..', '..', 'vectors', 'contexts');

const DID_V1 = 'https://www.w3.org/ns/did/v1';
const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';

// Test-only contexts used by the W3C vectors (tests/vectors/contexts).
const VECTOR_CONTEXTS = {
  'https://www.w3.org/ns/credentials/examples/v2':
    'www.w3.org_ns_credentials_examples_v2.jsonld',
  'https://w3id.org/citizenship/v4rc1': 'w3id.org_citizenship_v4rc1.jsonld',
};

function loadContexts() {
  const contexts = new Map();
  const manifest = JSON.parse(
    readFileSync(join(PINNED_DIR, 'manifest.json'), 'utf8'));
  for(const {url, file, sha256} of manifest) {
    const bytes = readFileSync(join(PINNED_DIR, file));
    const digest = createHash('sha256').update(bytes).digest('hex');
    if(digest !== sha256) {
      throw new Error(`Pinned context ${file} does not match its SHA-256.`);
    }
    contexts.set(url, JSON.parse(bytes.toString('utf8')));
  }
  for(const [url, file] of Object.entries(VECTOR_CONTEXTS)) {
    contexts.set(url, JSON.parse(
      readFileSync(join(VECTOR_CONTEXT_DIR, file), 'utf8')));
  }
  return contexts;
}

const CONTEXTS = loadContexts();

// Multicodec prefixes of the key types did:key may name here (multicodec
// table: ed25519-pub 0xed, p256-pub 0x1200, p384-pub 0x1201), as base58btc.
function multikeyLibrary(publicKeyMultibase) {
  if(publicKeyMultibase.startsWith('z6Mk')) {
    return Ed25519Multikey;
  }
  if(publicKeyMultibase.startsWith('zDna') ||
    publicKeyMultibase.startsWith('z82L')) {
    return EcdsaMultikey;
  }
  throw new Error(`Unsupported did:key key type: ${publicKeyMultibase}`);
}

/**
 * Builds the DID document of a did:key (did:key 0.7 section 3.1.1 with the
 * Multikey verification method type).
 *
 * @param {string} did - A did:key DID without fragment.
 * @returns {Promise<object>} The DID document.
 */
export async function didKeyDocument(did) {
  const publicKeyMultibase = did.slice('did:key:'.length);
  if(!publicKeyMultibase.startsWith('z') || publicKeyMultibase.includes(':')) {
    throw new Error(`Malformed did:key: ${did}`);
  }
  const vmId = `${did}#${publicKeyMultibase}`;
  // decoding it proves the key is well formed before anyone trusts it
  const key = await multikeyLibrary(publicKeyMultibase).from({
    id: vmId, controller: did, type: 'Multikey', publicKeyMultibase,
    '@context': MULTIKEY_V1,
  });
  const {publicKeyMultibase: decoded} = await key.export({publicKey: true});
  if(decoded !== publicKeyMultibase) {
    throw new Error(`did:key does not round-trip: ${did}`);
  }
  const verificationMethod = {
    id: vmId, type: 'Multikey', controller: did, publicKeyMultibase,
  };
  return {
    '@context': [DID_V1, MULTIKEY_V1],
    id: did,
    verificationMethod: [verificationMethod],
    authentication: [vmId],
    assertionMethod: [vmId],
    capabilityDelegation: [vmId],
    capabilityInvocation: [vmId],
  };
}

/**
 * A document loader that also serves the given DID documents (a did:web
 * issuer's, as its instance publishes it at /.well-known/did.json), and their
 * verification methods by fragment; everything else as documentLoader.
 *
 * @param {object} didDocuments - DID -> DID document.
 * @returns {Function} A document loader.
 */
export function withDidDocuments(didDocuments) {
  return async url => {
    const [did, fragment] = url.split('#');
    const doc = didDocuments[did];
    if(doc === undefined) {
      return documentLoader(url);
    }
    if(fragment === undefined) {
      return {contextUrl: null, documentUrl: url, document: structuredClone(doc)};
    }
    const vm = (doc.verificationMethod ?? []).find(m => m.id === url);
    if(!vm) {
      throw new Error(`No verification method ${url} in ${did}.`);
    }
    return {contextUrl: null, documentUrl: url,
      document: {'@context': MULTIKEY_V1, ...vm}};
  };
}

/**
 * The document loader handed to jsonld, jsonld-signatures and vc.
 *
 * @param {string} url - The URL to load.
 * @returns {Promise<object>} A jsonld RemoteDocument.
 */
export async function documentLoader(url) {
  if(CONTEXTS.has(url)) {
    return {contextUrl: null, documentUrl: url,
      document: structuredClone(CONTEXTS.get(url))};
  }
  if(url.startsWith('did:key:')) {
    const [did, fragment] = url.split('#');
    const doc = await didKeyDocument(did);
    if(fragment === undefined) {
      return {contextUrl: null, documentUrl: url, document: doc};
    }
    const vm = doc.verificationMethod.find(m => m.id === url);
    if(!vm) {
      throw new Error(`No verification method ${url} in ${did}.`);
    }
    return {contextUrl: null, documentUrl: url,
      document: {'@context': MULTIKEY_V1, ...vm}};
  }
  throw new Error(`Document loader refused ${url}: not pinned, no network.`);
}
