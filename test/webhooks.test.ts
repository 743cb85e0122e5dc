// Webhooks for partners who would rather be told than poll: a new match notice, and break-glass on
// one of their registrations, POSTed with Standard Webhooks signatures to a real HTTP receiver on
// this machine, verified with the `standardwebhooks` package as a partner would. Written to the
// outbox in the notice's own transaction; retried with backoff; each row delivered once even with
// two delivery loops; ids and codes only in the payload and the server log.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { rowsOf, type Queryable } from '../src/db/types';
import { toBase64 } from '../src/encoding';
import { jsonLogger } from '../src/log';
import { readSettings } from '../src/node/env';
import { startBackgroundWork } from '../src/node/serve';
import { checkItems, register } from '../src/registrations/service';
import { parseWebhooks, WebhookConfigError, type Webhooks } from '../src/webhooks/config';
import { afterAttempt, DEFAULT_DELIVERY_POLICY, deliverWebhooks, type DeliveryPolicy } from '../src/webhooks/deliver';
import { enqueueWebhooks, WEBHOOK_RETENTION_DAYS } from '../src/webhooks/outbox';
import { purge } from '../src/retention/purge';
import { breakGlassAtVeiligThuis } from './support/disclosure';
import { dbKind, demoCovenant, startTestHub, type TestHub } from './support/hub';
import { contact, person } from './support/people';

type Received = { headers: Record<string, string>; body: string };

/** A partner's webhook endpoint: records what it gets, answers the statuses queued (else 204), after `delayMs`. */
async function startReceiver() {
  const received: Received[] = [];
  const answers: number[] = [];
  const state = { delayMs: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body: Buffer.concat(chunks).toString('utf8') });
      const status = answers.shift() ?? 204;
      setTimeout(() => res.writeHead(status).end(), state.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/kenbaar-hooks`;
  return { url, received, answers, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const secretOf = (seed: number) => `whsec_${toBase64(new Uint8Array(32).map((_, i) => (i * 29 + seed) % 256))}`;
const GEMEENTE_SECRET = secretOf(7);
const VT_SECRET = secretOf(13);

type Row = { id: string; partner: string; type: string; status: string; attempts: number; next_attempt_at: Date | string; last_result: string | null };
const outbox = async (q: Queryable) => rowsOf<Row>(q, sql`select id, partner, type, status, attempts, next_attempt_at, last_result from webhook_deliveries order by created_at, id`);

describe(`webhooks (${dbKind})`, () => {
  let hub: TestHub;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let webhooks: Webhooks;
  const lines: string[] = [];
  const log = jsonLogger((line) => lines.push(line));
  const policy: DeliveryPolicy = { ...DEFAULT_DELIVERY_POLICY, timeoutMs: 3000 };
  const round = (p: DeliveryPolicy = policy) => deliverWebhooks(hub.database.db, hub.config, hub.clock, log, p);
  const events = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(async () => {
    receiver = await startReceiver();
    // As the edge reads KENBAAR_WEBHOOKS: gemeente and Veilig Thuis are told; the police poll.
    webhooks = parseWebhooks(
      JSON.stringify({ gemeente: { url: receiver.url, secret: GEMEENTE_SECRET }, 'veilig-thuis': { url: receiver.url, secret: VT_SECRET } }),
      demoCovenant().partners,
    );
    hub = await startTestHub({ webhooks, log }); // the requests' server log lines too
  });
  afterAll(async () => {
    await hub?.close();
    await receiver?.close();
  });
  beforeEach(async () => {
    // Standard Webhooks receivers refuse timestamps more than 5 minutes off their own clock.
    hub.clock.set(new Date());
    await rowsOf(hub.database.db, sql`delete from webhook_deliveries`);
    receiver.received.length = 0;
    receiver.answers.length = 0;
    receiver.state.delayMs = 0;
    lines.length = 0;
  });

  /** The police and the gemeente register the same person: each gets a notice; only the gemeente has a webhook. */
  async function matchForGemeente() {
    const p = person();
    const police = await hub.as('politie', 'partner-system');
    const gemeente = await hub.as('gemeente', 'partner-system');
    await police.register({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });
    const own = await gemeente.register({ subject: p.subject, category: 'procesregie', contact: contact('Procesregisseur ZVH'), reference: 'ZVH-2026-0142' });
    return { p, own, gemeente };
  }

  it('a new match notice is delivered to the partner’s URL, signed so that standardwebhooks verifies it, and points at the feed', async () => {
    const { own, gemeente } = await matchForGemeente();
    const queued = await outbox(hub.database.db);
    expect(queued.map((r) => [r.partner, r.type, r.status])).toEqual([['gemeente', 'match.created', 'pending']]); // the police poll: no row

    expect(await round()).toEqual({ delivered: 1, retried: 0, failed: 0 });
    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['webhook-id']).toBe(queued[0]!.id);
    const payload = new Webhook(GEMEENTE_SECRET).verify(got!.body, got!.headers) as { type: string; timestamp: string; data: Record<string, unknown> };

    const [notice] = (await gemeente.matches()).matches.filter((m) => m.registrationId === own.id);
    expect(payload).toEqual({ type: 'match.created', timestamp: expect.any(String), data: { matchId: notice!.id, registrationId: own.id, rule: notice!.rule } });
    expect((await outbox(hub.database.db))[0]).toMatchObject({ status: 'delivered', attempts: 1, last_result: '204' });
    expect(events().find((e) => e.event === 'webhook.delivered')).toMatchObject({ delivery: queued[0]!.id, partner: 'gemeente', type: 'match.created', attempt: 1, result: '204' });
    // Delivered once: the next round has nothing to send.
    expect(await round()).toEqual({ delivered: 0, retried: 0, failed: 0 });
  });

  it('the signature fails with another secret, and with a body changed on the way', async () => {
    await matchForGemeente();
    await round();
    const [got] = receiver.received;
    expect(() => new Webhook(VT_SECRET).verify(got!.body, got!.headers)).toThrow();
    expect(() => new Webhook(GEMEENTE_SECRET).verify(got!.body.replace('match.created', 'match.createe'), got!.headers)).toThrow();
    expect(() => new Webhook(GEMEENTE_SECRET).verify(got!.body, got!.headers)).not.toThrow();
  });

  it('the payload and the server log hold ids and codes only: no pseudonym, contact or reference', async () => {
    const { p } = await matchForGemeente();
    await round();
    const [stored] = await rowsOf<{ subject: string }>(hub.database.db, sql`select subject from registrations where reference = 'ZVH-2026-0142' order by created_at desc limit 1`);
    const said = [receiver.received[0]!.body, ...lines].join('\n');
    for (const secret of [p.subject, p.bsn, stored!.subject, '+31 38 123 4567', 'Procesregisseur ZVH', 'Wijkagent', 'ZVH-2026-0142']) expect(said).not.toContain(secret);
    expect(Object.keys((JSON.parse(receiver.received[0]!.body) as { data: object }).data).sort()).toEqual(['matchId', 'registrationId', 'rule']);
  });

  it('a 500 is retried after 30 s (not before), with the same webhook-id, then delivered', async () => {
    await matchForGemeente();
    receiver.answers.push(500);
    expect(await round()).toEqual({ delivered: 0, retried: 1, failed: 0 });
    const [row] = await outbox(hub.database.db);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_result: '500' });
    expect(new Date(row!.next_attempt_at).getTime()).toBe(hub.clock.now.getTime() + 30_000);
    expect(events().find((e) => e.event === 'webhook.retry')).toMatchObject({ partner: 'gemeente', attempt: 1, result: '500' });

    hub.clock.advance(29_000);
    expect(await round()).toEqual({ delivered: 0, retried: 0, failed: 0 });
    hub.clock.advance(1_000);
    expect(await round()).toEqual({ delivered: 1, retried: 0, failed: 0 });
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([row!.id, row!.id]);
    expect((await outbox(hub.database.db))[0]).toMatchObject({ status: 'delivered', attempts: 2, last_result: '204' });
  });

  it('backoff doubles from 30 s, and after the eighth failed attempt the delivery is failed', () => {
    const now = new Date('2026-12-01T10:00:00Z');
    const waits = [1, 2, 3, 4, 5, 6, 7].map((n) => {
      const s = afterAttempt(DEFAULT_DELIVERY_POLICY, n, false, '503', now);
      return s.status === 'pending' ? (s.retryAt.getTime() - now.getTime()) / 1000 : s.status;
    });
    expect(waits).toEqual([30, 60, 120, 240, 480, 960, 1920]);
    expect(afterAttempt(DEFAULT_DELIVERY_POLICY, 8, false, '503', now).status).toBe('failed');
    expect(afterAttempt(DEFAULT_DELIVERY_POLICY, 8, true, '200', now).status).toBe('delivered');
  });

  it('a receiver that never answers 2xx ends failed after the last attempt, logged webhook.failed', async () => {
    await matchForGemeente();
    const short: DeliveryPolicy = { ...policy, maxAttempts: 2 };
    receiver.answers.push(503, 503);
    expect(await round(short)).toMatchObject({ retried: 1 });
    hub.clock.advance(30_000);
    expect(await round(short)).toMatchObject({ failed: 1 });
    expect((await outbox(hub.database.db))[0]).toMatchObject({ status: 'failed', attempts: 2, last_result: '503' });
    expect(events().find((e) => e.event === 'webhook.failed')).toMatchObject({ partner: 'gemeente', type: 'match.created', attempt: 2, result: '503' });
  });

  it('no webhook without a committed notice: a registration whose transaction rolls back leaves no outbox row', async () => {
    const p = person();
    await (await hub.as('politie', 'partner-system')).register({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });
    const actor = { partner: 'gemeente', role: 'partner-system', sub: 'gemeente-user' };
    const now = hub.clock();
    const { ok } = checkItems(hub.config.covenant, actor, [{ subject: p.subject, category: 'procesregie', contact: contact('Procesregisseur ZVH') }], now);
    const env = { covenant: hub.config.covenant, hubKeys: hub.config.hubKeys, now, webhooks };
    await expect(
      hub.database.db.transaction(async (tx) => {
        await register(tx, env, actor, ok, async () => {});
        expect(await outbox(tx)).toHaveLength(1); // written, inside the transaction
        throw new Error('the audit append failed');
      }),
    ).rejects.toThrow('the audit append failed');
    expect(await outbox(hub.database.db)).toHaveLength(0);
    expect(await round()).toEqual({ delivered: 0, retried: 0, failed: 0 });
    expect(receiver.received).toHaveLength(0);
  });

  it('break-glass on a registration of Veilig Thuis is delivered to Veilig Thuis, signed with its own secret', async () => {
    const agent = await hub.as('politie', 'professional', 'agent-webhooks');
    const { request, grant } = await breakGlassAtVeiligThuis(hub, agent, {
      caseRef: 'PL-WEBHOOK',
      justification: 'Melding 112: dreiging met geweld, kinderen in huis; eerdere meldingen zijn nu nodig voor de inschatting.',
    });
    expect(grant).not.toBeNull();
    expect(await round()).toMatchObject({ delivered: 1 });
    const [got] = receiver.received;
    const payload = new Webhook(VT_SECRET).verify(got!.body, got!.headers) as { type: string; data: Record<string, unknown> };
    const [holderRegistration] = await rowsOf<{ holder_registration_id: string }>(hub.database.db, sql`select holder_registration_id from disclosure_requests where id = ${request.id}`);
    expect(payload).toMatchObject({ type: 'disclosure.break-glass', data: { requestId: request.id, registrationId: holderRegistration!.holder_registration_id, requester: 'politie', grantId: grant!.id } });
    expect(got!.body).not.toContain('PL-WEBHOOK');
    expect(() => new Webhook(GEMEENTE_SECRET).verify(got!.body, got!.headers)).toThrow();
  });

  it('exactly once under two delivery loops running at once (FOR UPDATE SKIP LOCKED, leases)', async () => {
    const n = 24;
    await enqueueWebhooks(
      hub.database.db,
      webhooks,
      Array.from({ length: n }, (_, i) => ({ partner: 'gemeente', type: 'match.created' as const, data: { matchId: 100_000 + i, registrationId: crypto.randomUUID(), rule: 'M-PR-01' } })),
      hub.clock(),
    );
    receiver.state.delayMs = 20;
    const small: DeliveryPolicy = { ...policy, batch: 5 };
    const loop = async () => {
      let delivered = 0;
      for (let r = await round(small); r.delivered > 0; r = await round(small)) delivered += r.delivered;
      return delivered;
    };
    const [a, b] = await Promise.all([loop(), loop()]);
    expect(a + b).toBe(n);
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(ids).toHaveLength(n);
    expect(new Set(ids).size).toBe(n);
    expect((await outbox(hub.database.db)).every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
  });

  it('on Node, the background work delivers them on its timer (the primary’s, under --workers)', async () => {
    await matchForGemeente();
    const stop = startBackgroundWork(hub.database, hub.config, hub.clock, { integrateMs: 600_000, checkpointMs: 600_000, purgeMs: 600_000, webhooksMs: 20 }, log);
    try {
      await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(1);
    } finally {
      await stop();
    }
    expect((await outbox(hub.database.db))[0]).toMatchObject({ status: 'delivered' });
  });

  it('the hourly purge forgets deliveries settled more than a week ago, never a pending one', async () => {
    await matchForGemeente();
    await round();
    await matchForGemeente(); // stays pending
    const week = WEBHOOK_RETENTION_DAYS * 86_400_000;
    expect((await purge(hub.database.db, hub.config.covenant, new Date(hub.clock.now.getTime() + week - 60_000))).webhookDeliveriesForgotten).toBe(0);
    expect((await purge(hub.database.db, hub.config.covenant, new Date(hub.clock.now.getTime() + week + 60_000))).webhookDeliveriesForgotten).toBe(1);
    expect((await outbox(hub.database.db)).map((r) => r.status)).toEqual(['pending']);
  });

  it('/metrics counts the deliveries pending', async () => {
    await matchForGemeente();
    const app = createApp(() => ({ config: hub.config, db: hub.database.db, clock: hub.clock, log }), { metrics: { token: 'metrics-token' } });
    const scrape = async () => (await (await app.request('/metrics', { headers: { authorization: 'Bearer metrics-token' } })).text()).match(/^kenbaar_webhook_pending_deliveries (\d+)$/m)?.[1];
    expect(await scrape()).toBe('1');
    await round();
    expect(await scrape()).toBe('0');
  });
});

describe('KENBAAR_WEBHOOKS', () => {
  const partners = demoCovenant().partners;
  it('is read by the Node edge as a secret setting (parsed against the covenant when the hub loads)', () => {
    expect(readSettings({ KENBAAR_WEBHOOKS: '{"gemeente":{}}' }).webhooksSecret).toBe('{"gemeente":{}}');
    expect(readSettings({}).webhooksSecret).toBeUndefined();
  });

  it('unset or empty: nobody is told by webhook', () => {
    expect(parseWebhooks(undefined, partners).size).toBe(0);
    expect(parseWebhooks('  ', partners).size).toBe(0);
  });

  it('refuses, naming the place and never quoting a secret: bad JSON, a partner the covenant does not name, a bad URL or secret', () => {
    const bad = (value: unknown) => {
      try {
        parseWebhooks(typeof value === 'string' ? value : JSON.stringify(value), partners);
      } catch (e) {
        expect(e).toBeInstanceOf(WebhookConfigError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad('{')).toMatch(/not valid JSON/);
    expect(bad({ onbekend: { url: 'https://x.example/h', secret: GEMEENTE_SECRET } })).toMatch(/KENBAAR_WEBHOOKS\.onbekend: the covenant names no such partner/);
    expect(bad({ gemeente: { url: 'ftp://x.example/h', secret: GEMEENTE_SECRET } })).toMatch(/KENBAAR_WEBHOOKS\.gemeente\.url/);
    expect(bad({ gemeente: { url: 'https://x.example/h', secret: 'geheim-wachtwoord' } })).toMatch(/KENBAAR_WEBHOOKS\.gemeente\.secret/);
    expect(bad({ gemeente: { url: 'https://x.example/h', secret: 'geheim-wachtwoord' } })).not.toContain('geheim');
    expect(bad({ gemeente: { url: 'https://x.example/h', secret: `whsec_${toBase64(new Uint8Array(8))}` } })).toMatch(/24 to 64 bytes/);
    expect(bad({ gemeente: { url: 'https://x.example/h', secret: GEMEENTE_SECRET, extra: 1 } })).toMatch(/KENBAAR_WEBHOOKS\.gemeente/);
  });
});
