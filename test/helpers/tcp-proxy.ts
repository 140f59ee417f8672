/**
 * A TCP proxy the test controls, to put between oauthd and PostgreSQL and break the path on purpose:
 *
 * - `cut()`: every open connection is destroyed (both sides) and the listener closes, so new connections
 *   are refused (ECONNREFUSED): a crashed database host, a dropped network path.
 * - `stall()`: connections are accepted and held; nothing is forwarded in either direction, on new or
 *   existing connections (bytes are kept, not dropped): a frozen server, a black-holed route.
 * - `restore()`: forwarding resumes. After a cut the listener opens again on the same port; after a stall
 *   what was held is delivered in order (a network path that heals, as TCP would retransmit), and held
 *   connections are connected upstream.
 *
 * Everything runs in the test's own event loop; there is no backpressure handling (database traffic of a
 * test is small).
 */
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

export type ProxyState = 'open' | 'cut' | 'stalled';

export interface TcpProxy {
  /** The port oauthd should connect to (on 127.0.0.1). */
  readonly port: number;
  state(): ProxyState;
  /** Client connections currently open through the proxy. */
  connections(): number;
  cut(): Promise<void>;
  stall(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Bytes, or the peer's FIN. */
type Item = Buffer | 'end';

interface Pair {
  client: Socket;
  upstream: Socket | null;
  /** Held while stalled (or before the upstream exists). */
  toUpstream: Item[];
  toClient: Item[];
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let state: ProxyState = 'open';
  const pairs = new Set<Pair>();
  let server: Server;

  const destroy = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  const deliver = (socket: Socket, item: Item) => {
    if (socket.destroyed) return;
    if (item === 'end') socket.end();
    else socket.write(item);
  };

  const connectUpstream = (pair: Pair) => {
    const upstream = new Socket();
    pair.upstream = upstream;
    upstream.on('data', (chunk: Buffer) =>
      state === 'stalled' ? pair.toClient.push(chunk) : deliver(pair.client, chunk),
    );
    upstream.on('end', () => (state === 'stalled' ? pair.toClient.push('end') : deliver(pair.client, 'end')));
    upstream.on('error', () => destroy(pair));
    upstream.on('close', () => destroy(pair));
    upstream.connect(target.port, target.host);
    // net.Socket queues writes made before the connection is established.
    for (const item of pair.toUpstream.splice(0)) deliver(upstream, item);
  };

  const onConnection = (client: Socket) => {
    // Refused while cut: the listener is closed then, but a connection may have been accepted just before.
    if (state === 'cut') {
      client.destroy();
      return;
    }
    const pair: Pair = { client, upstream: null, toUpstream: [], toClient: [] };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) =>
      state === 'stalled' || !pair.upstream ? pair.toUpstream.push(chunk) : deliver(pair.upstream, chunk),
    );
    client.on('end', () =>
      state === 'stalled' || !pair.upstream ? pair.toUpstream.push('end') : deliver(pair.upstream, 'end'),
    );
    client.on('error', () => destroy(pair));
    client.on('close', () => destroy(pair));
    if (state === 'open') connectUpstream(pair);
  };

  const listen = async (port: number): Promise<number> => {
    server = createServer({ allowHalfOpen: true }, onConnection);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  };

  const closeListener = () => new Promise<void>((resolve) => server.close(() => resolve()));

  const port = await listen(0);

  return {
    port,
    state: () => state,
    connections: () => pairs.size,
    async cut() {
      if (state === 'cut') return;
      state = 'cut';
      const closed = closeListener();
      for (const pair of [...pairs]) destroy(pair);
      await closed;
    },
    stall() {
      if (state === 'cut') throw new Error('restore a cut proxy before stalling it');
      state = 'stalled';
    },
    async restore() {
      if (state === 'cut') {
        state = 'open';
        await listen(port);
        return;
      }
      state = 'open';
      for (const pair of [...pairs]) {
        if (!pair.upstream) {
          connectUpstream(pair);
          continue;
        }
        for (const item of pair.toUpstream.splice(0)) deliver(pair.upstream, item);
        for (const item of pair.toClient.splice(0)) deliver(pair.client, item);
      }
    },
    async close() {
      const wasListening = state !== 'cut';
      state = 'cut';
      for (const pair of [...pairs]) destroy(pair);
      if (wasListening) await closeListener();
    },
  };
}
