import { StoreUnavailableError, type Store, type StoreAdvice, type StoreMethod } from '../core/ports.js';

/**
 * Every method of the Store, once. `satisfies` makes the compiler reject this list when a method is added
 * to a port and not here (or named here and not in a port), so a decorator cannot silently skip one.
 */
const STORE_METHODS = {
  issueTokens: true,
  findAccessToken: true,
  findRefreshToken: true,
  rotateRefreshToken: true,
  revokeGrant: true,
  createClient: true,
  findClient: true,
  listClients: true,
  deleteClient: true,
  setClientSecret: true,
  updateClient: true,
  revokeClientGrants: true,
  countLiveClientGrants: true,
  recordClientUsage: true,
  listClientUsage: true,
  createUser: true,
  findUserByUsername: true,
  listUsers: true,
  updateUser: true,
  setUserPassword: true,
  replacePasswordHash: true,
  setUserActive: true,
  renameUser: true,
  deleteUser: true,
  listUserGrants: true,
  revokeUserGrants: true,
  recordLockouts: true,
  listActiveLockouts: true,
  clearLockouts: true,
  lockoutsClearedSince: true,
  recordAuditEvents: true,
  queryAuditEvents: true,
  auditActivity: true,
  createAuthorizationCode: true,
  findAuthorizationCode: true,
  redeemAuthorizationCode: true,
  createDeviceCode: true,
  findPendingDeviceCode: true,
  decideDeviceCode: true,
  pollDeviceCode: true,
  redeemDeviceCode: true,
  createBrowserSession: true,
  findBrowserSession: true,
  endBrowserSession: true,
  listUserBrowserSessions: true,
  endUserBrowserSessions: true,
  findConsent: true,
  recordConsent: true,
  listUserConsents: true,
  revokeUserConsents: true,
  migrate: true,
  close: true,
  ping: true,
  counts: true,
  deleteExpired: true,
  eraseSealedSuccessors: true,
} as const satisfies Record<keyof Store, true>;

export const storeMethods = Object.keys(STORE_METHODS) as StoreMethod[];

/** Methods laid over the advised store, given that store to call (the client cache). */
export type StoreOverrides = (inner: Store) => Partial<Store>;

/**
 * The one store decorator: wraps every method with `advice` (metrics, the fault guard), then lays
 * `overrides` over it (the client cache's own findClient and cache-dropping writes, which call the
 * decorated store they are given). The wrapping is the only untyped step, written once here.
 */
export function decorateStore(store: Store, advice: StoreAdvice | null, overrides?: StoreOverrides | null): Store {
  let wrapped: Store = store;
  if (advice) {
    const methods: Partial<Record<StoreMethod, unknown>> = {};
    for (const name of storeMethods) {
      const method = store[name] as (...args: unknown[]) => Promise<unknown>;
      methods[name] = (...args: unknown[]) => advice(name, () => method.apply(store, args));
    }
    wrapped = methods as Store;
  }
  return overrides ? { ...wrapped, ...overrides(wrapped) } : wrapped;
}

/**
 * The Store contract's fault guard: an infrastructure failure of any method (judged by `describe`, which
 * returns the one-line message to report, or null for any other error) becomes StoreUnavailableError.
 */
export function guardStore(store: Store, describe: (error: unknown) => string | null): Store {
  return decorateStore(store, async (_method, call) => {
    try {
      return await call();
    } catch (error) {
      const message = describe(error);
      if (message === null) throw error;
      throw new StoreUnavailableError(message, { cause: error });
    }
  });
}
