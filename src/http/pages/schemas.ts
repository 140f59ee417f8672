/*
 * The page routes as the OpenAPI document shows them (documentation only: see routes/schemas.ts). They answer
 * HTML for people, never JSON.
 */

export const page = (description: string, headers: Record<string, { type: 'string'; description: string }> = {}) => ({
  description,
  type: 'string',
  headers: {
    'Content-Security-Policy': {
      type: 'string',
      description:
        "`default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'[ <client origin>]; " +
        "frame-ancestors 'none'; base-uri 'none'`.",
    },
    'Cache-Control': { type: 'string', description: '`no-store`.' },
    ...headers,
  },
});
export const redirect = (description: string) => ({
  description,
  type: 'null',
  headers: { Location: { type: 'string', description: 'Where the browser goes next.' } },
});
export const cookie = { 'Set-Cookie': { type: 'string', description: 'The session or CSRF cookie.' } } as const;

const AUTHORIZE_QUERY = {
  type: 'object',
  properties: {
    response_type: { type: 'string', enum: ['code'], description: 'RFC 6749 §4.1.1.' },
    client_id: { type: 'string', description: 'RFC 6749 §4.1.1.' },
    redirect_uri: {
      type: 'string',
      description:
        'RFC 6749 §3.1.2: one of the redirect URIs registered for the client, exactly (a loopback URI may ' +
        'use any port: RFC 8252 §7.3). Optional when the client has exactly one.',
    },
    scope: { type: 'string', description: 'RFC 6749 §3.3.' },
    state: { type: 'string', description: 'RFC 6749 §4.1.1: returned as is.' },
    code_challenge: {
      type: 'string',
      description: 'RFC 7636 §4.3: required unless the client is configured with `--pkce optional`.',
    },
    code_challenge_method: {
      type: 'string',
      enum: ['S256', 'plain'],
      description: 'RFC 7636 §4.3: `plain` only for a client configured for it (`--pkce "S256 plain"`).',
    },
  },
  required: ['response_type', 'client_id'],
} as const;

const AUTHORIZE_DESCRIPTION =
  "RFC 6749 §4.1.1, the authorization endpoint of the code flow, at django-oauth-toolkit's path. An unknown " +
  'client or redirect URI is shown as an error page (400), never redirected to (§4.1.2.1); any other error ' +
  'redirects to the client with `error`, `state` and `iss` (RFC 9207). Not signed in: the login page (also for ' +
  "the console's built-in client `oauthd-console` when the sign-in is more than a minute old: the password is " +
  'asked at each console sign-in); signed in: the consent page, unless the client skips consent or the person ' +
  'already allowed these scopes; then a redirect to the client with `code`, `state` and `iss`.';

export const authorizeGetSchema = {
  tags: ['authorization'],
  operationId: 'authorize',
  summary: 'Start the authorization code flow (RFC 6749 §4.1)',
  description: AUTHORIZE_DESCRIPTION,
  querystring: AUTHORIZE_QUERY,
  produces: ['text/html'],
  response: {
    200: page('The login page or the consent page.', cookie),
    302: redirect('Back to the client: with `code`, or with `error` (RFC 6749 §4.1.2, §4.1.2.1).'),
    400: page('The client or the redirect URI is not valid: an error page.'),
    503: page('The database is unavailable: an error page, `Retry-After: 1`.'),
  },
} as const;

export const authorizePostSchema = {
  tags: ['authorization'],
  operationId: 'authorizeForm',
  summary: "The login and consent pages' forms",
  description:
    'The forms of the login and consent pages post here, with the authorization request still in the query ' +
    'string (checked again). `step=login`: `username`, `password`; success sets the session cookie and answers ' +
    '303 to the GET of the same URL. `step=consent`: `decision=allow` or `deny`; 303 to the client (RFC 9700 ' +
    '§4.12). Every form carries `csrf_token`; a missing or wrong one is 403 and nothing is done.',
  querystring: AUTHORIZE_QUERY,
  consumes: ['application/x-www-form-urlencoded'],
  body: {
    type: 'object',
    properties: {
      step: { type: 'string', enum: ['login', 'consent'] },
      csrf_token: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      decision: { type: 'string', enum: ['allow', 'deny'] },
    },
    required: ['step', 'csrf_token'],
  },
  produces: ['text/html'],
  response: {
    303: redirect('After a sign-in: the GET of the same URL; after a decision: the client.'),
    400: page('Wrong username or password (the login page again), or a request that is not valid.'),
    403: page('The CSRF token is missing or wrong: nothing was done.'),
    413: page('The form is too large.'),
    429: page('Too many failed sign-ins: the login page with a message.', {
      'Retry-After': { type: 'string', description: 'Seconds until the next attempt may succeed.' },
    }),
    503: page('The database is unavailable: an error page, `Retry-After: 1`.'),
  },
} as const;

export const logoutGetSchema = {
  tags: ['authorization'],
  operationId: 'logoutPage',
  summary: 'The sign-out page',
  description: 'A "Sign out" form (with its CSRF token); signing out is a POST.',
  produces: ['text/html'],
  response: { 200: page('The sign-out form.', cookie) },
} as const;

export const logoutPostSchema = {
  tags: ['authorization'],
  operationId: 'logout',
  summary: 'Sign out',
  description: 'Ends the session of this browser and clears its cookie. `csrf_token` is required.',
  consumes: ['application/x-www-form-urlencoded'],
  body: { type: 'object', properties: { csrf_token: { type: 'string' } }, required: ['csrf_token'] },
  produces: ['text/html'],
  response: {
    200: page('"You are signed out".', cookie),
    403: page('The CSRF token is missing or wrong: nothing was done.'),
  },
} as const;
