import { describe, expect, it } from 'vitest';
import { effectivePolicy, refreshExpiry, type ServerTokenPolicy } from './policy.js';
import { SERVER_POLICY } from './types.js';

const server: ServerTokenPolicy = {
  accessTokenTtlSeconds: 36_000,
  refreshTokenTtlSeconds: null,
  refreshGraceSeconds: 0,
  knownScopes: ['read', 'write'],
  defaultScopes: ['read'],
};

describe('effectivePolicy', () => {
  it("follows the server's settings for a client that sets none, without allocating per call", () => {
    const a = effectivePolicy({ policy: SERVER_POLICY }, server);
    expect(a).toMatchObject({
      accessTokenTtlSeconds: 36_000,
      refreshTokenTtlSeconds: null,
      refreshAbsoluteTtlSeconds: null,
    });
    expect(effectivePolicy({ policy: SERVER_POLICY }, server)).toBe(a);
  });

  it("takes each field the client sets and the server's for the rest", () => {
    const own = { ...SERVER_POLICY, accessTokenTtlSeconds: 600, refreshIdleTtlSeconds: 3600, refreshGraceSeconds: 5 };
    expect(effectivePolicy({ policy: own }, { ...server, refreshAbsoluteTtlSeconds: 86_400 })).toEqual({
      ...server,
      accessTokenTtlSeconds: 600,
      refreshTokenTtlSeconds: 3600,
      refreshAbsoluteTtlSeconds: 86_400,
      refreshGraceSeconds: 5,
    });
    const absolute = { ...SERVER_POLICY, refreshAbsoluteTtlSeconds: 100 };
    expect(effectivePolicy({ policy: absolute }, server).refreshAbsoluteTtlSeconds).toBe(100);
  });
});

describe('refreshExpiry', () => {
  const policy = (idle: number | null, absolute: number | null) => ({
    ...effectivePolicy({ policy: SERVER_POLICY }, server),
    refreshTokenTtlSeconds: idle,
    refreshAbsoluteTtlSeconds: absolute,
  });
  it('is the idle lifetime, capped by the grant absolute lifetime', () => {
    expect(refreshExpiry(policy(null, null), 1000, 500)).toBeNull();
    expect(refreshExpiry(policy(60, null), 1000, 500)).toBe(1060);
    expect(refreshExpiry(policy(null, 700), 1000, 500)).toBe(1200);
    expect(refreshExpiry(policy(600, 700), 1000, 500)).toBe(1200);
    expect(refreshExpiry(policy(60, 700), 1000, 500)).toBe(1060);
  });
});
