import { MAX_REDIRECT_URIS, redirectUriProblem } from '../../core/admin/redirect-uris.js';
import type { ClientPolicy, GrantType } from '../../core/types.js';
import type { DjangoApplication } from './source.js';

/** A DOT redirect URI oauthd does not register, and why. */
export interface SkippedRedirectUri {
  clientId: string;
  uri: string;
  reason: string;
}

/** What an authorization-code application becomes: its grant types and policy, and the URIs left behind. */
export interface CodeFlowShape {
  grantTypes: GrantType[];
  policy: Partial<ClientPolicy>;
  skippedUris: SkippedRedirectUri[];
  /** False when no redirect URI passed: the code flow stays off (its live tokens still refresh). */
  codeFlow: boolean;
}

/**
 * A DOT `authorization-code` application keeps its flow: the authorization_code and refresh_token grants,
 * the redirect URIs that pass the checks `oauthd client` applies (RFC 6749 §3.1.2, RFC 8252, RFC 9700 §4.1),
 * skip_authorization as skip-consent (confidential apps only), and PKCE left at the default, S256 required
 * (RFC 9700 §2.1.1). Without any URI left the code flow cannot work, so the client gets refresh_token alone.
 */
export function codeFlowShape(app: DjangoApplication): CodeFlowShape {
  const kept: string[] = [];
  const skippedUris: SkippedRedirectUri[] = [];
  for (const uri of new Set(app.redirectUris)) {
    const problem = kept.length >= MAX_REDIRECT_URIS ? `more than ${MAX_REDIRECT_URIS}` : redirectUriProblem(uri);
    if (problem === null) kept.push(uri);
    else skippedUris.push({ clientId: app.clientId, uri, reason: problem });
  }
  const codeFlow = kept.length > 0;
  return {
    grantTypes: codeFlow ? ['authorization_code', 'refresh_token'] : ['refresh_token'],
    // A public app is always asked (RFC 8252 §8.6), whatever DOT's skip_authorization said.
    policy: {
      redirectUris: codeFlow ? kept : null,
      skipConsent: app.skipAuthorization && app.clientType !== 'public' ? true : null,
    },
    skippedUris,
    codeFlow,
  };
}
