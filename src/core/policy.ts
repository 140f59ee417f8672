/** The protocol settings the core needs, validated by config/ before they get here. */
export interface TokenPolicy {
  /** Lifetime of access tokens in seconds (`expires_in`, RFC 6749 §5.1). */
  accessTokenTtlSeconds: number;
  /** Lifetime of refresh tokens in seconds; null: they do not expire by time (the spec: "last forever"). */
  refreshTokenTtlSeconds: number | null;
  /** Every scope the server knows, in canonical order. */
  knownScopes: readonly string[];
  /**
   * Seconds after a refresh during which presenting the same refresh token again returns the same new
   * pair (a client whose response was lost retries), as long as that pair's refresh token is unused.
   * 0: off, every second use is reuse.
   */
  refreshGraceSeconds: number;
  /** Granted when a request names no scope (RFC 6749 §3.3), within what the client may have. */
  defaultScopes: readonly string[];
}
