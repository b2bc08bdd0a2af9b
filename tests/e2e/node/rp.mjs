// An independent relying party (panva's openid-client v6) that drives a whole OpenID Connect
// session against an OP and reports what it saw:
//
//   node rp.mjs <config.json>      -> one JSON object on stdout; exit 0 on success, 1 on failure
//
// discovery -> authorization URL (PKCE S256, state, nonce) -> login + consent forms -> callback
// -> code exchange (ID token checked by openid-client: JWS signature against the JWKS, iss, aud,
// nonce, exp) -> userinfo -> single sign-on without pages -> refresh (must rotate; the old token
// is tried once more) -> RP-initiated logout -> prompt=none must no longer find a session.
//
// config.json: issuer, client_id, client_secret (absent for a public client), redirect_uri,
// post_logout_redirect_uri, email, password, claims_to_allow (array, or null to keep the page's
// ticks); optional: token_endpoint_auth_method (client_secret_basic | client_secret_post |
// private_key_jwt | none), private_jwk (for private_key_jwt), id_token_signed_response_alg,
// scope (default "openid email profile"), decision ("allow" | "deny"), check_sso (default true).

import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

import * as client from 'openid-client';

import { Browser, FlowError, authorize, logout } from './forms.mjs';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const SESSION_GONE_ERRORS = new Set(['login_required', 'interaction_required', 'consent_required']);
const SIGNING_ALGORITHMS = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
};

async function clientAuthentication(cfg) {
  const method = cfg.token_endpoint_auth_method
    ?? (cfg.private_jwk ? 'private_key_jwt' : cfg.client_secret ? 'client_secret_basic' : 'none');
  switch (method) {
    case 'client_secret_basic':
      return [method, client.ClientSecretBasic(cfg.client_secret)];
    case 'client_secret_post':
      return [method, client.ClientSecretPost(cfg.client_secret)];
    case 'none':
      return [method, client.None()];
    case 'private_key_jwt': {
      const jwk = cfg.private_jwk;
      const algorithm = SIGNING_ALGORITHMS[jwk.alg ?? 'RS256'];
      if (!algorithm) throw new FlowError(`unsupported private_jwk alg ${jwk.alg}`);
      const key = await crypto.subtle.importKey('jwk', jwk, algorithm, false, ['sign']);
      return [method, client.PrivateKeyJwt({ key, kid: jwk.kid })];
    }
    default:
      throw new FlowError(`unsupported token_endpoint_auth_method ${method}`);
  }
}

async function discover(cfg) {
  const issuer = new URL(cfg.issuer);
  // Plain http only on loopback, where the tests and benchmarks run.
  if (issuer.protocol !== 'https:' && !LOOPBACK.has(issuer.hostname)) {
    throw new FlowError(`refusing a non-https issuer off loopback: ${cfg.issuer}`);
  }
  const [method, auth] = await clientAuthentication(cfg);
  const metadata = { token_endpoint_auth_method: method };
  if (cfg.client_secret) metadata.client_secret = cfg.client_secret;
  if (cfg.id_token_signed_response_alg) metadata.id_token_signed_response_alg = cfg.id_token_signed_response_alg;
  const execute = [client.enableNonRepudiationChecks]; // verify ID token signatures via the JWKS
  if (issuer.protocol === 'http:') execute.push(client.allowInsecureRequests);
  const config = await client.discovery(issuer, cfg.client_id, metadata, auth, { execute });
  if (!config.serverMetadata().supportsPKCE('S256')) throw new FlowError('discovery does not advertise PKCE S256');
  return config;
}

async function authorizationRequest(config, cfg, extra = {}) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const checks = { pkceCodeVerifier, expectedState: client.randomState(), expectedNonce: client.randomNonce(), idTokenExpected: true };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: cfg.redirect_uri,
    scope: cfg.scope ?? 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: checks.expectedState,
    nonce: checks.expectedNonce,
    ...extra,
  });
  return { url, checks };
}

function jwtHeader(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString('utf8'));
}

function describeError(error, step) {
  const out = { step, name: error?.name ?? 'Error', message: String(error?.message ?? error) };
  for (const key of ['code', 'error', 'error_description', 'status', 'url', 'page', 'page_kind']) {
    if (error?.[key] !== undefined && typeof error[key] !== 'object') out[key] = error[key];
  }
  if (error?.cause) {
    const cause = error.cause?.message ?? error.cause;
    out.cause = typeof cause === 'object' ? JSON.stringify(cause) : String(cause);
  }
  return out;
}

export async function runRelyingParty(cfg) {
  const result = { ok: false, issuer: cfg.issuer, client_id: cfg.client_id, steps: [] };
  const browser = new Browser();
  const login = { redirectUri: cfg.redirect_uri, email: cfg.email, password: cfg.password, claimsToAllow: cfg.claims_to_allow ?? null, decision: cfg.decision ?? 'allow' };
  let step = 'start';
  const enter = (name) => { step = name; result.steps.push(name); };
  try {
    enter('discovery');
    const config = await discover(cfg);
    result.token_endpoint_auth_method = config.clientMetadata().token_endpoint_auth_method;

    enter('authorize');
    const first = await authorizationRequest(config, cfg);
    const walked = await authorize(browser, first.url, login);
    result.pages = walked.pages;
    result.consent = walked.consent;
    result.callback_iss = walked.callbackUrl.searchParams.get('iss');

    enter('token');
    const tokens = await client.authorizationCodeGrant(config, walked.callbackUrl, first.checks);
    const claims = tokens.claims();
    result.id_token = { header: jwtHeader(tokens.id_token), claims };
    result.token = { token_type: tokens.token_type, expires_in: tokens.expires_in, scope: tokens.scope, has_refresh_token: Boolean(tokens.refresh_token) };

    enter('userinfo');
    result.userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);

    let latestIdToken = tokens.id_token;
    if (cfg.check_sso ?? true) {
      enter('sso');
      const again = await authorizationRequest(config, cfg);
      const back = await authorize(browser, again.url, { ...login, interactive: false });
      const ssoTokens = await client.authorizationCodeGrant(config, back.callbackUrl, again.checks);
      if (ssoTokens.claims().sub !== claims.sub) throw new FlowError('single sign-on returned another subject');
      result.sso = { straight_back: true, same_sub: true };
      latestIdToken = ssoTokens.id_token;
    }

    enter('refresh');
    if (!tokens.refresh_token) throw new FlowError('the token response carried no refresh_token');
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    const rotated = Boolean(refreshed.refresh_token) && refreshed.refresh_token !== tokens.refresh_token;
    result.refresh = { ok: false, rotated, new_id_token: Boolean(refreshed.id_token) };
    if (!rotated) throw new FlowError('the refresh token was not rotated');
    if (refreshed.id_token && refreshed.claims().sub !== claims.sub) throw new FlowError('the refreshed ID token has another subject');
    const userinfoAfter = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
    result.refresh.userinfo_sub_matches = userinfoAfter.sub === claims.sub;
    try {
      await client.refreshTokenGrant(config, tokens.refresh_token);
      result.refresh.old_token_rejected = false;
    } catch (error) {
      if (!(error instanceof client.ResponseBodyError)) throw error;
      result.refresh.old_token_rejected = true;
      result.refresh.old_token_error = error.error;
    }
    result.refresh.ok = true;

    enter('logout');
    const endState = client.randomState();
    const endUrl = client.buildEndSessionUrl(config, { id_token_hint: latestIdToken, post_logout_redirect_uri: cfg.post_logout_redirect_uri, state: endState });
    const ended = await logout(browser, endUrl, { postLogoutRedirectUri: cfg.post_logout_redirect_uri });
    const returnedState = ended.finalUrl.searchParams.get('state');
    if (returnedState !== null && returnedState !== endState) throw new FlowError('logout returned another state');
    result.logout = { final_url: ended.finalUrl.href, confirmed: ended.confirmed, state_returned: returnedState === endState };

    enter('session_ended');
    const probe = await authorizationRequest(config, cfg, { prompt: 'none' });
    try {
      const back = await authorize(browser, probe.url, { ...login, interactive: false });
      const error = back.callbackUrl.searchParams.get('error');
      if (!SESSION_GONE_ERRORS.has(error)) throw new FlowError(`prompt=none after logout answered ${error ?? 'with a code'}`);
      result.logout.session_ended = true;
      result.logout.prompt_none_error = error;
    } catch (error) {
      if (error.page_kind !== 'login') throw error;
      result.logout.session_ended = true; // the session is gone, though prompt=none showed a page
      result.logout.prompt_none_error = null;
    }
    result.ok = true;
  } catch (error) {
    result.error = describeError(error, step);
  }
  result.cookies = browser.jar.names();
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const configPath = process.argv[2];
  if (!configPath) {
    process.stderr.write('usage: node rp.mjs <config.json>\n');
    process.exit(2);
  }
  const result = await runRelyingParty(JSON.parse(await readFile(configPath, 'utf8')));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = result.ok ? 0 : 1;
}
