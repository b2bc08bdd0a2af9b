// ES256 (RFC 7518 §3.4) and SHA-256 for @sd-jwt/*, with node:crypto only: the library takes
// these as callbacks and ships no crypto of its own.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';

export const ALG = 'ES256';
export const HASH_ALG = 'sha-256';

export function hasher(data, alg) {
  if (alg.toLowerCase() !== HASH_ALG) throw new Error(`unsupported _sd_alg ${alg}`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

export function saltGenerator(length) {
  return randomBytes(length).toString('base64url');
}

export function signerFor(privateJwk) {
  const key = createPrivateKey({ key: privateJwk, format: 'jwk' });
  // JWS wants the raw R||S signature (IEEE P1363), not DER.
  return (data) => sign('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}

function publicKeyOf(jwk) {
  if (jwk?.kty !== 'EC' || jwk.crv !== 'P-256' || 'd' in jwk) throw new Error('expected a public P-256 JWK');
  return createPublicKey({ key: jwk, format: 'jwk' });
}

export function verifierFor(publicJwk) {
  const key = publicKeyOf(publicJwk);
  return (data, signature) => verify('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
}

// The KB-JWT is checked with the Holder key the Issuer put in cnf.jwk (RFC 9901 §4.1.2).
export function kbVerifier(data, signature, payload) {
  return verifierFor(payload?.cnf?.jwk)(data, signature);
}

export function newKeyPair() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateJwk = privateKey.export({ format: 'jwk' });
  const { d, ...publicJwk } = privateJwk;
  return { privateJwk, publicJwk };
}
