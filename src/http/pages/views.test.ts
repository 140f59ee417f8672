import { describe, expect, it } from 'vitest';
import type { Branding } from './layout.js';
import { STYLESHEET } from './stylesheet.js';
import { consentPage, errorPage, loginPage, logoutPage, signedOutPage } from './views.js';

const branding: Branding = {
  productName: 'Payouts <Inc>',
  logoUrl: '/o/static/logo?v=abc',
  stylesheetUrl: '/o/static/oauthd.css?v=def',
};
const HOSTILE = '<script>alert(1)</script>"';

const forms = (page: string) => [...page.matchAll(/<form\b[\s\S]*?<\/form>/g)].map((m) => m[0]);

describe('the layout', () => {
  const page = signedOutPage(branding).text;

  it('is a complete, English, mobile-ready document with one stylesheet and no script', () => {
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page).toContain('<title>Signed out – Payouts &lt;Inc&gt;</title>');
    expect(page).toContain('<link rel="stylesheet" href="/o/static/oauthd.css?v=def">');
    expect(page).not.toMatch(/<script|\son[a-z]+=|style=/i);
  });

  it('shows the product name, and the logo with a text alternative', () => {
    expect(page).toContain('<img src="/o/static/logo?v=abc" alt="Payouts &lt;Inc&gt;">');
    expect(page).toContain('<span class="product">Payouts &lt;Inc&gt;</span>');
    expect(signedOutPage({ ...branding, logoUrl: null }).text).not.toContain('<img');
  });
});

describe('the login page', () => {
  const page = loginPage(branding, { clientName: HOSTILE, action: '/o/authorize/?a=1&b=2', csrfToken: 'tok' }).text;

  it('names the client, escaped', () => {
    expect(page).toContain('Sign in to continue to <strong>&lt;script&gt;alert(1)&lt;/script&gt;&quot;</strong>');
    expect(page).not.toContain('<script>');
  });

  it('has one form posting to its own URL with username, password, csrf_token and "Sign in"', () => {
    const [form, ...others] = forms(page);
    expect(others).toEqual([]);
    expect(form).toContain('<form method="post" action="/o/authorize/?a=1&amp;b=2">');
    expect(form).toContain('<input type="hidden" name="step" value="login">');
    expect(form).toContain('<input type="hidden" name="csrf_token" value="tok">');
    expect(form).toContain('<label for="username">Username</label>');
    expect(form).toMatch(/<input type="text" id="username" name="username" autocomplete="username"/);
    expect(form).toContain('<label for="password">Password</label>');
    expect(form).toContain('<input type="password" id="password" name="password" autocomplete="current-password"');
    expect(form).toContain('<button type="submit">Sign in</button>');
  });

  it('shows a failure message and the username again, never a password', () => {
    const again = loginPage(branding, {
      clientName: 'App',
      action: '/o/authorize/',
      csrfToken: 'tok',
      username: HOSTILE,
      message: 'Wrong username or password.',
    }).text;
    expect(again).toContain('<p class="error" role="alert">Wrong username or password.</p>');
    expect(again).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;&quot;"');
    expect(again).not.toMatch(/name="password"[^>]*value=/);
  });

  it("says the password is asked at each sign-in for a client that wants it (the console's), only then", () => {
    const notice = 'It asks for your password at each sign-in, even when this browser is already signed in.';
    const view = { clientName: 'oauthd console', action: '/o/authorize/', csrfToken: 'tok' };
    expect(loginPage(branding, { ...view, freshSignIn: true }).text).toContain(`<p>${notice}</p>`);
    expect(loginPage(branding, view).text).not.toContain(notice);
    expect(page).not.toContain(notice);
  });
});

describe('the consent page', () => {
  const page = consentPage(branding, {
    clientName: 'Payout app',
    username: 'alice',
    scopes: ['See your payouts', HOSTILE],
    action: '/o/authorize/?client_id=x',
    logoutAction: '/o/logout/',
    csrfToken: 'tok',
  }).text;

  it('has the decision form first: step, csrf_token and the Allow and Deny buttons', () => {
    const [decision, signOut, ...others] = forms(page);
    expect(others).toEqual([]);
    expect(decision).toContain('action="/o/authorize/?client_id=x"');
    expect(decision).toContain('<input type="hidden" name="step" value="consent">');
    expect(decision).toContain('<input type="hidden" name="csrf_token" value="tok">');
    expect(decision).toContain('<button type="submit" name="decision" value="allow">Allow</button>');
    expect(decision).toMatch(/<button type="submit" name="decision" value="deny"[^>]*>Deny<\/button>/);
    expect(signOut).toContain('action="/o/logout/"');
    expect(signOut).toContain('Not you?');
    expect(signOut).toContain('<input type="hidden" name="csrf_token" value="tok">');
  });

  it('names the client, the user and each scope in words, escaped', () => {
    expect(page).toContain('<strong>Payout app</strong>');
    expect(page).toContain('<strong>alice</strong>');
    expect(page).toContain('<li>See your payouts</li><li>&lt;script&gt;alert(1)&lt;/script&gt;&quot;</li>');
  });
});

describe('the error, sign-out and signed-out pages', () => {
  it('shows the words and the escaped code, nothing else', () => {
    const page = errorPage(branding, { title: 'Unknown application', message: 'Not registered.', code: HOSTILE }).text;
    expect(page).toContain('<h1>Unknown application</h1>');
    expect(page).toContain('<code>&lt;script&gt;alert(1)&lt;/script&gt;&quot;</code>');
    expect(forms(page)).toEqual([]);
    const detailed = errorPage(branding, { title: 'T', message: 'M', detail: 'Unknown <client>.' }).text;
    expect(detailed).toContain('<p class="muted">Unknown &lt;client&gt;.</p>');
  });

  it('offers a "Sign out" form with its CSRF token', () => {
    const page = logoutPage(branding, { action: '/o/logout/', csrfToken: 'tok', username: 'bob' }).text;
    const [form] = forms(page);
    expect(form).toContain('<form method="post" action="/o/logout/"');
    expect(form).toContain('<input type="hidden" name="csrf_token" value="tok">');
    expect(form).toContain('>Sign out</button>');
    expect(page).toContain('<strong>bob</strong>');
  });

  it('says "You are signed out"', () => {
    expect(signedOutPage(branding).text).toContain('<h1>You are signed out</h1>');
  });
});

describe('the stylesheet', () => {
  it('has a dark scheme, a visible focus and no remote resource', () => {
    expect(STYLESHEET).toContain('@media (prefers-color-scheme:dark)');
    expect(STYLESHEET).toContain(':focus-visible{outline:3px solid');
    expect(STYLESHEET).not.toMatch(/url\(|@import/);
  });
});
