import { describe, expect, it } from 'vitest';
import { deviceApprovalPage, deviceDonePage, deviceNotPendingPage, userCodePage } from './device-views.js';
import type { Branding } from './layout.js';
import { loginPage } from './views.js';

const branding: Branding = { productName: 'Payouts', logoUrl: null, stylesheetUrl: '/o/static/oauthd.css?v=1' };
const HOSTILE = '<script>alert(1)</script>"';
const signedIn = { username: HOSTILE, csrfToken: 'tok', logoutAction: '/o/logout/' };
const forms = (page: string) => [...page.matchAll(/<form\b[\s\S]*?<\/form>/g)].map((m) => m[0]);

describe('the device login page', () => {
  it('names no client: the client is known only once the code is entered', () => {
    const page = loginPage(branding, { clientName: null, action: '/o/device/?user_code=A', csrfToken: 't' }).text;
    expect(page).toContain('<p>Sign in to connect a device to your account.</p>');
    expect(page).not.toContain('continue to');
    expect(forms(page)[0]).toContain('action="/o/device/?user_code=A"');
  });
});

describe('the code-entry page', () => {
  const view = { ...signedIn, action: '/o/device/', userCode: HOSTILE, fromLink: false };

  it('has the code form first, with its one field, then the sign-out form', () => {
    const page = userCodePage(branding, view).text;
    const [entry, signOut, ...others] = forms(page);
    expect(others).toEqual([]);
    expect(entry).toContain('<input type="hidden" name="step" value="code">');
    expect(entry).toContain('<input type="hidden" name="csrf_token" value="tok">');
    expect(entry).toContain('<label for="user_code">Code</label>');
    expect(entry).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;&quot;"');
    expect(entry).toContain('<button type="submit">Continue</button>');
    expect(signOut).toContain('action="/o/logout/"');
    expect(page).not.toContain('<script>');
  });

  it('asks to compare a code that came in the link (RFC 8628 §5.4), and shows a failure', () => {
    expect(userCodePage(branding, view).text).toContain('Enter the code shown on your device.');
    const linked = userCodePage(branding, { ...view, fromLink: true, message: 'Nope.' }).text;
    expect(linked).toContain('Check that this code matches the one on your device.');
    expect(linked).toContain('<p class="error" role="alert">Nope.</p>');
  });
});

describe('the approval page', () => {
  const page = deviceApprovalPage(branding, {
    ...signedIn,
    clientName: HOSTILE,
    scopes: ['See your payouts', 'write'],
    userCode: 'WDJB-MJHT',
    action: '/o/device/',
  }).text;

  it('names the client and the scopes, escaped, and the code to compare', () => {
    expect(page).toContain('Allow <strong>&lt;script&gt;alert(1)&lt;/script&gt;&quot;</strong> to use your account?');
    expect(page).toContain('<li>See your payouts</li><li>write</li>');
    expect(page).toContain('Check that this code matches the one on your device: <strong class="code">WDJB-MJHT');
  });

  it('has one decision form, first, carrying the user code; then the sign-out form', () => {
    const [decision, signOut, ...others] = forms(page);
    expect(others).toEqual([]);
    expect(decision).toContain('<input type="hidden" name="step" value="decision">');
    expect(decision).toContain('<input type="hidden" name="user_code" value="WDJB-MJHT">');
    expect(decision).toContain('<button type="submit" name="decision" value="allow">Allow</button>');
    expect(decision).toContain('name="decision" value="deny"');
    expect(signOut).toContain('action="/o/logout/"');
  });
});

describe('the end pages', () => {
  it('tells the person what happened', () => {
    expect(deviceDonePage(branding, true).text).toContain('You may return to your device.');
    expect(deviceDonePage(branding, false).text).toContain('Access denied.');
    expect(deviceNotPendingPage(branding).text).toContain('This code is no longer pending');
    for (const page of [deviceDonePage(branding, true), deviceNotPendingPage(branding)]) {
      expect(forms(page.text)).toEqual([]);
    }
  });
});
