// A command-line program signing in with the device authorization grant (RFC 8628): it asks oauthd for a user
// code, tells the person where to enter it, and polls the token endpoint until they allow or deny it.
// Node.js 20 or later, nothing to install: copy it into your tool.
//
//   OAUTHD_URL=https://auth.example.com OAUTHD_CLIENT_ID=<a client with the device_code grant> \
//   node examples/device-flow.mjs [scope]
//
// OAUTHD_URL is the issuer: the server's URL with its OAUTHD_BASE_PATH (e.g. https://example.com/api/secure).
// A confidential client also sets OAUTHD_CLIENT_SECRET. The token response is printed as JSON on stdout (so it
// can be piped); what the person reads goes to stderr. Exit status 0 with tokens, 1 otherwise (the person
// denied, the code expired, or any other error).

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const env = process.env;
const issuer = (env.OAUTHD_URL ?? 'http://127.0.0.1:8000').replace(/\/+$/, '');
const clientId = env.OAUTHD_CLIENT_ID;
const clientSecret = env.OAUTHD_CLIENT_SECRET;
const scope = process.argv[2];

const say = (line) => process.stderr.write(`${line}\n`);
const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** POSTs a form to an endpoint under the issuer, with the client's authentication; the status and JSON body. */
async function post(path, params) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const body = new URLSearchParams(params);
  if (clientSecret) {
    // RFC 6749 §2.3.1: HTTP Basic, each part form-urlencoded first.
    const pair = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  } else {
    body.set('client_id', clientId); // a public client identifies itself (RFC 6749 §3.2.1)
  }
  const response = await fetch(`${issuer}${path}`, { method: 'POST', headers, body });
  const json = await response.json().catch(() => ({}));
  return { status: response.status, json };
}

async function main() {
  if (!clientId) {
    say('set OAUTHD_CLIENT_ID (and OAUTHD_CLIENT_SECRET for a confidential client)');
    return 1;
  }
  // RFC 8628 §3.1–3.2: the device authorization request.
  const start = await post('/o/device-authorization/', scope ? { scope } : {});
  if (start.status !== 200) {
    say(`device authorization refused: ${start.json.error ?? start.status}: ${start.json.error_description ?? ''}`);
    return 1;
  }
  const { device_code: deviceCode, user_code: userCode, verification_uri: verificationUri } = start.json;
  say(`Open ${verificationUri} and enter ${userCode}`);
  if (start.json.verification_uri_complete) say(`(or open ${start.json.verification_uri_complete})`);

  // §3.2: 5 seconds when the server names no interval; §3.5: never poll sooner than the interval.
  let interval = start.json.interval ?? 5;
  const deadline = Date.now() + (start.json.expires_in ?? 600) * 1000;
  while (Date.now() < deadline) {
    await sleep(interval);
    let poll;
    try {
      poll = await post('/o/token/', { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode });
    } catch (error) {
      // §3.5: back off on a network failure rather than hammer the server.
      interval *= 2;
      say(`the token endpoint did not answer (${error.cause?.code ?? error.message}); retrying in ${interval} s`);
      continue;
    }
    if (poll.status === 200) {
      process.stdout.write(`${JSON.stringify(poll.json, null, 2)}\n`);
      say('Signed in.');
      return 0;
    }
    switch (poll.json.error) {
      case 'authorization_pending': // §3.5: the person has not answered yet
        break;
      case 'slow_down': // §3.5: add 5 seconds to the interval, for this and every later poll
        interval += 5;
        say(`the server asked to slow down: polling every ${interval} s`);
        break;
      case 'access_denied':
        say('access_denied: the request was denied.');
        return 1;
      case 'expired_token':
        say('expired_token: the code expired before it was approved; run again for a new one.');
        return 1;
      default:
        say(`the token endpoint refused: ${poll.json.error ?? poll.status}: ${poll.json.error_description ?? ''}`);
        return 1;
    }
  }
  say('expired_token: the code expired before it was approved; run again for a new one.');
  return 1;
}

process.exitCode = await main().catch((error) => {
  say(`device flow failed: ${error.message}`);
  return 1;
});
