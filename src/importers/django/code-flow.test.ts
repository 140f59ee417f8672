import { describe, expect, it } from 'vitest';
import { codeFlowShape } from './code-flow.js';
import type { DjangoApplication } from './source.js';

const app = (
  redirectUris: string[],
  skipAuthorization = false,
  clientType: DjangoApplication['clientType'] = 'confidential',
): DjangoApplication => ({
  id: '5',
  clientId: 'web',
  name: 'web',
  clientSecret: 'secret',
  hashClientSecret: null,
  clientType,
  authorizationGrantType: 'authorization-code',
  redirectUris,
  skipAuthorization,
  created: null,
});

describe('codeFlowShape', () => {
  it('keeps the code flow with the URIs that pass, and skip_authorization as skip-consent', () => {
    expect(codeFlowShape(app(['https://a.example/cb', 'http://127.0.0.1:8765/cb'], true))).toEqual({
      grantTypes: ['authorization_code', 'refresh_token'],
      policy: { redirectUris: ['https://a.example/cb', 'http://127.0.0.1:8765/cb'], skipConsent: true },
      skippedUris: [],
      codeFlow: true,
    });
  });

  it('does not let a public app skip consent, whatever skip_authorization said (RFC 8252 §8.6)', () => {
    const shape = codeFlowShape(app(['http://127.0.0.1:8765/cb'], true, 'public'));
    expect(shape.policy).toEqual({ redirectUris: ['http://127.0.0.1:8765/cb'], skipConsent: null });
  });

  it('leaves out each URI that fails, with why, and drops the code flow when none passes', () => {
    const shape = codeFlowShape(app(['http://a.example/cb', 'https://a.example/cb#x']));
    expect(shape.grantTypes).toEqual(['refresh_token']);
    expect(shape.codeFlow).toBe(false);
    expect(shape.policy).toEqual({ redirectUris: null, skipConsent: null });
    expect(shape.skippedUris.map((s) => [s.clientId, s.uri])).toEqual([
      ['web', 'http://a.example/cb'],
      ['web', 'https://a.example/cb#x'],
    ]);
    expect(shape.skippedUris[0]!.reason).toMatch(/loopback/);
    expect(shape.skippedUris[1]!.reason).toMatch(/fragment/);
  });

  it('keeps the first 20 distinct URIs and skips the rest', () => {
    const uris = Array.from({ length: 22 }, (_, i) => `https://a.example/cb${i}`);
    const shape = codeFlowShape(app([...uris, uris[0]!]));
    expect(shape.policy.redirectUris).toEqual(uris.slice(0, 20));
    expect(shape.skippedUris.map((s) => [s.uri, s.reason])).toEqual([
      [uris[20], 'more than 20'],
      [uris[21], 'more than 20'],
    ]);
  });
});
