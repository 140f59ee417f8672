import { performance } from 'node:perf_hooks';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventSink, StoreAdvice, StoreMethod } from '../core/ports.js';
import { FastHistogram } from './fast-histogram.js';

/**
 * Prometheus metrics (prom-client), one registry per server. Recording a request or a store call is a Map
 * lookup by a short key string and a few increments (fast-histogram.ts); counters are prom-client's. No I/O,
 * nothing awaited on the request path.
 */
export interface Metrics {
  registry: Registry;
  /** This process's metrics as Prometheus text (a cluster's primary renders the aggregate itself, cli/serve.ts). */
  render(): Promise<string>;
  /** Turns core events (token.issued, refresh_token.reused, …) into counters. */
  events: EventSink;
  /** Records one HTTP request. */
  observeRequest(
    labels: { route: string; method: string; status: number; grantType: string; error: string },
    seconds: number,
  ): void;
  /** Records every store call's latency and outcome (for decorateStore; migrate and close are not timed). */
  storeAdvice: StoreAdvice;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  // Process metrics, event-loop lag (nodejs_eventloop_lag_seconds and its percentiles) among them.
  collectDefaultMetrics({ register: registry, prefix: 'oauthd_' });

  // The two histograms on the request path: see fast-histogram.ts (prom-client's own hashes labels per call).
  const requests = new FastHistogram(
    'oauthd_http_request_duration_seconds',
    'HTTP requests by route, method, status, grant type and OAuth error code',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registry,
  );
  const storeLatency = new FastHistogram(
    'oauthd_store_operation_duration_seconds',
    'Store operations by name and outcome',
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registry,
  );

  return {
    registry,
    render: () => registry.metrics(),
    events: countEvents(registry),
    observeRequest(labels, seconds) {
      requests.observe(
        `${labels.route} ${labels.method} ${labels.status} ${labels.grantType} ${labels.error}`,
        () => ({
          route: labels.route,
          method: labels.method,
          status: String(labels.status),
          grant_type: labels.grantType,
          error: labels.error,
        }),
        seconds,
      );
    },
    storeAdvice: timeStoreCalls(storeLatency),
  };
}

/** The counters of core events, registered in `registry`. */
function eventCounters(registry: Registry) {
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const issued = counter('oauthd_tokens_issued_total', 'Token pairs issued, by grant type', ['grant_type']);
  const rotated = counter('oauthd_refresh_tokens_rotated_total', 'Refresh tokens exchanged for a new pair');
  const replayed = counter(
    'oauthd_refresh_tokens_replayed_total',
    'Retries within the grace window answered with the same pair',
  );
  const reused = counter(
    'oauthd_refresh_token_reuse_detected_total',
    'Reuse of a rotated refresh token (its grant family revoked)',
  );
  const revoked = counter('oauthd_grants_revoked_total', 'Grants revoked, by how', ['via']);
  const loginFailed = counter(
    'oauthd_login_failures_total',
    'Failed password checks (password grant and login page), by reason',
    ['reason'],
  );
  const signIns = counter('oauthd_sign_ins_total', 'People signed in on the login page');
  const codesIssued = counter('oauthd_authorization_codes_issued_total', 'Authorization codes issued');
  const codeReuse = counter(
    'oauthd_authorization_code_reuse_detected_total',
    'An authorization code presented again (the grant it started revoked)',
  );
  const deviceDecisions = counter('oauthd_device_decisions_total', 'Device requests approved or denied', ['decision']);
  const clientAuthFailed = counter('oauthd_client_auth_failures_total', 'Failed client authentications');
  const sunsetRefusals = counter(
    'oauthd_password_grant_sunset_refusals_total',
    "Password grants and refreshes of password grants refused after their client's sunset, by grant type",
    ['grant_type'],
  );
  const lockouts = counter('oauthd_lockouts_total', 'Brute-force lockouts started, by subject', ['subject']);
  return {
    issued,
    rotated,
    replayed,
    reused,
    revoked,
    loginFailed,
    signIns,
    codesIssued,
    codeReuse,
    deviceDecisions,
    clientAuthFailed,
    sunsetRefusals,
    lockouts,
  };
}

/** The counters of core events (token.issued, refresh_token.reused, …), registered in `registry`. */
function countEvents(registry: Registry): EventSink {
  const c = eventCounters(registry);
  return {
    emit(event, fields) {
      switch (event) {
        case 'token.issued':
          c.issued.inc({ grant_type: String(fields.grant_type ?? 'unknown') });
          break;
        case 'refresh_token.rotated':
          c.rotated.inc();
          c.issued.inc({ grant_type: 'refresh_token' });
          break;
        case 'refresh_token.replayed':
          c.replayed.inc();
          break;
        case 'refresh_token.reused':
          c.reused.inc();
          c.revoked.inc({ via: 'reuse_detection' });
          break;
        case 'grant.revoked':
          c.revoked.inc({ via: String(fields.via ?? 'unknown') });
          break;
        case 'login.failed':
          c.loginFailed.inc({ reason: String(fields.reason ?? 'unknown') });
          break;
        case 'client_auth.failed':
          c.clientAuthFailed.inc();
          break;
        case 'client.password_grant_refused':
          c.sunsetRefusals.inc({ grant_type: String(fields.grant_type ?? 'unknown') });
          break;
        case 'login.succeeded':
          c.signIns.inc();
          break;
        case 'authorization_code.issued':
          c.codesIssued.inc();
          break;
        case 'authorization_code.reused':
          c.codeReuse.inc();
          if (fields.grant_id !== null && fields.grant_id !== undefined) c.revoked.inc({ via: 'code_reuse' });
          break;
        case 'device.approved':
        case 'device.denied':
          c.deviceDecisions.inc({ decision: event === 'device.approved' ? 'approved' : 'denied' });
          break;
        case 'lockout.started':
          c.lockouts.inc({ subject: String(fields.subject ?? 'unknown') });
          break;
      }
    },
  };
}

/** The store advice of `storeLatency`: one observation per call, labelled by method and outcome. */
function timeStoreCalls(storeLatency: FastHistogram): StoreAdvice {
  type Series = { key: string; labels: () => Record<string, string> };
  const series = (operation: string, outcome: string): Series => ({
    key: `${operation} ${outcome}`,
    labels: () => ({ operation, outcome }),
  });
  const seriesOf = new Map<StoreMethod, { ok: Series; failed: Series }>();
  return async (method, call) => {
    if (method === 'migrate' || method === 'close') return call();
    let of = seriesOf.get(method);
    if (!of) {
      of = { ok: series(method, 'ok'), failed: series(method, 'error') };
      seriesOf.set(method, of);
    }
    const start = performance.now();
    try {
      const result = await call();
      storeLatency.observe(of.ok.key, of.ok.labels, (performance.now() - start) / 1000);
      return result;
    } catch (error) {
      storeLatency.observe(of.failed.key, of.failed.labels, (performance.now() - start) / 1000);
      throw error;
    }
  };
}

/** Sends each event to every sink. */
export function fanOut(...sinks: EventSink[]): EventSink {
  return {
    emit: (event, fields) => {
      for (const s of sinks) s.emit(event, fields);
    },
  };
}
