import { OAuthError } from '../errors.js';
import { singleValued, type ParamPairs } from '../params.js';
import type { ClientStore } from '../ports.js';
import type { TokenPolicy } from '../policy.js';
import { grantableScope } from '../scope.js';
import type { AuthorizationRequestCheck } from './api.js';
import { checkChallenge } from './pkce.js';
import { chooseRedirectUri, redirectTo } from './redirect-uri.js';

export interface AuthorizationCheckDeps {
  store: Pick<ClientStore, 'findClient'>;
  policy: Pick<TokenPolicy, 'knownScopes' | 'defaultScopes'>;
}

/** Longer client ids and redirect URIs are no one's: refused before the store is asked. */
const MAX_LOOKUP_LENGTH = 2048;
/** RFC 6749 Appendix A.5: state is VSCHAR (%x20-7E). */
const STATE = /^[\x20-\x7E]{1,4096}$/;

const show = (error: string, description: string): AuthorizationRequestCheck => ({
  ok: false,
  show: { error, description },
});

/** The values sent for `name`, an empty one counting as omitted (RFC 6749 §3.1), and how often it was sent. */
function sent(query: ParamPairs, name: string): { value: string | undefined; count: number } {
  const values = query.filter(([n]) => n === name).map(([, v]) => v);
  return { value: values[0] === '' ? undefined : values[0], count: values.length };
}

const lookupable = (value: string): boolean => value.length <= MAX_LOOKUP_LENGTH && !value.includes('\u0000');

/**
 * An authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3), checked in two stages.
 *
 * First the client and the redirect URI (RFC 6749 §4.1.2.1): while either is missing, repeated, unknown or not
 * registered, the error is shown to the person and never redirected, so the endpoint cannot be made an open
 * redirector. Then everything else is answered by redirecting to the known-good URI with `error`,
 * `error_description`, `state` and `iss` (RFC 9207 §2).
 */
export async function checkAuthorizationRequest(
  deps: AuthorizationCheckDeps,
  query: ParamPairs,
  issuer: string,
): Promise<AuthorizationRequestCheck> {
  const clientId = sent(query, 'client_id');
  const redirect = sent(query, 'redirect_uri');
  // RFC 6749 §3.1: parameters MUST NOT be repeated; these two decide where errors go, so they are shown.
  if (clientId.count > 1) return show('invalid_request', 'Duplicate client_id parameter.');
  if (redirect.count > 1) return show('invalid_request', 'Duplicate redirect_uri parameter.');
  if (clientId.value === undefined) return show('invalid_request', 'Missing client_id parameter.');
  const client = lookupable(clientId.value) ? await deps.store.findClient(clientId.value) : null;
  if (!client) return show('invalid_client', 'Unknown client.');
  if (redirect.value !== undefined && !lookupable(redirect.value)) {
    return show('invalid_request', 'The redirect_uri is not registered for this client.');
  }
  // The console's built-in client is matched exactly: no loopback port freedom (RFC 8252 §7.3) for it.
  const chosen = chooseRedirectUri(client.policy.redirectUris, redirect.value, { exact: client.builtIn === true });
  if (!chosen.ok) return show('invalid_request', chosen.description);
  const { redirectUri } = chosen;

  // State is echoed only when it was sent once and is well formed (RFC 6749 §4.1.2.1: "if present").
  const stateSent = sent(query, 'state');
  const state =
    stateSent.count === 1 && stateSent.value !== undefined && STATE.test(stateSent.value) ? stateSent.value : null;
  const fail = (error: string, description: string): AuthorizationRequestCheck => ({
    ok: false,
    redirect: redirectTo(redirectUri, [
      ['error', error],
      ['error_description', description],
      ['state', state],
      ['iss', issuer],
    ]),
  });
  try {
    // RFC 6749 §3.1: any other repeated parameter → invalid_request (so are too many or oversized ones).
    const params = singleValued(query);
    if (params.has('state') && state === null) return fail('invalid_request', 'The state parameter is malformed.');
    // RFC 6749 §4.1.1: response_type REQUIRED, "code"; §4.1.2.1 unsupported_response_type for any other.
    const responseType = params.get('response_type');
    if (responseType === undefined) return fail('invalid_request', 'Missing response_type parameter.');
    if (responseType !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported.');
    // RFC 6749 §4.1.2.1 unauthorized_client: a known client that may not use this grant.
    if (!client.grantTypes.includes('authorization_code')) {
      return fail('unauthorized_client', 'The client is not authorized to request an authorization code.');
    }
    const pkce = checkChallenge(client, params.get('code_challenge'), params.get('code_challenge_method'));
    if (!pkce.ok) return fail('invalid_request', pkce.description);
    // RFC 6749 §3.3 and §4.1.2.1 invalid_scope, as the other grants decide it.
    const scope = grantableScope(
      params.get('scope'),
      client.scopes,
      deps.policy.knownScopes,
      client.defaultScopes ?? deps.policy.defaultScopes,
    );
    return {
      ok: true,
      request: {
        client,
        redirectUri,
        scope,
        state,
        codeChallenge: pkce.codeChallenge,
        codeChallengeMethod: pkce.codeChallengeMethod,
      },
    };
  } catch (error) {
    if (error instanceof OAuthError) return fail(error.code, error.description);
    throw error;
  }
}
