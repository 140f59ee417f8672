/**
 * HTTP/1.1 over a bare TCP socket, for requests that fetch (undici) refuses to send: invalid header values,
 * duplicate or conflicting framing headers, unknown methods, bytes that are not UTF-8.
 *
 * One exchange = one connection: write the bytes, read until the server closes (requests carry
 * `Connection: close`), then parse every response in what came back (a request whose Content-Length is too
 * small leaves bytes that the server may read as a second, pipelined request).
 *
 * Half-closing right after the write would be wrong: Node's HTTP server (httpAllowHalfOpen false) aborts a
 * request whose client sent FIN and ends the socket, so a slow answer (argon2id) would be lost. So the
 * socket is half-closed only for requests known to be incomplete (`incomplete`: a body shorter than its
 * framing promises), or as a fallback after `idleEndMs` of silence.
 */
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  reason: string;
  /** Lower-cased names; repeated headers keep every value. */
  headers: Map<string, string[]>;
  body: Buffer;
}

export interface RawExchange {
  responses: RawResponse[];
  /** Everything the server sent. */
  bytes: Buffer;
  /** A socket error seen while writing or reading (EPIPE, ECONNRESET), or 'timeout'. */
  socketError: string | null;
  /** The server said nothing for idleEndMs, so the socket was half-closed to make it answer or close. */
  endedAfterIdle: boolean;
  /** Set when the bytes received are not a sequence of well-formed HTTP/1.x responses. */
  parseError: string | null;
  elapsedMs: number;
}

export interface RawRequest {
  method: string;
  /** The request target exactly as sent (path and query). */
  target: string;
  /** Header lines in order, repeats allowed. Values are written as latin1 bytes. */
  headers: ReadonlyArray<readonly [string, string]>;
  body?: Buffer | string;
  /** 'HTTP/1.1' unless set. */
  version?: string;
}

/** Serialises a request: `METHOD target VERSION`, the headers as given (nothing added), a blank line, the body. */
export function serialise(request: RawRequest): Buffer {
  const head = `${request.method} ${request.target} ${request.version ?? 'HTTP/1.1'}\r\n${request.headers
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  const body =
    request.body === undefined
      ? Buffer.alloc(0)
      : Buffer.isBuffer(request.body)
        ? request.body
        : Buffer.from(request.body, 'utf8');
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Sends raw bytes to 127.0.0.1:port and collects every response until the server closes the connection. */
export function rawExchange(
  port: number,
  bytes: Buffer,
  options: { timeoutMs?: number; head?: boolean; incomplete?: boolean; idleEndMs?: number } = {},
): Promise<RawExchange> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let socketError: string | null = null;
    let endedAfterIdle = false;
    const timer = setTimeout(() => {
      socketError = 'timeout';
      socket.destroy();
    }, options.timeoutMs ?? 10_000);
    let idle: NodeJS.Timeout | undefined;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      clearTimeout(idle);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      socketError ??= error.code ?? error.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      clearTimeout(idle);
      const received = Buffer.concat(chunks);
      const { responses, parseError } = parseResponses(received, options.head ?? false);
      resolve({ responses, bytes: received, socketError, endedAfterIdle, parseError, elapsedMs: Date.now() - started });
    });
    socket.on('connect', () => {
      socket.write(bytes);
      if (options.incomplete) {
        socket.end();
      } else {
        idle = setTimeout(() => {
          endedAfterIdle = true;
          socket.end();
        }, options.idleEndMs ?? 3_000);
      }
    });
  });
}

/** Parses consecutive HTTP/1.x responses. `head`: the first response answers a HEAD request (no body). */
export function parseResponses(bytes: Buffer, head: boolean): { responses: RawResponse[]; parseError: string | null } {
  const responses: RawResponse[] = [];
  let at = 0;
  while (at < bytes.length) {
    const headEnd = bytes.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd === -1) return { responses, parseError: `incomplete response head at byte ${at}` };
    const lines = bytes.subarray(at, headEnd).toString('latin1').split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
    if (!statusLine) return { responses, parseError: `bad status line ${JSON.stringify(lines[0])}` };
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) return { responses, parseError: `bad header line ${JSON.stringify(line)}` };
      const name = line.slice(0, colon).trim().toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
    }
    const status = Number(statusLine[1]);
    at = headEnd + 4;
    let body: Buffer;
    const length = headers.get('content-length');
    const chunked = (headers.get('transfer-encoding') ?? []).some((v) => /chunked/i.test(v));
    // The (first final) answer to HEAD has no body, unless something wrote one anyway (bytes that are not
    // a next response). Interim 1xx responses (100 Continue) come before it.
    const firstFinal = status >= 200 && !responses.some((r) => r.status >= 200);
    const headWithoutBody =
      head && firstFinal && (at === bytes.length || bytes.subarray(at, at + 7).toString('latin1') === 'HTTP/1.');
    if (headWithoutBody || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = Buffer.alloc(0);
    } else if (chunked) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = bytes.indexOf('\r\n', at, 'latin1');
        if (lineEnd === -1) return { responses, parseError: 'incomplete chunk size' };
        const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
        if (Number.isNaN(size)) return { responses, parseError: 'bad chunk size' };
        at = lineEnd + 2;
        if (size === 0) {
          const trailerEnd = bytes.indexOf('\r\n', at, 'latin1');
          at = trailerEnd === -1 ? bytes.length : trailerEnd + 2;
          break;
        }
        parts.push(bytes.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (length !== undefined) {
      const n = Number(length[0]);
      if (!Number.isInteger(n) || n < 0) return { responses, parseError: `bad content-length ${length[0]}` };
      if (at + n > bytes.length) return { responses, parseError: 'body shorter than content-length' };
      body = bytes.subarray(at, at + n);
      at += n;
    } else {
      body = bytes.subarray(at);
      at = bytes.length;
    }
    responses.push({ status, reason: statusLine[2] ?? '', headers, body });
  }
  return { responses, parseError: null };
}
