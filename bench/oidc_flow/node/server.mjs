// node oidc-provider configured like Kluis, on a loopback port: the peer implementation of the
// OIDC flow benchmark, and the reference OP the relying-party harnesses are self-tested against.
//
//   node server.mjs <config.json>
//
// config.json: { "host": "127.0.0.1", "port": 0, "ready_file": "/path/ready.json",
//                "clients": [ oidc-provider client metadata, ... ],
//                "accounts": [ { "email", "password", "claims": { "name", ... } }, ... ] }
//
// An account claim that no scope below releases (e.g. "bsn", for the upstream DigiD login tests)
// makes it act like an identity broker: each such claim gets a scope of its own name, and the
// claims request parameter (OIDC Core §5.5) is enabled. Without such claims nothing changes.
//
// When listening it writes {"issuer": "..."} to ready_file (atomically). Logs go to stderr.
//
// With "tls": { "cert", "key", "ca" } (PEM file paths) it speaks HTTPS, asks every client for
// a certificate (without requiring one: browsers have none) and enables RFC 8705
// `tls_client_auth` for clients registered with a `tls_client_auth_subject_dn`, matched
// against the certificate's subject written as "CN=…,O=…" in the certificate's order, and
// accepted only when the certificate chains to "ca". Without "tls" nothing changes.
//
// Configured like Kluis: authorization code + PKCE (S256) required for every client,
// client_secret_basic by default, pairwise subjects, RS256 ID tokens (RSA-3072 key), refresh
// tokens issued for the code flow and rotated on every use, claims email/profile, consent
// remembered as a Grant, RP-initiated logout. Storage is oidc-provider's default in-memory
// adapter (an LRU in this process): nothing is persisted, unlike Kluis's SQL database.
//
// With "store": { "module": "/path/to/node-sql/store.mjs", "kind": "sqlite" | "postgres", ... }
// it keeps everything in that durable SQL store instead (bench/oidc_flow/node-sql/store.mjs,
// a package of its own, so that this one installs without compiling anything), and at
// shutdown prints the store's statements by name and model to stderr as one JSON line
// ("store statements: {...}").
//
// The interaction pages are our own and follow Kluis's form contract (a `login-form` with
// email/password/csrf_token/return_to, a `consent-form` with one `claims` checkbox per claim
// and a decision=allow|deny button), so the same client code can drive both providers.

import {
  X509Certificate, createHmac, generateKeyPairSync, randomBytes, scryptSync, timingSafeEqual,
} from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { pathToFileURL } from 'node:url';

import Provider from 'oidc-provider';

const SCOPE_CLAIMS = {
  email: ['email', 'email_verified'],
  profile: ['name', 'given_name', 'family_name'],
};

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const brokerClaims = [...new Set((config.accounts ?? []).flatMap((a) => Object.keys(a.claims ?? {})))]
  .filter((claim) => !Object.values(SCOPE_CLAIMS).flat().includes(claim));
for (const claim of brokerClaims) SCOPE_CLAIMS[claim] = [claim];
const host = config.host ?? '127.0.0.1';
const pairwiseSalt = randomBytes(32);
const csrfKey = randomBytes(32);

// --- accounts: an in-memory stand-in for Kluis's account store -----------------------------

const accounts = new Map();
for (const [index, account] of (config.accounts ?? []).entries()) {
  const salt = randomBytes(16);
  accounts.set(account.email.toLowerCase(), {
    id: `account-${index + 1}`,
    salt,
    hash: scryptSync(account.password, salt, 32),
    claims: { email: account.email, email_verified: true, ...account.claims },
  });
}
const accountsById = new Map([...accounts.values()].map((a) => [a.id, a]));
const dummySalt = randomBytes(16);

function authenticate(email, password) {
  const account = accounts.get(String(email).toLowerCase());
  // Hash against a dummy when the account is unknown, as Kluis does: same work either way.
  const hash = scryptSync(String(password), account?.salt ?? dummySalt, 32);
  return account && timingSafeEqual(hash, account.hash) ? account : undefined;
}

// --- the provider --------------------------------------------------------------------------

const tls = config.tls;
const server = tls
  ? createTlsServer({
    cert: readFileSync(tls.cert),
    key: readFileSync(tls.key),
    ca: readFileSync(tls.ca),
    requestCert: true,
    rejectUnauthorized: false, // the token endpoint decides (certificateAuthorized below)
  })
  : createServer();
await new Promise((resolve) => server.listen(config.port ?? 0, host, resolve));
const issuer = `${tls ? 'https' : 'http'}://${host}:${server.address().port}`;

const peerCertificate = (ctx) => {
  const peer = ctx.req.socket.getPeerCertificate?.();
  return peer && peer.raw ? new X509Certificate(peer.raw) : undefined;
};
const mTLS = tls
  ? {
    enabled: true,
    tlsClientAuth: true,
    getCertificate: (ctx) => peerCertificate(ctx)?.toString(),
    certificateAuthorized: (ctx) => ctx.req.socket.authorized === true,
    certificateSubjectMatches: (ctx, property, expected) => property === 'tls_client_auth_subject_dn'
      && peerCertificate(ctx)?.subject.split('\n').join(',') === expected,
  }
  : { enabled: false };

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'rs256-1', alg: 'RS256', use: 'sig' };

const storeModule = config.store && await import(pathToFileURL(config.store.module).href);
const store = storeModule && await storeModule.openStore(config.store);
const storeAdapter = store && storeModule.adapterFor(store);

const provider = new Provider(issuer, {
  ...(storeAdapter ? { adapter: storeAdapter } : {}),
  clients: config.clients,
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    id_token_signed_response_alg: 'RS256',
    response_types: ['code'],
    subject_type: 'pairwise',
    token_endpoint_auth_method: 'client_secret_basic',
  },
  jwks: { keys: [signingKey] },
  // oidc-provider's defaults, and RFC 8705's method when speaking TLS
  clientAuthMethods: [
    'client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'private_key_jwt', 'none',
    ...(tls ? ['tls_client_auth'] : []),
  ],
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  claims: { openid: ['sub'], ...SCOPE_CLAIMS },
  scopes: ['openid', ...Object.keys(SCOPE_CLAIMS)],
  responseTypes: ['code'],
  pkce: { required: () => true },
  subjectTypes: ['public', 'pairwise'],
  pairwiseIdentifier: async (ctx, accountId, client) =>
    createHmac('sha256', pairwiseSalt).update(`${client.sectorIdentifier}\0${accountId}`).digest('base64url'),
  // Kluis issues a refresh token with every code grant (no offline_access needed) and rotates it
  // on each use; oidc-provider revokes the grant when a rotated token is used again.
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 3600,
    RefreshToken: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
    Session: 14 * 24 * 3600,
  },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  findAccount: async (ctx, sub) => {
    const account = accountsById.get(sub);
    return account && { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
  },
  interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    claimsParameter: { enabled: brokerClaims.length > 0 },
    mTLS,
  },
});
provider.on('server_error', (ctx, error) => console.error('server_error', error));

// --- interaction pages (Kluis's form contract) ---------------------------------------------

const escapeHtml = (value) =>
  String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const csrfToken = (uid) => createHmac('sha256', csrfKey).update(uid).digest('base64url');

function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`);
}

function loginPage(res, uid, status = 200, error = '') {
  page(res, status, 'Log in', `${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
    <form id="login-form" method="post" action="/interaction/${uid}/login">
      <input type="hidden" name="csrf_token" value="${csrfToken(uid)}">
      <input type="hidden" name="return_to" value="/interaction/${uid}">
      <label>E-mail <input type="email" name="email" autocomplete="username" required></label>
      <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
      <button type="submit">Log in</button>
    </form>`);
}

function requestedClaims(details) {
  const scopes = details.prompt.details.missingOIDCScope ?? [];
  const fromScopes = scopes.flatMap((scope) => SCOPE_CLAIMS[scope] ?? []);
  return [...new Set([...fromScopes, ...(details.prompt.details.missingOIDCClaims ?? [])])];
}

function consentPage(res, uid, details) {
  const boxes = requestedClaims(details)
    .map((claim) => `<label><input type="checkbox" name="claims" value="${escapeHtml(claim)}" checked> ${escapeHtml(claim)}</label>`)
    .join('\n');
  page(res, 200, `Share with ${details.params.client_id}?`, `
    <form id="consent-form" method="post" action="/interaction/${uid}/consent">
      <input type="hidden" name="csrf_token" value="${csrfToken(uid)}">
      <input type="hidden" name="purpose" value="login">
      <fieldset><legend>Claims</legend>${boxes}</fieldset>
      <button type="submit" name="decision" value="allow">Allow</button>
      <button type="submit" name="decision" value="deny">Deny</button>
    </form>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function csrfOk(uid, form) {
  const given = Buffer.from(form.get('csrf_token') ?? '');
  const expected = Buffer.from(csrfToken(uid));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function finishConsent(req, res, details, form) {
  const offered = requestedClaims(details);
  const allowed = new Set(form.getAll('claims'));
  const { accountId } = details.session;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: details.params.client_id });
  const { missingOIDCScope, missingOIDCClaims } = details.prompt.details;
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims.filter((c) => allowed.has(c)));
  // Per-claim consent: whatever the resident unticked is rejected and never released.
  const rejected = offered.filter((claim) => !allowed.has(claim));
  if (rejected.length) grant.rejectOIDCClaims(rejected);
  const grantId = await grant.save();
  const consent = details.grantId ? {} : { grantId };
  await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return page(res, 400, 'Interaction mismatch', '');
  const prompt = details.prompt.name;
  if (req.method === 'GET' && !action) {
    return prompt === 'login' ? loginPage(res, uid) : consentPage(res, uid, details);
  }
  if (req.method !== 'POST') return page(res, 405, 'Method not allowed', '');
  const form = await readForm(req);
  if (!csrfOk(uid, form)) return page(res, 403, 'Invalid form token', '');
  if (action === 'login' && prompt === 'login') {
    const account = authenticate(form.get('email') ?? '', form.get('password') ?? '');
    if (!account) return loginPage(res, uid, 401, 'Unknown e-mail address or wrong password.');
    return provider.interactionFinished(req, res, { login: { accountId: account.id } }, { mergeWithLastSubmission: false });
  }
  if (action === 'consent' && prompt === 'consent') {
    if (form.get('decision') !== 'allow') {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'consent denied' }, { mergeWithLastSubmission: false });
    }
    return finishConsent(req, res, details, form);
  }
  return page(res, 400, 'Unexpected form for this step', '');
}

const providerCallback = provider.callback();
const interactionRoute = /^\/interaction\/([\w-]+)(?:\/(login|consent))?$/;

server.on('request', async (req, res) => {
  const match = interactionRoute.exec(new URL(req.url, issuer).pathname);
  if (!match) return providerCallback(req, res);
  try {
    await interaction(req, res, match[1], match[2]);
  } catch (error) {
    console.error('interaction error', error);
    if (!res.headersSent) page(res, 400, 'Interaction failed', `<p>${escapeHtml(error.message)}</p>`);
  }
});

const shutdown = () => {
  if (store) console.error(`store statements: ${JSON.stringify(store.counts())}`);
  server.close(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

if (config.ready_file) {
  writeFileSync(`${config.ready_file}.tmp`, JSON.stringify({ issuer }));
  renameSync(`${config.ready_file}.tmp`, config.ready_file);
}
console.error(`oidc-provider listening at ${issuer}`);
