import { cookie, page, redirect } from './schemas.js';

/* The device page as the OpenAPI document shows it (documentation only: see routes/schemas.ts). */

const DEVICE_QUERY = {
  type: 'object',
  properties: {
    user_code: {
      type: 'string',
      description:
        'RFC 8628 §3.3.1 (verification_uri_complete): prefills the code field. The person still confirms ' +
        'that it matches the code on their device (§5.4); nothing is looked up until they do.',
    },
  },
} as const;

export const deviceGetSchema = {
  tags: ['device'],
  operationId: 'devicePage',
  summary: 'The device verification page (RFC 8628 §3.3)',
  description:
    'The `verification_uri` of the device authorization response. Not signed in: the login page, whose form ' +
    'posts back here with `?user_code=` kept. Signed in: the code-entry page (one field, `user_code`, ' +
    'prefilled from the query).',
  querystring: DEVICE_QUERY,
  produces: ['text/html'],
  response: {
    200: page('The login page or the code-entry page.', cookie),
    400: page('A query that is not valid form encoding: an error page.'),
    503: page('The database is unavailable: an error page, `Retry-After: 1`.'),
  },
} as const;

export const devicePostSchema = {
  tags: ['device'],
  operationId: 'deviceForm',
  summary: "The device pages' forms",
  description:
    '`step=login`: `username`, `password`; success sets the session cookie and answers 303 to the GET of the ' +
    'same URL. `step=code`: `user_code` (case, dashes and spaces do not matter: RFC 8628 §6.1); a pending code ' +
    'shows the approval page (the client, the scopes, Allow / Deny); each code tried counts against ' +
    'OAUTHD_USER_CODE_ATTEMPTS_PER_MINUTE per IP (§5.1). `step=decision`: `user_code`, `decision=allow` or ' +
    '`deny`; the device learns the answer at its next poll of the token endpoint (§3.4). Every form carries ' +
    '`csrf_token`; a missing or wrong one is 403 and nothing is done. `step=code` and `step=decision` without ' +
    'a live session answer 303 to the sign-in.',
  querystring: DEVICE_QUERY,
  consumes: ['application/x-www-form-urlencoded'],
  body: {
    type: 'object',
    properties: {
      step: { type: 'string', enum: ['login', 'code', 'decision'] },
      csrf_token: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      user_code: { type: 'string' },
      decision: { type: 'string', enum: ['allow', 'deny'] },
    },
    required: ['step', 'csrf_token'],
  },
  produces: ['text/html'],
  response: {
    200: page('The approval page (after `step=code`), or the done page (after `step=decision`).'),
    303: redirect('After a sign-in: the GET of the same URL; without a session: the sign-in.'),
    400: page(
      'Wrong username or password (the login page again); a code that is not valid or has expired (the ' +
        'code-entry page again); a decision on a code no longer pending; or a form that is not valid.',
    ),
    403: page('The CSRF token is missing or wrong: nothing was done.'),
    413: page('The form is too large.'),
    429: page('Too many failed sign-ins, or too many codes tried from this IP: the page again with a message.', {
      'Retry-After': { type: 'string', description: 'Seconds until the next attempt may succeed.' },
    }),
    503: page('The database is unavailable: an error page, `Retry-After: 1`.'),
  },
} as const;
