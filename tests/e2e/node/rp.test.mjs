// rp.mjs must verify the ID token's signature against the OP's JWKS (openid-client skips that
// by default for token-endpoint responses). A fake OP signs with a key it does not publish.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import { runRelyingParty } from './rp.mjs';

const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const RS256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

async function signJwt(privateKey, kid, claims) {
  const input = `${b64({ alg: 'RS256', kid, typ: 'JWT' })}.${b64(claims)}`;
  const signature = await crypto.subtle.sign(RS256, privateKey, Buffer.from(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

let server;
let issuer;
let published;
let unpublished;
let signWith;

before(async () => {
  published = await crypto.subtle.generateKey(RS256, true, ['sign', 'verify']);
  unpublished = await crypto.subtle.generateKey(RS256, true, ['sign', 'verify']);
  const jwk = { ...(await crypto.subtle.exportKey('jwk', published.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  let nonce;
  server = createServer(async (req, res) => {
    const url = new URL(req.url, issuer);
    const json = (body, status = 200) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    for await (const _ of req); // drain the body
    if (url.pathname === '/.well-known/openid-configuration') {
      return json({
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        userinfo_endpoint: `${issuer}/userinfo`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
      });
    }
    if (url.pathname === '/jwks') return json({ keys: [jwk] });
    if (url.pathname === '/authorize') {
      nonce = url.searchParams.get('nonce');
      const back = new URL(REDIRECT_URI);
      back.search = new URLSearchParams({ code: 'c', state: url.searchParams.get('state'), iss: issuer }).toString();
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (url.pathname === '/token') {
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: issuer, aud: 'rp', sub: 'pairwise-1', nonce, iat: now, exp: now + 300 };
      return json({ access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: await signJwt(signWith.privateKey, 'k1', claims) });
    }
    return json({ error: 'not_found' }, 404);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

const config = () => ({ issuer, client_id: 'rp', client_secret: 'secret', redirect_uri: REDIRECT_URI, post_logout_redirect_uri: 'http://127.0.0.1:9/bye', email: 'e', password: 'p' });

test('an ID token signed by a key outside the JWKS is rejected at the token step', async () => {
  signWith = unpublished;
  const result = await runRelyingParty(config());
  assert.equal(result.ok, false);
  assert.equal(result.error.step, 'token');
  assert.match(`${result.error.message} ${result.error.cause ?? ''}`, /signature/i);
  assert.equal(result.id_token, undefined);
});

test('the same ID token signed by the published key passes the token step', async () => {
  signWith = published;
  const result = await runRelyingParty(config());
  assert.equal(result.id_token.claims.sub, 'pairwise-1');
  assert.equal(result.id_token.header.kid, 'k1');
  assert.equal(result.error.step, 'userinfo'); // the fake OP has no userinfo endpoint
});
