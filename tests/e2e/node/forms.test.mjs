// Unit tests of the form-driving half of rp.mjs against a tiny fake OP (node:http) that serves
// pages in Kluis's form contract. Run: node --test (from tests/e2e/node).

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { Browser, CookieJar, FlowError, authorize, consentSubmission, logout, parseForms } from './forms.mjs';

const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const POST_LOGOUT_URI = 'http://127.0.0.1:9/bye';
const CLAIMS = ['email', 'name', 'postcode'];

// --- the fake OP --------------------------------------------------------------------------

function fakeOp() {
  const state = { sessions: new Set(), submissions: [] };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const cookies = Object.fromEntries((req.headers.cookie ?? '').split('; ').filter(Boolean).map((c) => c.split('=')));
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    const html = (status, body, headers = {}) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
      res.end(`<!doctype html><html><body>${body}</body></html>`);
    };
    const redirect = (status, location, headers = {}) => {
      res.writeHead(status, { location, ...headers });
      res.end();
    };
    const signedIn = state.sessions.has(cookies.sid);

    if (url.pathname === '/authorize') {
      const back = `${REDIRECT_URI}?code=the-code&state=${url.searchParams.get('state')}&iss=${encodeURIComponent('http://op')}`;
      if (signedIn) return redirect(302, back);
      if (url.searchParams.get('prompt') === 'none') return redirect(302, `${REDIRECT_URI}?error=login_required`);
      // a pre-login cookie scoped to /login, and a relative Location, as real OPs do
      return redirect(302, `/login?return_to=${encodeURIComponent(url.search)}`, { 'set-cookie': 'pre=1; Path=/login; HttpOnly; SameSite=Lax' });
    }
    if (url.pathname === '/login' && req.method === 'GET') {
      return html(200, `<form id="login-form" method="post" action="/login?step=1&amp;lang=en">
        <input type="hidden" name="csrf_token" value="tok&quot;1">
        <input type="hidden" name="return_to" value="/authorize?x=1&amp;y=2">
        <input type="email" name="email"><input type="password" name="password">
        <button type="submit">Log in</button></form>`, { 'set-cookie': 'csrf=tok; Path=/' });
    }
    if (url.pathname === '/login' && req.method === 'POST') {
      state.submissions.push({ page: 'login', query: url.search, cookies, form: [...form] });
      if (cookies.pre !== '1' || cookies.csrf !== 'tok' || form.get('csrf_token') !== 'tok"1') return html(403, 'csrf');
      if (form.get('password') !== 'right') {
        return html(401, '<p>Wrong password</p><form id="login-form" method="post" action="/login"><input type="hidden" name="csrf_token" value="tok&quot;1"><input name="email"><input type="password" name="password"></form>');
      }
      return redirect(303, '/consent', { 'set-cookie': ['sid=s1; Path=/; HttpOnly', 'pre=; Path=/login; Max-Age=0'] });
    }
    if (url.pathname === '/consent' && req.method === 'GET') {
      const boxes = CLAIMS.map((c, i) => `<input type="checkbox" name="claims" value="${c}"${i < 2 ? ' checked' : ''}>`).join('');
      return html(200, `<form id="consent-form" method="post" action="/consent">
        <input type="hidden" name="csrf_token" value="tok"><input type="hidden" name="purpose" value="login">${boxes}
        <button type="submit" name="decision" value="allow">Allow</button>
        <button type="submit" name="decision" value="deny">Deny</button></form>`);
    }
    if (url.pathname === '/consent' && req.method === 'POST') {
      state.submissions.push({ page: 'consent', cookies, form: [...form] });
      if (cookies.sid !== 's1' || cookies.pre) return html(403, 'cookies');
      if (form.get('decision') !== 'allow') return redirect(303, `${REDIRECT_URI}?error=access_denied&state=s`);
      state.sessions.add('s1');
      return redirect(303, `${REDIRECT_URI}?code=the-code&state=s&iss=${encodeURIComponent('http://op')}`);
    }
    if (url.pathname === '/bare-login') {
      return html(200, '<form method="post" action="/login"><input name="csrf_token" type="hidden" value="t"><input name="email"><input name="password" type="password"></form>');
    }
    if (url.pathname === '/logout' && req.method === 'GET') {
      if (url.searchParams.get('confirm') === 'no') return redirect(302, `${POST_LOGOUT_URI}?state=${url.searchParams.get('state')}`);
      // buttons bound to the form from outside it, as oidc-provider's logout page has them
      return html(200, `<form id="op.logoutForm" method="post" action="/logout/confirm"><input type="hidden" name="xsrf" value="x1"></form>
        <button type="submit" form="op.logoutForm" value="yes" name="logout">Yes</button>
        <button type="submit" form="op.logoutForm">No</button>`);
    }
    if (url.pathname === '/logout/confirm' && req.method === 'POST') {
      state.submissions.push({ page: 'logout', cookies, form: [...form] });
      if (form.get('xsrf') !== 'x1' || form.get('logout') !== 'yes') return html(400, 'bad logout');
      state.sessions.delete(cookies.sid);
      return redirect(303, `${POST_LOGOUT_URI}?state=st`, { 'set-cookie': 'sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT' });
    }
    return html(404, 'not found');
  });
  return { server, state };
}

let op;
let base;
before(async () => {
  op = fakeOp();
  await new Promise((resolve) => op.server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${op.server.address().port}`;
});
after(() => op.server.close());

const login = (extra = {}) => ({ redirectUri: REDIRECT_URI, email: 'jan@example.org', password: 'right', ...extra });

// --- tests --------------------------------------------------------------------------------

describe('parseForms', () => {
  test('decodes entities, resolves actions and includes controls bound with form=', () => {
    const [form] = parseForms(`<form id="f" method="post" action="go?a=1&amp;b=2"><input type="hidden" name="h" value="&lt;x&gt;">
      <input type="checkbox" name="claims" value="email" checked><input type="checkbox" name="claims" value="name"></form>
      <button form="f" name="decision" value="allow">ok</button><button name="other">not bound</button>`, 'http://op/consent/page');
    assert.equal(form.action, 'http://op/consent/go?a=1&b=2');
    assert.equal(form.method, 'POST');
    assert.deepEqual(form.inputs.map((i) => [i.name, i.value, i.checked]), [['h', '<x>', false], ['claims', 'email', true], ['claims', 'name', false]]);
    assert.deepEqual(form.buttons.map((b) => [b.name, b.value]), [['decision', 'allow']]);
  });

  test('a form without action submits to the page itself', () => {
    assert.equal(parseForms('<form id="x"></form>', 'http://op/a?b=1')[0].action, 'http://op/a?b=1');
  });
});

describe('consentSubmission', () => {
  // Kluis's markup: an essential claim is a disabled, ticked box plus a hidden input.
  const [form] = parseForms(`<form id="consent-form" method="post" action="/authorize/continue/p1">
    <input type="hidden" name="csrf_token" value="t">
    <input type="checkbox" name="claims" value="email" checked disabled><input type="hidden" name="claims" value="email">
    <input type="checkbox" name="claims" value="name"><input type="checkbox" name="claims" value="postcode">
    <input type="hidden" name="ignored" value="x" disabled>
    <button type="submit" name="decision" value="allow">Allow</button></form>`, 'http://op/authorize/continue/p1');

  test('sends essential claims once, the chosen ones, and no disabled control', () => {
    const out = consentSubmission(form, { claimsToAllow: ['name', 'email'] });
    assert.deepEqual(out.fields, [['csrf_token', 't'], ['claims', 'email'], ['claims', 'name'], ['decision', 'allow']]);
    assert.deepEqual(out.consent, { offered: ['email', 'name', 'postcode'], submitted: ['email', 'name'], not_offered: [] });
  });

  test('keeps the unticked voluntary claims home when nothing is chosen', () => {
    assert.deepEqual(consentSubmission(form).consent.submitted, ['email']);
  });
});

describe('CookieJar', () => {
  const headers = (...lines) => ({ getSetCookie: () => lines });

  test('honours path, host and deletion', () => {
    const jar = new CookieJar();
    jar.store('http://127.0.0.1:8000/login/form', headers('a=1; Path=/login', 'b=2', 'c=3; Path=/'));
    assert.equal(jar.header('http://127.0.0.1:8000/login'), 'a=1; b=2; c=3');
    assert.equal(jar.header('http://127.0.0.1:8000/loginx'), 'c=3');
    assert.equal(jar.header('http://localhost:8000/login'), '');
    jar.store('http://127.0.0.1:8000/', headers('c=; Path=/; Max-Age=0'));
    assert.equal(jar.header('http://127.0.0.1:8000/'), '');
  });

  test('sends Secure cookies over http only to loopback', () => {
    const jar = new CookieJar();
    jar.store('https://op.example/', headers('s=1; Secure; Path=/'));
    assert.equal(jar.header('http://op.example/'), '');
    assert.equal(jar.header('https://op.example/'), 's=1');
    jar.store('http://127.0.0.1/', headers('t=2; Secure; Path=/'));
    assert.equal(jar.header('http://127.0.0.1/'), 't=2');
  });
});

describe('authorize', () => {
  test('walks login and consent with cookies, hidden fields and the chosen claims', async () => {
    const browser = new Browser();
    const out = await authorize(browser, `${base}/authorize?state=s`, login({ claimsToAllow: ['email', 'postcode', 'phone'] }));
    assert.equal(out.callbackUrl.searchParams.get('code'), 'the-code');
    assert.deepEqual(out.pages, ['login', 'consent']);
    assert.deepEqual(out.consent, { offered: CLAIMS, submitted: ['email', 'postcode'], not_offered: ['phone'] });
    const [loginPost, consentPost] = op.state.submissions.slice(-2);
    assert.equal(loginPost.query, '?step=1&lang=en');
    assert.deepEqual(loginPost.form, [['csrf_token', 'tok"1'], ['return_to', '/authorize?x=1&y=2'], ['email', 'jan@example.org'], ['password', 'right']]);
    assert.deepEqual(consentPost.form, [['csrf_token', 'tok'], ['purpose', 'login'], ['claims', 'email'], ['claims', 'postcode'], ['decision', 'allow']]);

    // single sign-on: the session cookie brings the code back without any page
    const sso = await authorize(browser, `${base}/authorize?state=again`, login({ interactive: false }));
    assert.equal(sso.callbackUrl.searchParams.get('state'), 'again');
    assert.deepEqual(sso.pages, []);
  });

  test('keeps the ticks of the page when no claims are chosen', async () => {
    const out = await authorize(new Browser(), `${base}/authorize?state=s`, login());
    assert.deepEqual(out.consent.submitted, ['email', 'name']);
  });

  test('reports a rejected login with the page text', async () => {
    await assert.rejects(authorize(new Browser(), `${base}/authorize?state=s`, login({ password: 'wrong' })), (error) => {
      assert.ok(error instanceof FlowError);
      assert.equal(error.message, 'login was rejected');
      assert.equal(error.status, 401);
      assert.match(error.page, /Wrong password/);
      return true;
    });
  });

  test('a denied consent comes back as an error at the redirect_uri', async () => {
    const out = await authorize(new Browser(), `${base}/authorize?state=s`, login({ decision: 'deny' }));
    assert.equal(out.callbackUrl.searchParams.get('error'), 'access_denied');
  });

  test('without interaction a login page is an error naming the page', async () => {
    await assert.rejects(authorize(new Browser(), `${base}/authorize?state=s`, login({ interactive: false })), { page_kind: 'login' });
  });

  test('a login form without its id is named as a contract breach', async () => {
    await assert.rejects(authorize(new Browser(), `${base}/bare-login`, login()), /lacks id="login-form"/);
  });

  test('an unexpected page is an error with status and url', async () => {
    await assert.rejects(authorize(new Browser(), `${base}/nowhere`, login()), { status: 404, url: `${base}/nowhere` });
  });
});

describe('logout', () => {
  test('confirms with the bound button and ends at the post-logout URI', async () => {
    const browser = new Browser();
    await authorize(browser, `${base}/authorize?state=s`, login());
    const out = await logout(browser, `${base}/logout?state=st`, { postLogoutRedirectUri: POST_LOGOUT_URI });
    assert.equal(out.confirmed, true);
    assert.equal(out.finalUrl.href, `${POST_LOGOUT_URI}?state=st`);
    assert.deepEqual(op.state.submissions.at(-1).form, [['xsrf', 'x1'], ['logout', 'yes']]);
    // the session cookie was expired by the OP, so prompt=none finds no session
    const probe = await authorize(browser, `${base}/authorize?state=p&prompt=none`, login({ interactive: false }));
    assert.equal(probe.callbackUrl.searchParams.get('error'), 'login_required');
  });

  test('follows a logout that needs no confirmation', async () => {
    const out = await logout(new Browser(), `${base}/logout?confirm=no&state=q`, { postLogoutRedirectUri: POST_LOGOUT_URI });
    assert.equal(out.confirmed, false);
    assert.equal(out.finalUrl.searchParams.get('state'), 'q');
  });
});
