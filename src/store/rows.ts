import { isGrantType, type GrantType } from '../core/types.js';

/** Lists (scopes, grant types) are stored space-separated, as they travel on the wire (RFC 6749 §3.3). */
export const joinList = (list: readonly string[]): string => list.join(' ');

export const splitList = (value: string): string[] => value.split(' ').filter((s) => s !== '');

/** Grant types this version does not know (written by a newer one) are dropped, never trusted. */
export const splitGrantTypes = (value: string): GrantType[] => splitList(value).filter(isGrantType);
