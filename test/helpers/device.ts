/**
 * The device authorization grant (RFC 8628) over real HTTP, for the device tests: clients allowed the grant,
 * the device authorization request, the device's polls of the token endpoint, and the person's side through
 * the real pages (sign-in, code entry, approval).
 */
import { expect } from 'vitest';
import { DEVICE_CODE_GRANT } from '../../src/core/types.js';
import { actionUrl, signInThrough } from './authorize.js';
import { Browser, formsOf, type PageResponse } from './browser.js';
import { basic, postToken, type TestServer } from './server.js';

export interface DeviceClient {
  clientId: string;
  /** Null for a public client: it sends client_id alone. */
  clientSecret: string | null;
}

/** A client for the device grant, created as `oauthd client create --grant-types …` would. */
export async function createDeviceClient(
  server: TestServer,
  client: DeviceClient & { name?: string },
  grantTypes: string[] = [DEVICE_CODE_GRANT, 'refresh_token'],
): Promise<void> {
  await server.services.admin.createClient({
    name: client.name ?? client.clientId,
    clientId: client.clientId,
    ...(client.clientSecret === null ? { isPublic: true } : { clientSecret: client.clientSecret }),
    grantTypes,
    scopes: 'read write',
  });
}

/** Basic for a confidential client, client_id in the body for a public one. */
function credentials(
  client: DeviceClient,
  fields: Record<string, string>,
): { body: Record<string, string>; headers: Record<string, string> } {
  if (client.clientSecret === null) return { body: { client_id: client.clientId, ...fields }, headers: {} };
  return { body: fields, headers: { authorization: basic(client.clientId, client.clientSecret) } };
}

export interface JsonAnswer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

/** POST {BASE_PATH}/o/device-authorization/ with a form body (RFC 8628 §3.1); asserts nothing. */
export async function requestDeviceAuthorization(
  server: TestServer,
  body: Record<string, string> | string,
  headers: Record<string, string> = {},
  query = '',
): Promise<JsonAnswer> {
  const response = await fetch(`${server.oauthUrl}/device-authorization/${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: typeof body === 'string' ? body : new URLSearchParams(body).toString(),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** A successful device authorization request of `client`. */
export async function startDeviceFlow(
  server: TestServer,
  client: DeviceClient,
  fields: Record<string, string> = {},
): Promise<DeviceAuthorization> {
  const { body, headers } = credentials(client, fields);
  const answer = await requestDeviceAuthorization(server, body, headers);
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  return answer.json as unknown as DeviceAuthorization;
}

/** One poll of the token endpoint by the device (RFC 8628 §3.4). */
export function poll(server: TestServer, client: DeviceClient, deviceCode: string) {
  const { body, headers } = credentials(client, { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode });
  return postToken(server, body, headers);
}

/** Signs in through the login page the device page shows at `url`; the answer to the POST (303 on success). */
export const signInOnDevicePage = signInThrough;

/** Posts `userCode` through the code-entry form of the (signed-in) device page. */
export async function enterCode(server: TestServer, browser: Browser, userCode: string): Promise<PageResponse> {
  const entry = await browser.get(`${server.oauthUrl}/device/`);
  expect(entry.status).toBe(200);
  const [form] = formsOf(entry.body);
  expect(form?.hidden.step).toBe('code');
  return browser.post(actionUrl(server, form!.action), { ...form!.hidden, user_code: userCode });
}

/** Posts the decision form of an approval page. */
export async function decideDevice(
  server: TestServer,
  browser: Browser,
  approval: PageResponse,
  decision: 'allow' | 'deny',
): Promise<PageResponse> {
  const [form] = formsOf(approval.body);
  expect(form?.hidden.step).toBe('decision');
  return browser.post(actionUrl(server, form!.action), { ...form!.hidden, decision });
}

/** The person's whole side: sign in, enter the code, decide. Returns the done page. */
export async function answerOnDevicePage(
  server: TestServer,
  userCode: string,
  decision: 'allow' | 'deny',
  browser = new Browser(),
): Promise<PageResponse> {
  expect((await signInOnDevicePage(server, browser, `${server.oauthUrl}/device/`)).status).toBe(303);
  const approval = await enterCode(server, browser, userCode);
  expect(approval.status).toBe(200);
  return decideDevice(server, browser, approval, decision);
}
