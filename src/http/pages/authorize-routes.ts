import type { FastifyInstance } from 'fastify';
import type { ParamPairs } from '../../core/params.js';
import { checkRequest, consentOrApprove, postConsent, postLogin, showLogin } from './authorize-steps.js';
import { type PageContext, single } from './context.js';
import { errorViewOf } from './errors.js';
import { authorizeGetSchema, authorizePostSchema } from './schemas.js';
import { errorPage } from './views.js';

/**
 * `GET|POST {BASE_PATH}/o/authorize/`: the authorization endpoint of the code flow (RFC 6749 §3.1, §4.1.1).
 * The parameters stay in the query string; our forms post back to the same URL, and every POST checks the
 * request again (RFC 6749 §3.1: the server MUST support GET and MAY support POST).
 */
export function authorizeRoutes(app: FastifyInstance, context: PageContext): void {
  app.get('/authorize/', { schema: authorizeGetSchema }, async (request, reply) => {
    const valid = await checkRequest(context, request, reply, 302);
    if (valid === null) return reply;
    const signedIn = await context.session(request);
    // A sign-in too old for this client (the console's: core/authorize/fresh-sign-in.ts) counts as none: the
    // password is asked again. The login form's 303 comes back here with a fresh session, which goes on.
    const flow = context.options.authorizationFlow;
    if (signedIn === null || flow.needsFreshSignIn(valid, signedIn.session)) {
      return showLogin(context, request, reply, valid);
    }
    return consentOrApprove(context, request, reply, valid, signedIn);
  });

  app.post('/authorize/', { schema: authorizePostSchema }, async (request, reply) => {
    // A redirect after a POST is a 303 (RFC 9700 §4.12), error redirects included.
    const valid = await checkRequest(context, request, reply, 303);
    if (valid === null) return reply;
    const body = (request.body as ParamPairs | undefined) ?? [];
    const step = single(body, 'step');
    if (step === 'login') return postLogin(context, request, reply, valid, body);
    if (step === 'consent') return postConsent(context, request, reply, valid, body);
    return context.send(reply, 400, errorPage(context.branding, errorViewOf('invalid_request')));
  });
}
