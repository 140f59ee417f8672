import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';

/** An answer to postFormFrom. */
export interface FormAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The Retry-After header, when there is one. */
  retryAfter: string | undefined;
  json: Record<string, unknown>;
}

/**
 * POST a form on a fresh connection whose source address is `from` (127.0.0.1, 127.0.0.2…: every 127/8 address
 * is local on Linux), so tests can tell clients apart by address without a forwarded header.
 */
export function postFormFrom(
  url: string,
  from: string,
  form: Record<string, string>,
  authorization: string,
): Promise<FormAnswer> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent: false,
        localAddress: from,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          authorization,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          const retryAfter = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
            json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
