// Rate limits from the covenant: lookups per minute per professional and per partner. Over the
// limit: 429 rate-limited with Retry-After, logged as a rejected attempt (rule rate-limit).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Covenant } from '../src/covenant/index';
import { loadCovenant } from '../src/covenant/load';
import { DEFAULT_COVENANT_DIR, readCovenantDir } from '../src/node/covenant-fs';
import { auditOf, send, tokenFor } from './support/http';
import { dbKind, demoCovenant, startTestHub, type TestHub } from './support/hub';
import { person } from './support/people';

/** The demo covenant with the gemeente's limits made small enough to reach in a test. */
function withGemeenteLimits(perProfessional: number, perPartner: number): Covenant {
  const cov = demoCovenant();
  const partners = new Map(cov.partners);
  partners.set('gemeente', { ...cov.partners.get('gemeente')!, rateLimits: { lookupsPerMinutePerProfessional: perProfessional, lookupsPerMinutePerPartner: perPartner } });
  return { ...cov, partners };
}

describe('rate limits in the covenant', () => {
  it('the demo covenant sets a default for every partner; a partner may replace it key by key', () => {
    const cov = demoCovenant();
    expect(cov.partners.get('gemeente')!.rateLimits).toEqual({ lookupsPerMinutePerProfessional: 60, lookupsPerMinutePerPartner: 3000 });
    expect(cov.partners.get('politie')!.rateLimits).toEqual({ lookupsPerMinutePerProfessional: 60, lookupsPerMinutePerPartner: 6000 });
  });

  it('a misspelt limit is a covenant error', () => {
    const files = readCovenantDir(DEFAULT_COVENANT_DIR);
    const misspelt = { ...files, 'partners.yaml': files['partners.yaml']!.replace('lookupsPerMinutePerPartner: 6000', 'lookupsPerMinute: 6000') };
    expect(() => loadCovenant(misspelt)).toThrow(/lookupsPerMinute/);
  });
});

describe(`lookups over the covenant's rate limits (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ covenant: withGemeenteLimits(3, 5) });
  });
  afterAll(() => hub?.close());

  const lookup = async (sub: string) =>
    send(hub, {
      path: '/v1/lookups',
      token: await tokenFor(hub, 'gemeente', 'procesregisseur', sub),
      json: { subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-2026-9' },
    });

  it('a professional over the limit gets 429 with Retry-After, logged as a rejected attempt; after the wait it works again', async () => {
    for (let i = 0; i < 3; i++) expect((await lookup('pr-a')).status).toBe(200);
    const refused = await lookup('pr-a');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ type: '/problems/rate-limited', rule: 'rate-limit' });
    expect(Number(refused.headers.get('retry-after'))).toBe(20); // one lookup per 20 s refills
    const [entry] = await auditOf(hub, refused.requestId);
    expect(entry).toMatchObject({ action: 'request.rejected', outcome: 'rejected', rule: 'rate-limit', actorSub: 'pr-a' });
    expect(entry!.detail).toMatchObject({ status: 429, type: 'rate-limited' });
    hub.clock.advance(20_000);
    expect((await lookup('pr-a')).status).toBe(200);
  });

  it("the partner's limit counts all its professionals together; another partner is not affected", async () => {
    hub.clock.advance(60_000);
    for (const sub of ['pr-b', 'pr-c', 'pr-d', 'pr-e', 'pr-f']) expect((await lookup(sub)).status).toBe(200);
    expect((await lookup('pr-g')).status).toBe(429);
    const police = await send(hub, {
      path: '/v1/lookups',
      token: await tokenFor(hub, 'politie', 'professional'),
      json: { subject: person().subject, purpose: 'acuut-veiligheidsrisico', caseRef: 'PL-1' },
    });
    expect(police.status).not.toBe(429);
  });
});

describe(`a family lookup costs one lookup per subject (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ covenant: withGemeenteLimits(5, 100) });
  });
  afterAll(() => hub?.close());

  const family = async (sub: string, size: number) =>
    send(hub, {
      path: '/v1/lookups/family',
      token: await tokenFor(hub, 'gemeente', 'procesregisseur', sub),
      json: { subjects: Array.from({ length: size }, () => person().subject), purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-2026-9' },
    });

  it('a household of three and one of two use up a limit of five; the next single subject waits', async () => {
    expect((await family('pr-h', 3)).status).toBe(200);
    expect((await family('pr-h', 2)).status).toBe(200);
    const refused = await family('pr-h', 1);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBe(12); // one lookup per 12 s refills
  });

  it('a household larger than what is left waits until enough has refilled', async () => {
    hub.clock.advance(60_000);
    expect((await family('pr-i', 4)).status).toBe(200);
    const refused = await family('pr-i', 3); // one left, three asked: two more to refill
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBe(24);
    hub.clock.advance(24_000);
    expect((await family('pr-i', 3)).status).toBe(200);
  });

  it('a household larger than the whole per-minute limit is refused without a Retry-After that could not help', async () => {
    hub.clock.advance(60_000);
    const refused = await family('pr-j', 6);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ type: '/problems/rate-limited', rule: 'rate-limit' });
    expect(refused.headers.get('retry-after')).toBeNull();
    expect((await family('pr-j', 5)).status).toBe(200);
  });
});

describe('the rate limiter keeps a bounded number of buckets', () => {
  it('forgets the least recently used bucket beyond its bound, not one in use', async () => {
    const { memoryRateLimiter } = await import('../src/rate-limit/limiter');
    const limiter = memoryRateLimiter(2);
    const now = new Date('2026-11-23T09:00:00Z');
    const take = (key: string) => limiter.take([{ key, perMinute: 2 }], now);
    expect(take('sub:a')).toBe(0);
    expect(take('sub:b')).toBe(0);
    expect(take('sub:a')).toBe(0); // a's second and last token this minute: a is now the most recent
    expect(take('sub:c')).toBe(0); // a third bucket: b, the least recently used, is forgotten
    expect(take('sub:a')).toBeGreaterThan(0); // a is still counted
    expect(take('sub:b')).toBe(0); // b starts afresh
  });
});
