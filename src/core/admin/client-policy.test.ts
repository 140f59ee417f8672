import { describe, expect, it } from 'vitest';
import { SERVER_POLICY } from '../types.js';
import { checkPolicyInput, policyAuditFields, sunsetDay } from './client-policy.js';
import { AdminError } from './validation.js';

const NOW = 1_800_000_000;

describe('checkPolicyInput', () => {
  it('parses lifetimes, networks, the rate limit and the sunset', () => {
    const changes = checkPolicyInput(
      {
        accessTokenTtl: '600',
        refreshTokenTtl: '7776000',
        refreshIdleTtl: 'default',
        refreshGrace: '0',
        allowedNetworks: '192.0.2.7/24, 2001:DB8::/32',
        rateLimit: '120',
        passwordGrantSunset: '2027-06-30',
      },
      null,
      NOW,
    );
    expect(changes).toEqual({
      accessTokenTtlSeconds: 600,
      refreshAbsoluteTtlSeconds: 7_776_000,
      refreshIdleTtlSeconds: null,
      refreshGraceSeconds: 0,
      allowedNetworks: ['192.0.2.0/24', '2001:db8::/32'],
      rateLimitPerMinute: 120,
      passwordGrantSunset: { at: Date.UTC(2027, 5, 30) / 1000, announcedAt: NOW, revokeGrants: false },
    });
    expect(policyAuditFields(changes)).toMatchObject({ allowed_networks: '192.0.2.0/24,2001:db8::/32' });
  });

  it('clears with any and none, and keeps the announcement of an unchanged date', () => {
    const sunset = { at: sunsetDay('2027-06-30'), announcedAt: NOW - 50, revokeGrants: false };
    const current = { ...SERVER_POLICY, passwordGrantSunset: sunset };
    expect(checkPolicyInput({ allowedNetworks: 'any', passwordGrantSunset: 'none' }, current, NOW)).toEqual({
      allowedNetworks: null,
      passwordGrantSunset: null,
    });
    expect(checkPolicyInput({ passwordGrantSunset: '2027-06-30', revokePasswordGrants: true }, current, NOW)).toEqual({
      passwordGrantSunset: { ...sunset, revokeGrants: true },
    });
  });

  it('keeps --revoke-password-grants when the date moves, and announces the new date now', () => {
    const sunset = { at: sunsetDay('2027-06-30'), announcedAt: NOW - 50, revokeGrants: true };
    const current = { ...SERVER_POLICY, passwordGrantSunset: sunset };
    expect(checkPolicyInput({ passwordGrantSunset: '2027-09-30' }, current, NOW)).toEqual({
      passwordGrantSunset: { at: sunsetDay('2027-09-30'), announcedAt: NOW, revokeGrants: true },
    });
  });

  it.each([
    [{ accessTokenTtl: '0' }, '--access-token-ttl'],
    [{ accessTokenTtl: '86401' }, '--access-token-ttl'],
    [{ refreshIdleTtl: '1.5' }, '--refresh-idle-ttl'],
    [{ refreshTokenTtl: '-1' }, '--refresh-token-ttl'],
    [{ refreshGrace: '61' }, '--refresh-grace'],
    [{ rateLimit: 'lots' }, '--rate-limit'],
    [{ allowedNetworks: '10.0.0.0/33' }, '--allowed-networks'],
    [{ passwordGrantSunset: '2027-02-30' }, '--password-grant-sunset'],
    [{ passwordGrantSunset: '30/06/2027' }, '--password-grant-sunset'],
    [{ revokePasswordGrants: true }, '--revoke-password-grants'],
  ])('refuses %j with one line naming %s', (input, flag) => {
    let error: unknown;
    try {
      checkPolicyInput(input, SERVER_POLICY, NOW);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AdminError);
    expect((error as Error).message).toContain(flag);
    expect((error as Error).message).not.toContain('\n');
  });

  it('takes leap days and past dates', () => {
    expect(sunsetDay('2028-02-29')).toBe(Date.UTC(2028, 1, 29) / 1000);
    expect(sunsetDay('2020-01-01')).toBe(Date.UTC(2020, 0, 1) / 1000);
  });
});
