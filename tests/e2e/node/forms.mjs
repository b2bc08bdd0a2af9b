// The browser half of the relying-party harness: a cookie jar, an HTML form reader and the
// loops that walk Kluis's server-rendered login, consent and logout pages over plain HTTP
// (fetch with redirect: "manual"), the way a browser without JavaScript would.
//
// Kluis's form contract: a form#login-form with inputs email, password and hidden csrf_token
// (and return_to); a form#consent-form with one checkbox `claims` per claim, hidden inputs and
// a submit button name="decision" value="allow" (or "deny"). Hidden inputs are copied verbatim.

import { parse } from 'node-html-parser';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const MAX_STEPS = 20;

export class FlowError extends Error {
  constructor(message, details = {}) {
    super(message);
    this.name = 'FlowError';
    Object.assign(this, details);
  }
}

// --- cookies (RFC 6265, the parts a loopback flow needs) ------------------------------------

export class CookieJar {
  #cookies = new Map(); // `${domain};${path};${name}` -> cookie

  store(url, headers) {
    const setCookies = typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : [];
    for (const line of setCookies) this.#storeOne(new URL(url), line);
  }

  #storeOne(url, line) {
    const [pair, ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq < 1) return;
    const cookie = {
      name: pair.slice(0, eq).trim(),
      value: pair.slice(eq + 1).trim(),
      domain: url.hostname,
      hostOnly: true,
      path: defaultPath(url.pathname),
      secure: false,
      expires: Infinity,
    };
    for (const attribute of attributes) {
      const [rawKey, ...rest] = attribute.split('=');
      const key = rawKey.trim().toLowerCase();
      const value = rest.join('=').trim();
      if (key === 'domain' && value) {
        cookie.domain = value.replace(/^\./, '').toLowerCase();
        cookie.hostOnly = false;
      } else if (key === 'path' && value.startsWith('/')) {
        cookie.path = value;
      } else if (key === 'secure') {
        cookie.secure = true;
      } else if (key === 'max-age' && /^-?\d+$/.test(value)) {
        cookie.expires = Date.now() + Number(value) * 1000;
      } else if (key === 'expires' && cookie.expires === Infinity && !Number.isNaN(Date.parse(value))) {
        cookie.expires = Date.parse(value);
      }
    }
    if (!domainMatches(url.hostname, cookie)) return;
    const key = `${cookie.domain};${cookie.path};${cookie.name}`;
    if (cookie.expires <= Date.now()) this.#cookies.delete(key);
    else this.#cookies.set(key, cookie);
  }

  // The Cookie header for a request to `url` (SameSite is not modelled: every step of these
  // flows is a same-site request or a top-level navigation, which Lax cookies accompany).
  header(url) {
    const target = new URL(url);
    // Browsers treat loopback as a secure context, so Secure cookies still flow over http there.
    const secureOk = target.protocol === 'https:' || LOOPBACK.has(target.hostname);
    const now = Date.now();
    return [...this.#cookies.values()]
      .filter((c) => c.expires > now && domainMatches(target.hostname, c) && pathMatches(target.pathname, c.path))
      .filter((c) => secureOk || !c.secure)
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  names() {
    return [...this.#cookies.values()].map((c) => c.name);
  }
}

function defaultPath(pathname) {
  const slash = pathname.lastIndexOf('/');
  return slash > 0 ? pathname.slice(0, slash) : '/';
}

function domainMatches(hostname, cookie) {
  if (cookie.hostOnly) return hostname === cookie.domain;
  return hostname === cookie.domain || hostname.endsWith(`.${cookie.domain}`);
}

function pathMatches(requestPath, cookiePath) {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

// --- HTML forms ---------------------------------------------------------------------------

// Every form on the page with its fields, resolved against the page URL. Controls placed outside
// a form but bound to it with form="id" (as oidc-provider's logout page does) are included.
export function parseForms(html, pageUrl) {
  const root = parse(html);
  return root.querySelectorAll('form').map((form) => {
    const id = form.getAttribute('id') ?? null;
    const owned = (selector) => {
      const inside = form.querySelectorAll(selector).filter((el) => !el.getAttribute('form'));
      const bound = id ? root.querySelectorAll(selector).filter((el) => el.getAttribute('form') === id) : [];
      return [...inside, ...bound];
    };
    const inputs = owned('input').map((el) => ({
      name: el.getAttribute('name') ?? '',
      type: (el.getAttribute('type') ?? 'text').toLowerCase(),
      value: el.getAttribute('value') ?? (el.getAttribute('type') === 'checkbox' ? 'on' : ''),
      checked: el.hasAttribute('checked'),
      disabled: el.hasAttribute('disabled'),
    }));
    const buttons = [
      ...owned('button').map((el) => ({
        name: el.getAttribute('name') ?? '',
        value: el.getAttribute('value') ?? '',
        type: (el.getAttribute('type') ?? 'submit').toLowerCase(),
        text: el.text.trim(),
      })),
      ...inputs.filter((i) => i.type === 'submit').map((i) => ({ ...i, text: i.value })),
    ].filter((b) => b.type === 'submit');
    return {
      id,
      method: (form.getAttribute('method') ?? 'get').toUpperCase(),
      action: new URL(form.getAttribute('action') || pageUrl, pageUrl).href,
      inputs: inputs.filter((i) => i.type !== 'submit'),
      buttons,
    };
  });
}

// Hidden inputs are copied verbatim; disabled controls are never submitted (as in browsers).
export function hiddenFields(form) {
  return form.inputs.filter((i) => i.type === 'hidden' && i.name && !i.disabled).map((i) => [i.name, i.value]);
}

export function loginSubmission(form, { email, password }) {
  const names = new Set(form.inputs.map((i) => i.name));
  for (const required of ['email', 'password', 'csrf_token']) {
    if (!names.has(required)) throw new FlowError(`login form has no input named ${required}`);
  }
  const fields = [...hiddenFields(form), ['email', email], ['password', password]];
  const button = form.buttons.find((b) => b.name);
  if (button) fields.push([button.name, button.value]);
  return { method: form.method, url: form.action, fields };
}

// claimsToAllow: the claim names to tick (others are unticked); null keeps the page's own
// ticks, as a resident who just presses the button would. A disabled, ticked box is a claim the
// resident cannot refuse (Kluis sends it as a hidden input): it is reported as submitted.
export function consentSubmission(form, { claimsToAllow = null, decision = 'allow' } = {}) {
  const boxes = form.inputs.filter((i) => i.type === 'checkbox' && i.name === 'claims');
  const offered = [...new Set(boxes.map((b) => b.value))];
  const choosable = boxes.filter((b) => !b.disabled);
  const ticked = claimsToAllow === null ? choosable.filter((b) => b.checked) : choosable.filter((b) => claimsToAllow.includes(b.value));
  const button = form.buttons.find((b) => b.name === 'decision' && b.value === decision);
  if (!button) throw new FlowError(`consent form has no button decision=${decision}`);
  const fields = [...hiddenFields(form), ...ticked.map((b) => ['claims', b.value]), ['decision', decision]];
  const submitted = [...new Set(fields.filter(([name]) => name === 'claims').map(([, value]) => value))];
  const notOffered = claimsToAllow === null ? [] : claimsToAllow.filter((c) => !offered.includes(c));
  return { method: form.method, url: form.action, fields, consent: { offered, submitted, not_offered: notOffered } };
}

// The confirmation form of a logout page: prefer a form whose id mentions logout, submit it
// with its hidden fields and the button that confirms (a named button whose value says yes).
export function logoutSubmission(forms) {
  const form = forms.find((f) => /log.?out|sign.?out|end.?session/i.test(f.id ?? '')) ?? forms.find((f) => f.method === 'POST') ?? forms[0];
  if (!form) return null;
  const named = form.buttons.filter((b) => b.name);
  const confirm = named.find((b) => /^(yes|true|1|confirm|logout|log.?out|sign.?out|allow|ja|uitloggen|afmelden)$/i.test(b.value)) ?? named[0];
  const fields = hiddenFields(form);
  if (confirm && !fields.some(([name]) => name === confirm.name)) fields.push([confirm.name, confirm.value]);
  return { method: form.method, url: form.action, fields };
}

// --- the browser --------------------------------------------------------------------------

export class Browser {
  constructor({ fetch = globalThis.fetch, jar = new CookieJar(), timeoutMs = 15000 } = {}) {
    this.fetch = fetch;
    this.jar = jar;
    this.timeoutMs = timeoutMs;
  }

  // One HTTP exchange without following redirects; returns status, location and HTML.
  async request({ method = 'GET', url, fields = null }) {
    let target = new URL(url);
    const headers = { accept: 'text/html,application/xhtml+xml', 'accept-language': 'en' };
    let body;
    if (fields && method === 'GET') {
      target = new URL(target);
      target.search = new URLSearchParams(fields).toString();
    } else if (fields) {
      body = new URLSearchParams(fields).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const cookie = this.jar.header(target);
    if (cookie) headers.cookie = cookie;
    const response = await this.fetch(target, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) });
    this.jar.store(target, response.headers);
    const location = response.headers.get('location');
    return {
      status: response.status,
      url: target.href,
      location: location ? new URL(location, target).href : null,
      html: await response.text(),
    };
  }
}

export function sameEndpoint(url, endpoint) {
  const a = new URL(url);
  const b = new URL(endpoint);
  return a.origin === b.origin && a.pathname === b.pathname;
}

export function pageText(html, max = 300) {
  return parse(html).text.replace(/\s+/g, ' ').trim().slice(0, max);
}

function nextRequest(response, previous) {
  // 307/308 repeat the request; 301/302/303 become a GET, as browsers do.
  const keep = response.status === 307 || response.status === 308;
  return keep ? { ...previous, url: response.location } : { method: 'GET', url: response.location };
}

function looksLikeLogin(form) {
  const names = new Set(form.inputs.map((i) => i.name));
  return names.has('email') && names.has('password');
}

function isRedirect(response) {
  return response.status >= 300 && response.status < 400 && response.location;
}

// Walks from the authorization URL through login and consent pages to the redirect_uri and
// returns that URL (with code/state/iss, or error). With interactive=false any page is an
// error: that is how single sign-on is checked.
export async function authorize(browser, authorizationUrl, { redirectUri, email, password, claimsToAllow = null, decision = 'allow', interactive = true }) {
  const pages = [];
  let consent = null;
  let request = { method: 'GET', url: authorizationUrl };
  for (let step = 0; step < MAX_STEPS; step += 1) {
    const response = await browser.request(request);
    if (isRedirect(response)) {
      if (sameEndpoint(response.location, redirectUri)) return { callbackUrl: new URL(response.location), pages, consent };
      request = nextRequest(response, request);
      continue;
    }
    // A re-rendered login page may come with 4xx (wrong password): read forms whatever the status.
    const forms = parseForms(response.html, response.url);
    const login = forms.find((f) => f.id === 'login-form');
    const consentForm = forms.find((f) => f.id === 'consent-form');
    const where = { status: response.status, url: response.url, page: pageText(response.html) };
    if (!interactive && (login || consentForm)) {
      const kind = login ? 'login' : 'consent';
      throw new FlowError(`expected a redirect back, got the ${kind} page`, { ...where, page_kind: kind });
    }
    if (login) {
      if (pages.at(-1) === 'login') throw new FlowError('login was rejected', where);
      pages.push('login');
      request = loginSubmission(login, { email, password });
    } else if (consentForm) {
      if (pages.at(-1) === 'consent') throw new FlowError('consent was not accepted', where);
      pages.push('consent');
      const submission = consentSubmission(consentForm, { claimsToAllow, decision });
      consent = submission.consent;
      request = submission;
    } else if (forms.some(looksLikeLogin)) {
      throw new FlowError('the login form lacks id="login-form" (Kluis\'s form contract)', where);
    } else {
      throw new FlowError(`unexpected HTTP ${response.status} without login or consent form`, where);
    }
  }
  throw new FlowError(`no redirect to ${redirectUri} after ${MAX_STEPS} steps`);
}

// Follows an RP-initiated logout URL to the post_logout_redirect_uri, confirming on the way.
export async function logout(browser, endSessionUrl, { postLogoutRedirectUri }) {
  let confirmed = false;
  let request = { method: 'GET', url: endSessionUrl };
  for (let step = 0; step < MAX_STEPS; step += 1) {
    const response = await browser.request(request);
    if (isRedirect(response)) {
      if (sameEndpoint(response.location, postLogoutRedirectUri)) return { finalUrl: new URL(response.location), confirmed };
      request = nextRequest(response, request);
      continue;
    }
    const where = { status: response.status, url: response.url, page: pageText(response.html) };
    if (response.status !== 200) throw new FlowError(`logout answered HTTP ${response.status}`, where);
    if (confirmed) throw new FlowError('logout stopped at a page instead of the post_logout_redirect_uri', where);
    const submission = logoutSubmission(parseForms(response.html, response.url));
    if (!submission) throw new FlowError('logout stopped at a page without a form', where);
    confirmed = true;
    request = submission;
  }
  throw new FlowError(`no redirect to ${postLogoutRedirectUri} after ${MAX_STEPS} steps`);
}
