import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../config/config.js';
import { redactUrl } from '../store/store.js';
import { CodeSupply, firstBatchSize, makeCodes } from './codes.js';
import { residentMemory } from './machine.js';
import { preloadPostgres, preloadSqlite, type PreloadResult } from './preload.js';
import { mb, type Row, type StoreRun } from './report.js';
import { log, running } from './running.js';
import { Scenarios, type Probes } from './scenarios.js';
import type { Settings } from './settings.js';
import { seed, serverEnv, spawnOauthd, type Seed } from './target.js';

export interface StoreContext {
  settings: Settings;
  /** Passed to serve as --workers; undefined when serve does not know the flag. */
  workers: number | undefined;
  /** Short baseline measurements taken right before and after each scenario (see Scenarios.adjacent). */
  probes: Probes;
}

/** The authorization_code scenario's first codes, made through the store before the server starts. */
async function codeSupply(store: string, env: Record<string, string>, s: Seed, ctx: StoreContext) {
  const count = firstBatchSize(ctx.settings.warmup + ctx.settings.duration, ctx.workers ?? 1);
  log(`${store}: making ${count} authorization codes through the store`);
  const started = performance.now();
  const codes = new CodeSupply(await makeCodes(env, s, count), (more) => makeCodes(env, s, more));
  log(`${store}: made ${count} codes in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return codes;
}

/** Seeds, preloads, starts oauthd on `databaseUrl`, runs every scenario, stops it. */
async function runStore(store: 'sqlite' | 'postgres', databaseUrl: string, ctx: StoreContext): Promise<StoreRun> {
  const { settings } = ctx;
  const env = serverEnv(databaseUrl);
  const config = loadConfig(env);
  const users = Math.min(settings.connections, 64);
  log(`${store}: seeding a client and ${users} users in ${redactUrl(databaseUrl)}`);
  const s: Seed = await seed(env, users);

  let preload: PreloadResult | undefined;
  if (settings.preload > 0) {
    log(`${store}: preloading ${settings.preload} live token families`);
    const owner = {
      clientId: s.clientId,
      userIds: s.userIds,
      scope: config.policy.defaultScopes.join(' '),
      accessTtlSeconds: 86_400,
    };
    preload =
      store === 'sqlite'
        ? preloadSqlite(databaseUrl.slice('sqlite:'.length), settings.preload, owner, (line) =>
            log(`${store}: preload: ${line}`),
          )
        : await preloadPostgres(databaseUrl, settings.preload, owner, (line) => log(`${store}: preload: ${line}`));
    const rate = Math.round(preload.familiesPerSecond);
    log(`${store}: preloaded ${preload.families} families in ${preload.seconds.toFixed(1)} s (${rate}/s)`);
  }

  const codes = settings.scenarios.includes('authorization_code') ? await codeSupply(store, env, s, ctx) : null;

  const profilesBefore = new Set(settings.profileDir ? readdirSync(settings.profileDir) : []);
  const server = await spawnOauthd(env, {
    ...(settings.profileDir ? { profileDir: settings.profileDir } : {}),
    nodeFlags: settings.nodeFlags,
    workers: ctx.workers,
  });
  running.add(server);
  const rows: Row[] = [];
  let memory: ReturnType<typeof residentMemory> = null;
  try {
    const scenarios = new Scenarios(
      settings,
      server,
      { seed: s, sample: preload?.sampleAccessTokens ?? null, codes },
      ctx.probes,
    );
    for (const name of settings.scenarios) {
      log(`${store}: ${name}`);
      const row = await scenarios.adjacent(name);
      rows.push(row);
      const latency = `p50 ${row.latencyMs.p50} ms, p99 ${row.latencyMs.p99} ms`;
      log(
        `${store}: ${name}: ${row.requestsPerSecond} req/s, ${latency}, ${row.errors} errors, ${row.non2xx} non-2xx` +
          (row.wrongAnswers ? `, ${row.wrongAnswers} wrong answers` : ''),
      );
    }
    memory = residentMemory(server.pid);
  } finally {
    await server.stop();
    running.delete(server);
  }
  const profiles = settings.profileDir
    ? readdirSync(settings.profileDir)
        .filter((f) => f.endsWith('.cpuprofile') && !profilesBefore.has(f))
        .map((f) => join(settings.profileDir!, f))
    : undefined;
  const { sampleAccessTokens: _sample, ...preloadFigures } = preload ?? { sampleAccessTokens: [] };
  return {
    store,
    ...(preload ? { preload: preloadFigures as Omit<PreloadResult, 'sampleAccessTokens'> } : {}),
    serverPeakRssMb: memory ? mb(memory.peakBytes) : null,
    serverProcesses: memory?.processes ?? null,
    largestProcessPeakRssMb: memory ? mb(memory.largestPeakBytes) : null,
    scenarios: rows,
    ...(profiles ? { profiles } : {}),
  };
}

export async function runSqlite(ctx: StoreContext): Promise<StoreRun> {
  const dir = mkdtempSync(join(os.tmpdir(), 'oauthd-bench-'));
  try {
    return await runStore('sqlite', `sqlite:${join(dir, 'oauthd.sqlite3')}`, ctx);
  } finally {
    if (ctx.settings.keep) log(`kept the SQLite file in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

export async function runPostgres(adminUrl: string, ctx: StoreContext): Promise<StoreRun> {
  const name = `oauthd_bench_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await runStore('postgres', url.toString(), ctx);
  } finally {
    if (ctx.settings.keep) log(`kept the PostgreSQL database ${name}`);
    else
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((e: unknown) =>
        log(`could not drop ${name}: ${(e as Error).message}`),
      );
  }
}
