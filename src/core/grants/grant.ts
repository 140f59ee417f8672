import type { EventSink, PasswordHasher, Store, Clock } from '../ports.js';
import type { TokenPolicy } from '../policy.js';
import type { Client, GrantType, TokenResponse } from '../types.js';

export interface GrantDeps {
  store: Store;
  clock: Clock;
  passwordHasher: PasswordHasher;
  events: EventSink;
  policy: TokenPolicy;
}

/** What a grant handler gets: an authenticated client and single-valued, non-empty parameters. */
export interface GrantContext {
  client: Client;
  params: ReadonlyMap<string, string>;
}

export interface GrantHandler {
  grantType: GrantType;
  handle(context: GrantContext): Promise<TokenResponse>;
}
