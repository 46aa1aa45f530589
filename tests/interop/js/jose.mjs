/*!
 * jose.mjs: compact JWS with panva/jose (RFC 7515), one job, by `op`:
 *   {op: 'verify', token, jwk, typ} -> {verified, header?, payload?, error?}
 *     (the alg comes from the key, never from the token; typ must match)
 *   {op: 'sign', payload, jwk, alg, kid, typ} -> {token}
 */
import {CompactSign, compactVerify, importJWK} from 'jose';

import {main, serializeError} from './io.mjs';

async function verify({token, jwk, typ}) {
  try {
    const key = await importJWK(jwk, jwk.alg);
    const {payload, protectedHeader} = await compactVerify(
      token, key, {algorithms: [jwk.alg]});
    if(protectedHeader.typ !== typ) {
      throw new Error(`typ is ${protectedHeader.typ}, not ${typ}`);
    }
    return {
      verified: true, header: protectedHeader,
      payload: JSON.parse(new TextDecoder().decode(payload)),
    };
  } catch(error) {
    return {verified: false, error: serializeError(error)};
  }
}

async function sign({payload, jwk, alg, kid, typ}) {
  const key = await importJWK(jwk, alg);
  const token = await new CompactSign(
    new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({alg, kid, typ})
    .sign(key);
  return {token};
}

await main(async job => job.op === 'sign' ? sign(job) : verify(job));
