import type { FastifyInstance } from 'fastify';
import type { ParamPairs } from '../../core/params.js';
import { type PageContext, single } from './context.js';
import { csrfToken, verifyCsrf } from './csrf.js';
import { forbiddenView } from './errors.js';
import { logoutGetSchema, logoutPostSchema } from './schemas.js';
import { errorPage, logoutPage, signedOutPage } from './views.js';

/** `GET|POST {BASE_PATH}/o/logout/`: a sign-out form, and the sign-out itself (a POST, so a link cannot do it). */
export function logoutRoutes(app: FastifyInstance, context: PageContext): void {
  const action = `${context.prefix}/logout/`;

  app.get('/logout/', { schema: logoutGetSchema }, async (request, reply) => {
    const signedIn = await context.session(request);
    // Signed in: the form is bound to the session (as on the consent page); otherwise to the CSRF cookie.
    const secret = signedIn?.token ?? context.csrfSecret(request, reply);
    const page = logoutPage(context.branding, {
      action,
      csrfToken: csrfToken(secret),
      username: signedIn?.session.username ?? null,
    });
    return context.send(reply, 200, page);
  });

  app.post('/logout/', { schema: logoutPostSchema }, async (request, reply) => {
    const submitted = single((request.body as ParamPairs | undefined) ?? [], 'csrf_token');
    const sessionToken = context.cookie(request, 'session');
    // The form may have been bound to either cookie (the session ended between the GET and the POST).
    const valid = verifyCsrf(sessionToken, submitted) || verifyCsrf(context.cookie(request, 'csrf'), submitted);
    if (!valid) return context.send(reply, 403, errorPage(context.branding, forbiddenView));
    if (sessionToken !== null) await context.options.signIn.signOut(sessionToken, request.ip);
    context.setCookie(request, reply, 'session', '', 0);
    return context.send(reply, 200, signedOutPage(context.branding));
  });
}
