// Availability under faults: the hub keeps running while its PostgreSQL server is stopped under load
// (pg_ctl stop -m fast and -m immediate), answers 503 problem+json with Retry-After on every route
// that needs the database, stays live (/livez), and serves again within seconds of the server's
// return, without a restart. The server is a throwaway cluster of this test's own
// (test/support/cluster.ts), never the shared one, so this runs in the PGlite and the DATABASE_URL run.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { rowsOf } from '../src/db/types';
import { signPartnerToken } from '../src/client/token';
import type { HubConfig } from '../src/config';
import type { LogFields } from '../src/log';
import { openDatabase, type Database } from '../src/node/database';
import { startServer, type Running } from '../src/node/serve';
import { DATABASE_FREE_PATHS } from '../src/system/routes';
import { postgresBinDir, startCluster, type Cluster, type StopMode } from './support/cluster';
import { testHubConfig, testIdentity } from './support/hub';
import { contact, person } from './support/people';

const BIN = postgresBinDir();
/** Path parameters of the transparency log's tile routes (c2sp.org/tlog-tiles). */
const TILE_PARAMS: Record<string, string> = { level: '0', index: '000', width: '1' };
// CI installs PostgreSQL: there, missing binaries are a failure, not a skip.
if (!BIN && process.env.CI) throw new Error('faults.test.ts needs PostgreSQL server binaries (initdb, pg_ctl)');

type Outcome = { route: string; status: number; type?: string; retryAfter: string | null; ms: number };
type LogLine = { level: string; event: string } & LogFields;

/** Stop waiting after this long: the hub must answer far sooner (connect timeout 1 s here). */
const REQUEST_BOUND_MS = 10_000;

describe.skipIf(!BIN)('the hub survives its PostgreSQL server stopping under load (own throwaway cluster)', () => {
  let cluster: Cluster;
  let database: Database;
  let config: HubConfig;
  let running: Running;
  const logs: LogLine[] = [];
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  let closed: Promise<unknown> | undefined;

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    cluster = await startCluster(BIN!);
    database = await openDatabase({ url: cluster.url, max: 8, timeouts: { connectMs: 1_000 } });
    config = await testHubConfig();
    running = await startServer(database, config, {
      host: '127.0.0.1',
      port: 0,
      schedule: { integrateMs: 100, checkpointMs: 500, purgeMs: 60_000 },
      log: (level, event, fields) => logs.push({ level, event, ...fields }),
    });
  });

  afterAll(async () => {
    await running?.stop().catch(() => {});
    closed ??= database?.close();
    await Promise.race([closed?.catch(() => {}), new Promise((r) => setTimeout(r, 5_000))]);
    await cluster?.destroy();
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  });

  async function call(route: 'lookup' | 'register' | 'batch' | 'health' | 'livez'): Promise<Outcome> {
    const started = Date.now();
    const init: RequestInit = { signal: AbortSignal.timeout(REQUEST_BOUND_MS) };
    let path = `/${route}`;
    if (route === 'lookup' || route === 'register' || route === 'batch') {
      const who = route === 'lookup' ? await testIdentity('gemeente', 'procesregisseur') : await testIdentity('politie', 'partner-system');
      const token = await signPartnerToken(who.key, { sub: who.sub, role: who.role, audience: config.hubId });
      const item = { subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') };
      const body =
        route === 'lookup'
          ? { subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-2026-9' }
          : route === 'register'
            ? item
            : { items: [item, { ...item, subject: person().subject }] };
      path = { lookup: '/v1/lookups', register: '/v1/registrations', batch: '/v1/registrations/batch' }[route];
      Object.assign(init, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    }
    const res = await fetch(`${running.url}${path}`, init);
    const json = (await res.json()) as { type?: string };
    return { route, status: res.status, type: json.type, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started };
  }

  /** Partners keep calling until `stop` is set; every answer is kept. */
  function load(workers: number) {
    const outcomes: Outcome[] = [];
    let stopped = false;
    const routes = ['lookup', 'register', 'batch'] as const;
    const loops = Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; !stopped; i++) outcomes.push(await call(routes[(w + i) % routes.length]!));
    });
    return {
      outcomes,
      ok: () => outcomes.filter((o) => o.status < 300).length,
      stop: async () => {
        stopped = true;
        await Promise.all(loops);
        return outcomes;
      },
    };
  }

  async function until(what: string, cond: () => Promise<boolean> | boolean, withinMs: number): Promise<number> {
    const started = Date.now();
    while (!(await cond())) {
      if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms: ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return Date.now() - started;
  }

  const expectUnavailable = (o: Outcome) => {
    expect(o, `${o.route} while the database is down`).toMatchObject({ status: 503, type: '/problems/database-unavailable', retryAfter: '5' });
  };

  it.each<StopMode>(['fast', 'immediate'])('pg_ctl stop -m %s under load: 503 while down, /livez stays 200, serving again within seconds', async (mode) => {
    const logged = logs.length;
    const traffic = load(4);
    await until('requests succeed under load', () => traffic.ok() >= 5, 20_000);

    await cluster.stop(mode);
    for (const route of ['lookup', 'register', 'batch', 'health'] as const) expectUnavailable(await call(route));
    expect(await call('livez')).toMatchObject({ status: 200 });
    await new Promise((r) => setTimeout(r, 300)); // the load keeps hitting the stopped database

    await cluster.start();
    const back = await until('a lookup succeeds after the restart', async () => (await call('lookup')).status === 200, 5_000);
    const okBefore = traffic.ok();
    await until('the load succeeds again', () => traffic.ok() >= okBefore + 5, 5_000);
    const outcomes = await traffic.stop();

    expect(uncaught).toEqual([]);
    expect(back).toBeLessThan(5_000);
    const failed = outcomes.filter((o) => o.status >= 300);
    expect(failed.length).toBeGreaterThan(0);
    for (const o of failed) expectUnavailable(o);
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(REQUEST_BOUND_MS);
    expect(await call('health')).toMatchObject({ status: 200 });
    // The background jobs report an outage in one line per job and code, never a stack.
    const failedJobs = logs.slice(logged).filter((l) => l.event === 'job.failed').map((l) => l.job);
    expect(failedJobs.length).toBeGreaterThan(0);
    expect(failedJobs.length, 'one line per job and outage').toBe(new Set(failedJobs).size);
    await until('the jobs report their recovery', () => logs.slice(logged).filter((l) => l.event === 'job.recovered').length === failedJobs.length, 5_000);
    for (const l of logs) expect(Object.keys(l)).not.toContain('stack');
  });

  it('while the database is down, every route of the API document but the database-free ones is 503 database-unavailable', async () => {
    const doc = (await (await fetch(`${running.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const withoutDatabase = new Set(DATABASE_FREE_PATHS);
    const who = await testIdentity('gemeente', 'procesregisseur');
    await cluster.stop('fast');
    try {
      const answers: string[] = [];
      for (const [path, methods] of Object.entries(doc.paths)) {
        if (withoutDatabase.has(path)) continue;
        for (const method of Object.keys(methods)) {
          const token = await signPartnerToken(who.key, { sub: who.sub, role: who.role, audience: config.hubId });
          // Path parameters: a tile path (c2sp.org/tlog-tiles) where the route is one, else a uuid.
          const res = await fetch(`${running.url}${path.replace(/\{(\w+)\}/g, (_, name: string) => TILE_PARAMS[name] ?? crypto.randomUUID())}`, {
            method: method.toUpperCase(),
            headers: { authorization: `Bearer ${token}`, ...(method === 'get' || method === 'delete' ? {} : { 'content-type': 'application/json' }) },
            ...(method === 'get' || method === 'delete' ? {} : { body: '{}' }),
            signal: AbortSignal.timeout(REQUEST_BOUND_MS),
          });
          const body = (await res.json()) as { type?: string };
          answers.push(`${method} ${path}: ${res.status} ${body.type} retry-after=${res.headers.get('retry-after')}`);
        }
      }
      expect(answers.length).toBeGreaterThan(10);
      for (const [path, methods] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(methods)) {
          expect(Boolean((op as { responses: Record<string, unknown> }).responses['503']), `${method} ${path} documents 503`).toBe(!withoutDatabase.has(path));
        }
      }
      expect(answers.filter((a) => !a.endsWith(': 503 /problems/database-unavailable retry-after=5'))).toEqual([]);
      for (const path of withoutDatabase) expect((await fetch(`${running.url}${path.replace('{type}', 'internal')}`)).status).toBe(200);
    } finally {
      await cluster.start();
    }
  });

  it('a statement slower than the statement timeout is cancelled by the server: 503 within the bound, not a hang', async () => {
    const slow = await openDatabase({ url: cluster.url, max: 2, timeouts: { statementMs: 300 } });
    const app = createApp(() => ({ config, db: slow.db, clock: () => new Date(), log: () => {} }));
    try {
      await slow.db.execute(sql.raw(`create or replace function kenbaar_test_slow() returns trigger language plpgsql as $$ begin perform pg_sleep(5); return new; end $$`));
      await slow.db.execute(sql.raw(`create trigger kenbaar_test_slow before insert on registrations for each row execute function kenbaar_test_slow()`));
      const who = await testIdentity('politie', 'partner-system');
      const token = await signPartnerToken(who.key, { sub: who.sub, role: who.role, audience: config.hubId });
      const started = Date.now();
      const res = await app.request('/v1/registrations', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') }),
      });
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ type: '/problems/database-unavailable' });
    } finally {
      await slow.db.execute(sql.raw(`drop trigger if exists kenbaar_test_slow on registrations`));
      await slow.close();
    }
  });

  it('parameterised statements are prepared once per connection (the driver names them)', async () => {
    const one = await openDatabase({ url: cluster.url, max: 1 });
    try {
      for (let i = 0; i < 3; i++) await one.db.execute(sql`select ${i}::int + 1 as n`);
      const prepared = await rowsOf<{ name: string; statement: string }>(one.db, sql`select name, statement from pg_prepared_statements where name <> ''`);
      expect(prepared.filter((p) => p.statement.includes('::int + 1'))).toHaveLength(1);
    } finally {
      await one.close();
    }
  });

  it('no connection is left checked out after the outages: the pool closes at once', async () => {
    await running.stop();
    closed = database.close();
    const outcome = await Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('connections still checked out'), 5_000))]);
    expect(outcome).toBe('closed');
  });
});
