// The same protection for an Express app: the kit's Connect-style middleware.
//
//   npm run build
//   OAUTHD_INTROSPECTION_URL=http://127.0.0.1:8000/o/introspect/ OAUTHD_CLIENT_ID=… OAUTHD_CLIENT_SECRET=… \
//   node examples/express-api.mjs
import express from 'express';
import { createIntrospectionVerifier, requireTokenMiddleware } from 'oauthd/kit';

const env = process.env;
const verifier = createIntrospectionVerifier({
  introspectionUrl: env.OAUTHD_INTROSPECTION_URL ?? 'http://127.0.0.1:8000/o/introspect/',
  clientId: env.OAUTHD_CLIENT_ID ?? '',
  clientSecret: env.OAUTHD_CLIENT_SECRET ?? '',
  maxStalenessMs: Number(env.PAYOUTS_MAX_STALENESS_MS ?? 5000),
});

const app = express();
app.get('/balance', requireTokenMiddleware({ verifier, realm: 'payouts', scopes: ['read'] }), (req, res) => {
  res.json({ user: req.oauth.username, balance: { currency: 'EGP', amount: '1250.00' } });
});

const server = app.listen(Number(env.PAYOUTS_PORT ?? 8101), env.PAYOUTS_HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address();
  process.stderr.write(`payouts API listening at http://${address}:${port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
