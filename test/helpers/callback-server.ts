/**
 * The client's side of a browser test: a tiny HTTP server on 127.0.0.1 whose /callback is a registered
 * redirect URI. It records each query it receives and answers a plain page, as a web app's callback would.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CallbackServer {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** `${origin}/callback`: register it as the client's redirect URI. */
  redirectUri: string;
  /** The query of every request to /callback, oldest first. */
  received: URLSearchParams[];
  /** A page whose own CSP forbids its inline style: a browser test proves it sees violations with it. */
  violationProbeUrl: string;
  close(): Promise<void>;
}

const PAGE = '<!doctype html><html lang="en"><title>Client</title><p>Back at the client.</p></html>';
const PROBE =
  '<!doctype html><html lang="en"><title>Probe</title><p style="color: red">An inline style the CSP forbids.</p>';

export async function startCallbackServer(): Promise<CallbackServer> {
  const received: URLSearchParams[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/callback') {
      received.push(url.searchParams);
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (url.pathname === '/probe') {
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "style-src 'none'" })
        .end(PROBE);
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    redirectUri: `${origin}/callback`,
    received,
    violationProbeUrl: `${origin}/probe`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
