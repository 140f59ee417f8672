// A payouts API protected by oauthd's access tokens, with the resource-server kit.
//
//   npm run build
//   OAUTHD_INTROSPECTION_URL=http://127.0.0.1:8000/o/introspect/ \
//   OAUTHD_CLIENT_ID=<a client created with --introspect> OAUTHD_CLIENT_SECRET=<its secret> \
//   node examples/payouts-api.mjs
//
// or, on the machine that holds oauthd's database, without the network hop:
//
//   OAUTHD_DATABASE_URL=sqlite:./data/oauthd.sqlite3 node examples/payouts-api.mjs
//
// Then: curl -H "Authorization: Bearer <access token>" http://127.0.0.1:8100/balance
import fastify from 'fastify';
import { createIntrospectionVerifier, oauthdKit } from 'oauthd/kit';

const env = process.env;
const maxStalenessMs = Number(env.PAYOUTS_MAX_STALENESS_MS ?? 5000);
const verifier = env.OAUTHD_INTROSPECTION_URL
  ? createIntrospectionVerifier({
      introspectionUrl: env.OAUTHD_INTROSPECTION_URL,
      clientId: env.OAUTHD_CLIENT_ID ?? '',
      clientSecret: env.OAUTHD_CLIENT_SECRET ?? '',
      maxStalenessMs,
    })
  : // oauthd/kit/database opens the database (it loads its driver): imported only when it is used.
    (await import('oauthd/kit/database')).createDatabaseVerifier({
      databaseUrl: env.OAUTHD_DATABASE_URL ?? 'sqlite:./data/oauthd.sqlite3',
      maxStalenessMs,
    });

const app = fastify();
await app.register(oauthdKit, { verifier, realm: 'payouts' });

// Any valid token with the `read` scope.
app.get('/balance', { preHandler: app.requireToken({ scopes: ['read'] }) }, async (request) => ({
  user: request.oauth.username,
  balance: { currency: 'EGP', amount: '1250.00' },
}));

// Sending money needs `write` too.
app.post('/payouts', { preHandler: app.requireToken({ scopes: ['read', 'write'] }) }, async (request, reply) =>
  reply.code(201).send({ id: 'po_1', requested_by: request.oauth.username, client_id: request.oauth.clientId }),
);

app.addHook('onClose', () => verifier.close());
const address = await app.listen({ host: env.PAYOUTS_HOST ?? '127.0.0.1', port: Number(env.PAYOUTS_PORT ?? 8100) });
process.stderr.write(`payouts API listening at ${address}\n`);
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => app.close().then(() => process.exit(0)));
