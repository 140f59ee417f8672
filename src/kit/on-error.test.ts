import express from 'express';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalidToken, temporarilyUnavailable } from '../core/errors.js';
import type { BearerValidator } from '../core/bearer.js';
import type { KitRefusal } from './challenge.js';
import { requireTokenMiddleware } from './express.js';
import { oauthdKit } from './fastify.js';

// The kit tells the operator why it refused (RFC 6750 §3 answers carry only the public part).
const verifier: BearerValidator = {
  async validate(token) {
    if (token === 'down') throw temporarilyUnavailable('introspection answered 502');
    throw invalidToken('The access token is invalid, expired or revoked.', 'unknown token');
  },
};

const heard: KitRefusal[] = [];
const fastify = Fastify();
let expressServer: Server;
const urls: Record<'fastify' | 'express', string> = { fastify: '', express: '' };

beforeAll(async () => {
  await fastify.register(oauthdKit, { verifier, onError: (refusal) => heard.push(refusal) });
  fastify.get('/payouts', { preHandler: fastify.requireToken() }, async () => ({ ok: true }));
  urls.fastify = `${await fastify.listen({ host: '127.0.0.1', port: 0 })}/payouts`;
  const app = express();
  app.get('/payouts', requireTokenMiddleware({ verifier, onError: (refusal) => heard.push(refusal) }), (_req, res) =>
    res.json({ ok: true }),
  );
  expressServer = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  urls.express = `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}/payouts`;
});

afterAll(async () => {
  await fastify.close();
  await new Promise((resolve) => expressServer.close(resolve));
});

describe.each(['fastify', 'express'] as const)('the %s kit reports why it refuses', (kind) => {
  it('calls onError with the status, the public error and the private reason, never the token', async () => {
    heard.length = 0;
    expect((await fetch(urls[kind], { headers: { authorization: 'Bearer sEcReT-value' } })).status).toBe(401);
    expect((await fetch(urls[kind], { headers: { authorization: 'Bearer down' } })).status).toBe(503);
    expect((await fetch(urls[kind])).status).toBe(401);
    expect(heard).toEqual([
      { status: 401, error: 'invalid_token', reason: 'unknown token' },
      { status: 503, error: 'temporarily_unavailable', reason: 'introspection answered 502' },
      { status: 401, error: 'invalid_token', reason: 'no token' },
    ]);
    expect(JSON.stringify(heard)).not.toContain('sEcReT');
  });
});
