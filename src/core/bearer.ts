import { invalidToken } from './errors.js';
import type { Clock, TokenStore } from './ports.js';
import { tokenKey } from './tokens.js';
import type { Principal } from './types.js';

/** RFC 6750 §2.1 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Longer than any token we or django-oauth-toolkit mint; keeps hashing of junk bounded. */
const MAX_TOKEN_LENGTH = 512;

export interface BearerValidator {
  /** Resolves with the principal of a valid access token, or rejects with invalid_token (RFC 6750 §3.1). */
  validate(accessToken: string): Promise<Principal>;
}

export function createBearerValidator(deps: {
  store: Pick<TokenStore, 'findAccessToken'>;
  clock: Clock;
}): BearerValidator {
  return {
    async validate(accessToken) {
      if (accessToken.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(accessToken)) {
        throw invalidToken('The access token is malformed.');
      }
      const record = await deps.store.findAccessToken(tokenKey(accessToken));
      if (!record) throw invalidToken('The access token is invalid.', 'unknown access token');
      if (record.revokedAt !== null) throw invalidToken('The access token has been revoked.', 'revoked');
      if (record.expiresAt <= deps.clock.now()) throw invalidToken('The access token expired.', 'expired');
      // A disabled user's tokens stop working at once (disabling also revokes them; this is the backstop).
      if (!record.userIsActive) throw invalidToken('The access token has been revoked.', 'user disabled');
      return {
        clientId: record.clientId,
        userId: record.userId,
        username: record.username,
        // As the user is now (read with the token): the admin API trusts an admin scope only while this holds.
        userIsAdmin: record.userIsAdmin,
        scope: record.scope,
        grantId: record.grantId,
        issuedAt: record.issuedAt,
        expiresAt: record.expiresAt,
      };
    },
  };
}
