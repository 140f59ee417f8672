/** The protocol settings the core needs, validated by config/ before they get here. */
export interface TokenPolicy {
  /** Lifetime of access tokens in seconds (`expires_in`, RFC 6749 §5.1). */
  accessTokenTtlSeconds: number;
  /** Lifetime of refresh tokens in seconds; null: they do not expire by time (the spec: "last forever"). */
  refreshTokenTtlSeconds: number | null;
  /** Every scope the server knows, in canonical order. */
  knownScopes: readonly string[];
  /** Granted when a request names no scope (RFC 6749 §3.3), within what the client may have. */
  defaultScopes: readonly string[];
}
