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
