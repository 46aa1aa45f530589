// A wallet on @openid4vc/openid4vci (OpenWallet Foundation): receives a credential offer link
// and runs the pre-authorized code flow against certvc's issuer over https.
//
// stdin: {"offer": link, "txCode": str|null, "configurationId": str,
//         "holder": {"privateJwk": {...}, "kid": str|null, "alg": "EdDSA"|"ES256"}}
// stdout: {"ok": true, "credential": ..., "metadata": ..., "offer": ...}
//      or {"ok": false, "error": message, "response": body-if-any}
// The test trusts its own CA through NODE_EXTRA_CA_CERTS.
import { createHash, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { clientAuthenticationAnonymous } from '@openid4vc/oauth2';
import { Openid4vciClient } from '@openid4vc/openid4vci';

const b64url = (data) => Buffer.from(data).toString('base64url');

function makeSigner(holder) {
  const key = createPrivateKey({ key: holder.privateJwk, format: 'jwk' });
  const { d, ...publicJwk } = holder.privateJwk;
  return async (jwtSigner, { header, payload }) => {
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const signature = header.alg === 'EdDSA'
      ? sign(null, Buffer.from(input), key)
      : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return { jwt: `${input}.${b64url(signature)}`, signerJwk: publicJwk };
  };
}

async function main() {
  const input = JSON.parse(await new Promise((resolve) => {
    let text = '';
    process.stdin.on('data', (chunk) => { text += chunk; });
    process.stdin.on('end', () => resolve(text));
  }));
  const holder = input.holder;
  const client = new Openid4vciClient({
    callbacks: {
      fetch: globalThis.fetch,
      hash: (data, alg) => createHash(alg.replace('-', '')).update(data).digest(),
      generateRandom: (length) => randomBytes(length),
      signJwt: makeSigner(holder),
      clientAuthentication: clientAuthenticationAnonymous(),
    },
  });
  const offer = await client.resolveCredentialOffer(input.offer);
  const metadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer,
    issuerMetadata: metadata,
    txCode: input.txCode ?? undefined,
  });
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata: metadata });
  const { d, ...publicJwk } = holder.privateJwk;
  const signer = holder.kid
    ? { method: 'did', didUrl: holder.kid, alg: holder.alg }
    : { method: 'jwk', publicJwk, alg: holder.alg };
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata: metadata,
    credentialConfigurationId: input.configurationId,
    nonce,
    signer,
  });
  const result = await client.retrieveCredentials({
    issuerMetadata: metadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: input.configurationId,
    proofs: { jwt: [jwt] },
  });
  const response = result.credentialResponse;
  process.stdout.write(JSON.stringify({
    ok: true,
    credential: response.credentials[0].credential,
    metadata: metadata.credentialIssuer,
    offer,
  }));
}

main().catch((error) => {
  const response = error.response?.body ?? error.errorResponse ?? null;
  process.stdout.write(JSON.stringify({ ok: false, error: String(error?.message ?? error), response }));
});
