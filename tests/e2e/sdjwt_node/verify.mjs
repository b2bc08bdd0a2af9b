// Verify an SD-JWT VC presentation with @sd-jwt/sd-jwt-vc, as an independent verifier would.
//
//   node verify.mjs '<json>'   with {presentation, issuer_jwk, nonce, audience,
//                               required_claims?, status_lists?: {uri: token}, now?}
//
// Prints {"ok": true, "header", "claims", "kb"} (exit 0) or {"ok": false, "error"} (exit 1).
// Status lists are looked up in `status_lists` (no network); the library verifies their
// signature with the issuer key. Checks the library leaves to the caller are done here:
// the JOSE typ (dc+sd-jwt), the KB-JWT aud and the KB-JWT age.
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ALG, HASH_ALG, hasher, kbVerifier, saltGenerator, verifierFor } from './es256.mjs';

const VC_TYP = 'dc+sd-jwt';
const KB_MAX_AGE_SECONDS = 300;
const SKEW_SECONDS = 60;

async function main(input) {
  const statusLists = input.status_lists ?? {};
  const sdjwt = new SDJwtVcInstance({
    hasher,
    hashAlg: HASH_ALG,
    saltGenerator,
    signAlg: ALG,
    verifier: verifierFor(input.issuer_jwk),
    kbVerifier,
    statusListFetcher: async (uri) => {
      if (!(uri in statusLists)) throw new Error(`no status list for ${uri}`);
      return statusLists[uri];
    },
  });
  const now = input.now ?? Math.floor(Date.now() / 1000);
  const result = await sdjwt.verify(input.presentation, {
    keyBindingNonce: input.nonce,
    requiredClaimKeys: input.required_claims ?? [],
    currentDate: now,
    skewSeconds: SKEW_SECONDS,
  });
  if (result.header?.typ !== VC_TYP) throw new Error(`typ is ${result.header?.typ}, not ${VC_TYP}`);
  if (!result.kb) throw new Error('no key binding');
  if (result.kb.payload.aud !== input.audience) throw new Error('KB-JWT aud is not this verifier');
  const age = now - result.kb.payload.iat;
  if (age > KB_MAX_AGE_SECONDS + SKEW_SECONDS || age < -SKEW_SECONDS) throw new Error('KB-JWT iat out of window');
  return { ok: true, header: result.header, claims: result.payload, kb: result.kb };
}

try {
  console.log(JSON.stringify(await main(JSON.parse(process.argv[2]))));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.message ?? error) }));
  process.exitCode = 1;
}
