import type { AdviseSink } from '../password-sunset.js';
import type { AccessTokenResponse, Client, GrantType, TokenResponse } from '../types.js';

/** What a grant handler gets: an authenticated client and single-valued, non-empty parameters. */
export interface GrantContext {
  client: Client;
  params: ReadonlyMap<string, string>;
  /** The client's IP, for brute-force defence and the audit trail. */
  clientIp: string;
  /** Receives the advisories of this answer (password-grant sunset). */
  advise?: AdviseSink;
}

export interface GrantHandler {
  grantType: GrantType;
  /** client_credentials answers without a refresh token (RFC 6749 §4.4.3). */
  handle(context: GrantContext): Promise<TokenResponse | AccessTokenResponse>;
}
