/**
 * The ceiling: a bare node:http server answering every request with one fixed JSON body (about the size of
 * a userinfo answer), in its own process like oauthd. What the load generator reaches against it is the most
 * any Node HTTP server can do on this machine with these settings; oauthd's figures are read against it.
 * With CEILING_WORKERS=N (the bench's --workers), N processes share the socket through node:cluster, as
 * `oauthd serve --workers N` does. Prints `ceiling at http://127.0.0.1:PORT` on stderr once it listens; stops
 * on SIGTERM.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';

export const CEILING_BODY = JSON.stringify({
  sub: '1',
  username: 'bench-user-0',
  client_id: 'ceilingceilingceilingceilingceil',
  scope: 'read write',
  iat: 1_700_000_000,
  exp: 1_700_003_600,
  note: 'a fixed body',
});

const workers = Number(process.env.CEILING_WORKERS ?? '1');

if (cluster.isPrimary && workers > 1) {
  let listening = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', (message: { port?: number }) => {
      if (message.port && ++listening === workers)
        process.stderr.write(`ceiling at http://127.0.0.1:${message.port}\n`);
    });
  }
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  });
} else {
  const body = Buffer.from(CEILING_BODY);
  const server = createServer((request, response) => {
    // Drain any request body, then answer.
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
      response.end(body);
    });
  });
  // The same keep-alive timeout as oauthd's default (OAUTHD_KEEP_ALIVE_TIMEOUT_MS).
  server.keepAliveTimeout = 5_000;
  // Port 0 in a cluster: the primary picks one port and every worker shares it.
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    if (cluster.isWorker) process.send!({ port });
    else process.stderr.write(`ceiling at http://127.0.0.1:${port}\n`);
  });
  process.on('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
