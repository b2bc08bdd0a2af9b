// Issue an SD-JWT VC with @sd-jwt/sd-jwt-vc and present some of its claims with a KB-JWT.
//
//   node issue.mjs '<json>'   with {iss, vct, claims, disclosable, disclose, nonce, audience,
//                              validity_seconds?}
//
// A fresh P-256 issuer key and holder key are generated; cnf.jwk binds the holder key.
// Prints {"issuer_jwk", "header", "credential", "presentation"}.
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ALG, HASH_ALG, hasher, newKeyPair, saltGenerator, signerFor } from './es256.mjs';

function main(input) {
  const issuer = newKeyPair();
  const holder = newKeyPair();
  const now = Math.floor(Date.now() / 1000);
  const sdjwt = new SDJwtVcInstance({
    hasher,
    hashAlg: HASH_ALG,
    saltGenerator,
    signer: signerFor(issuer.privateJwk),
    signAlg: ALG,
    kbSigner: signerFor(holder.privateJwk),
    kbSignAlg: ALG,
  });
  const payload = {
    iss: input.iss,
    vct: input.vct,
    iat: now,
    exp: now + (input.validity_seconds ?? 3600),
    cnf: { jwk: holder.publicJwk },
    ...input.claims,
  };
  return sdjwt.issue(payload, { _sd: input.disclosable }).then(async (credential) => {
    const frame = Object.fromEntries(input.disclose.map((name) => [name, true]));
    const presentation = await sdjwt.present(credential, frame, {
      kb: { payload: { iat: now, aud: input.audience, nonce: input.nonce } },
    });
    const header = JSON.parse(Buffer.from(credential.split('.')[0], 'base64url'));
    return { issuer_jwk: issuer.publicJwk, header, credential, presentation };
  });
}

console.log(JSON.stringify(await main(JSON.parse(process.argv[2]))));
