// Operators' view: one JSON access log line per request (request id, route template, status,
// duration, partner, role, rule; never a pseudonym, contact detail or free text), and Prometheus
// metrics at /metrics behind their own token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { HubClient } from '../src/client/client';
import type { Logger } from '../src/log';
import { send, tokenFor } from './support/http';
import { dbKind, startTestHub, type TestHub } from './support/hub';
import { contact, person } from './support/people';

const METRICS_TOKEN = 'metrics-secret-for-the-test';

describe(`access log and metrics (${dbKind})`, () => {
  let hub: TestHub;
  let app: ReturnType<typeof createApp>;
  const lines: Record<string, unknown>[] = [];
  const log: Logger = (level, event, fields) => void lines.push({ level, event, ...fields });
  let client: (partner: string, role: string, sub?: string) => Promise<HubClient>;

  beforeAll(async () => {
    hub = await startTestHub();
    // The same config and database, served by an app with the access log and metrics on (as serve does).
    app = createApp(() => ({ config: hub.config, db: hub.database.db, clock: hub.clock, log }), {
      accessLog: true,
      metrics: { token: METRICS_TOKEN, pool: () => ({ total: 3, idle: 2, waiting: 0 }) },
    });
    const fetchImpl = ((input: RequestInfo | URL, init?: RequestInit) => app.request(String(input), init)) as typeof fetch;
    client = async (partner, role, sub) => new HubClient('http://hub.test', hub.config.hubId, await hub.identity(partner, role, sub), fetchImpl, hub.clock);
  });
  afterAll(() => hub?.close());

  it('writes one access line per request with ids and codes, and no pseudonym, contact or reference', async () => {
    lines.length = 0;
    const p = person();
    const reg = { subject: p.subject, category: 'politie-betrokkenheid', contact: { function: 'Wijkagent Jansen', phone: '+31 6 12345678' }, reference: 'BVH-2026-SECRET' };
    const registered = await (await client('politie', 'partner-system')).register(reg);
    await (await client('gemeente', 'procesregisseur', 'pr-1')).lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-CASE-REF-77');
    await app.request(`/v1/registrations/${registered.id}`, { method: 'DELETE' }); // no token: 401
    const access = lines.filter((l) => l.event === 'http.request');
    expect(access).toHaveLength(3);
    expect(access[0]).toMatchObject({ level: 'info', method: 'POST', route: '/v1/registrations', status: 201, partner: 'politie', role: 'partner-system', rule: 'R-POLITIE' });
    expect(access[1]).toMatchObject({ method: 'POST', route: '/v1/lookups', status: 200, partner: 'gemeente', role: 'procesregisseur' });
    expect(access[1]!.rule).toEqual(expect.any(String));
    expect(access[2]).toMatchObject({ route: '/v1/registrations/:id', status: 401 });
    for (const a of access) {
      expect(a.requestId).toEqual(expect.any(String));
      expect(a.durationMs).toEqual(expect.any(Number));
    }
    const text = JSON.stringify(lines);
    for (const secret of [p.subject, 'Wijkagent Jansen', '12345678', 'BVH-2026-SECRET', 'ZVH-CASE-REF-77', registered.id]) expect(text).not.toContain(secret);
  });

  it('/metrics needs its own token: none or a partner token is 401', async () => {
    expect((await app.request('/metrics')).status).toBe(401);
    const partnerToken = await tokenFor(hub, 'politie', 'partner-system');
    expect((await app.request('/metrics', { headers: { authorization: `Bearer ${partnerToken}` } })).status).toBe(401);
    // The test hub without the option serves no metrics at all.
    expect((await send(hub, { path: '/metrics' })).status).toBe(404);
  });

  it('exposes requests by route and status, latency histograms and the state of log, queue and pool', async () => {
    await (await client('politie', 'partner-system')).register({ subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });
    const res = await app.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    expect(body).toMatch(/^kenbaar_http_requests_total\{method="POST",route="\/v1\/registrations",status="201"\} \d+$/m);
    expect(body).toMatch(/^kenbaar_http_request_duration_seconds_bucket\{method="POST",route="\/v1\/registrations",le="\+Inf"\} \d+$/m);
    expect(body).toMatch(/^kenbaar_http_request_duration_seconds_count\{method="POST",route="\/v1\/registrations"\} \d+$/m);
    for (const gauge of ['kenbaar_audit_pending_entries', 'kenbaar_audit_log_size', 'kenbaar_checkpoint_age_seconds', 'kenbaar_disclosure_queue_length', 'kenbaar_disclosure_overdue_reviews']) {
      expect(body).toMatch(new RegExp(`^# TYPE ${gauge} gauge\\n${gauge} -?\\d+$`, 'm'));
    }
    expect(body).toMatch(/^kenbaar_audit_pending_entries [1-9]\d*$/m); // the registration's entry, not yet sequenced
    expect(body).toContain('kenbaar_db_pool_connections{state="idle"} 2');
  });
});

describe('the event loop, for operators (Node edge)', () => {
  const busy = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };
  const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const gauge = (gauges: { name: string; value: number; labels?: Record<string, string> }[], name: string, quantile?: string) =>
    gauges.find((g) => g.name === name && g.labels?.quantile === quantile)!.value;

  it('reports the delay and the utilisation since the last scrape, so a blocked loop shows once', async () => {
    const { eventLoopGauges } = await import('../src/node/event-loop');
    const loop = eventLoopGauges();
    try {
      await tick(30);
      busy(200); // the loop blocked for 200 ms
      await tick(30);
      const blocked = loop.read();
      const blockedMax = gauge(blocked, 'kenbaar_event_loop_delay_seconds', '1');
      expect(blockedMax).toBeGreaterThan(0.15);
      expect(blockedMax).toBeLessThan(10); // seconds, not the histogram's nanoseconds
      expect(gauge(blocked, 'kenbaar_event_loop_utilization')).toBeGreaterThan(0.3);
      expect(gauge(blocked, 'kenbaar_event_loop_utilization')).toBeLessThanOrEqual(1);
      // The next scrape covers only the time since this one: an idle loop.
      await tick(100);
      const idle = loop.read();
      expect(gauge(idle, 'kenbaar_event_loop_delay_seconds', '1')).toBeLessThan(blockedMax);
      expect(gauge(idle, 'kenbaar_event_loop_utilization')).toBeLessThan(0.3);
      for (const q of ['0.5', '0.99']) expect(gauge(idle, 'kenbaar_event_loop_delay_seconds', q)).toBeGreaterThanOrEqual(0);
    } finally {
      loop.stop();
    }
  });

  it('serve with a metrics token exposes the event-loop gauges at /metrics', async () => {
    const { startServer } = await import('../src/node/serve');
    const hub = await startTestHub();
    const running = await startServer(hub.database, hub.config, { host: '127.0.0.1', port: 0, clock: hub.clock, accessLog: false, background: false, metricsToken: METRICS_TOKEN });
    try {
      const res = await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).toMatch(/^# TYPE kenbaar_event_loop_utilization gauge\nkenbaar_event_loop_utilization (0|1|0\.\d+|\d(\.\d+)?e-\d+)$/m);
      for (const q of ['0.5', '0.99', '1']) expect(body).toMatch(new RegExp(`^kenbaar_event_loop_delay_seconds\\{quantile="${q.replace('.', '\\.')}"\\} [0-9.e-]+$`, 'm'));
    } finally {
      await running.stop();
      await hub.close();
    }
  });
});
