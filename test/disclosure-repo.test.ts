// The disclosure data-access module against a real database: each filter narrows by its own column,
// the keyset cursor pages without skipping or repeating, deadlines are inclusive ("due at 10:00" is
// due at 10:00), a wiped hand-over is gone from what is pending, and each insert is once only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countQueue,
  expiredHandovers,
  getGrant,
  grantOfRequest,
  handoverOfRequest,
  insertDecision,
  insertGrant,
  insertHandover,
  insertRequest,
  listRequests,
  openForBrokers,
  overdueReviews,
  pendingHandoverOfRequest,
  revokeGrant,
  wipeHandover,
  type DisclosureRequestRow,
} from '../src/disclosures/repo';
import type { Database } from '../src/node/database';
import { dbKind, testDatabase } from './support/hub';

const T0 = new Date('2026-11-23T09:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
// Ids that sort in the order they are written, so the cursor's tie-break on id is checked too.
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const request = (n: number, change: Partial<DisclosureRequestRow> = {}): DisclosureRequestRow => ({
  id: uuid(n), requester: 'gemeente', requesterSub: 'pr', requesterRole: 'procesregisseur', holder: 'verslavingszorg', holderRegistrationId: uuid(9000 + n),
  subject: `s${n}`, purpose: 'procesregie', legalBasis: 'uavg', categories: ['behandelrelatie'], caseRef: `R-${n}`, justificationHash: 'sha256:00', jws: 'sealed', jti: `jti-${n}`,
  urgency: 'regular', rule: 'R', approvalsNeeded: 2, approvers: 'distinct-partners', status: 'pending', reviewStatus: null, reviewDueAt: null, overdueLoggedAt: null,
  createdAt: at(n), closedAt: null, ...change,
});

describe(`the disclosure repository (${dbKind})`, () => {
  let database: Database;
  const db = () => database.db;
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

  beforeAll(async () => {
    database = await testDatabase();
    const rows = [
      request(1),
      request(2, { status: 'approved', holder: 'ggz' }),
      request(3, { status: 'rejected', purpose: 'acuut' }),
      request(4, { requester: 'politie', urgency: 'emergency', holder: 'veilig-thuis', status: 'approved', reviewStatus: 'due', reviewDueAt: at(100) }),
      request(5, { requester: 'politie', urgency: 'emergency', holder: 'veilig-thuis', status: 'approved', reviewStatus: 'due', reviewDueAt: at(90) }),
      request(6, { requester: 'politie', urgency: 'emergency', holder: 'veilig-thuis', status: 'approved', reviewStatus: 'justified', reviewDueAt: at(10) }),
      // Same moment as 6, higher id: after it in (createdAt, id) order.
      request(7, { createdAt: at(6), requester: 'ggz', holder: 'gemeente' }),
    ];
    for (const r of rows) expect(await insertRequest(db(), r)).toBe(true);
  });
  afterAll(() => database?.close());

  it('a request jti is used once per requester', async () => {
    expect(await insertRequest(db(), request(50, { jti: 'jti-1' }))).toBe(false);
    expect(await insertRequest(db(), request(51, { jti: 'jti-1', requester: 'ggz' }))).toBe(true);
    await db().execute(`delete from disclosure_requests where id = '${uuid(51)}'`);
  });

  it('each filter narrows by its own column; together they all hold', async () => {
    const list = (f: Partial<Parameters<typeof listRequests>[1]>) => listRequests(db(), { limit: 100, ...f }).then(ids);
    expect(await list({})).toEqual([1, 2, 3, 4, 5, 6, 7].map(uuid));
    expect(await list({ status: 'approved' })).toEqual([2, 4, 5, 6].map(uuid));
    expect(await list({ purpose: 'acuut' })).toEqual([uuid(3)]);
    expect(await list({ holder: 'ggz' })).toEqual([uuid(2)]);
    expect(await list({ requester: 'politie' })).toEqual([4, 5, 6].map(uuid));
    expect(await list({ urgency: 'emergency' })).toEqual([4, 5, 6].map(uuid));
    // Involving: made by it or addressed to it.
    expect(await list({ involving: 'ggz' })).toEqual([2, 7].map(uuid));
    expect(await list({ involving: 'gemeente' })).toEqual([1, 2, 3, 7].map(uuid));
    expect(await list({ requester: 'politie', status: 'approved', urgency: 'emergency', holder: 'veilig-thuis', purpose: 'procesregie', involving: 'politie' })).toEqual([4, 5, 6].map(uuid));
    expect(await list({ limit: 2 })).toEqual([1, 2].map(uuid));
  });

  it('the cursor pages on after (createdAt, id): the same moment with a higher id comes after, nothing twice', async () => {
    const after = (n: number, createdAt = at(n)) => listRequests(db(), { limit: 100, after: { createdAt, id: uuid(n) } }).then(ids);
    expect(await after(5)).toEqual([6, 7].map(uuid));
    expect(await after(6)).toEqual([uuid(7)]);
    expect(await after(7, at(6))).toEqual([]);
  });

  it('a review is overdue from its deadline on, earliest first; reviewed ones never', async () => {
    expect(ids(await overdueReviews(db(), at(89)))).toEqual([]);
    expect(ids(await overdueReviews(db(), at(90)))).toEqual([uuid(5)]);
    expect(ids(await overdueReviews(db(), at(200)))).toEqual([5, 4].map(uuid));
    expect(await countQueue(db(), at(90))).toEqual({ pending: 2, overdueReviews: 1 });
    expect(await countQueue(db(), at(89))).toEqual({ pending: 2, overdueReviews: 0 });
  });

  it('brokers are shown what is pending or due for review, oldest first, filtered like the list', async () => {
    const open = (f: Partial<Parameters<typeof openForBrokers>[1]> = {}) => openForBrokers(db(), { limit: 100, ...f }).then(ids);
    expect(await open()).toEqual([1, 4, 5, 7].map(uuid));
    expect(await open({ urgency: 'emergency' })).toEqual([4, 5].map(uuid));
    expect(await open({ requester: 'ggz' })).toEqual([uuid(7)]);
    expect(await open({ holder: 'verslavingszorg' })).toEqual([uuid(1)]);
    expect(await open({ purpose: 'acuut' })).toEqual([]);
    expect(await open({ limit: 1 })).toEqual([uuid(1)]);
  });

  it('a broker decides once per request and kind; a decision jti is used once per broker organisation', async () => {
    const d = (n: number, change: Record<string, unknown> = {}) => ({
      id: uuid(100 + n), requestId: uuid(1), kind: 'decision' as const, broker: 'zvh', brokerSub: 'im', brokerRole: 'informatiemakelaar', outcome: 'approve' as const,
      categories: null, validUntil: null, reason: null, jws: 'x', passkey: null, jti: `d-${n}`, createdAt: at(n), ...change,
    });
    expect(await insertDecision(db(), d(1))).toBe(true);
    expect(await insertDecision(db(), d(2))).toBe(false); // same broker, request and kind
    expect(await insertDecision(db(), d(3, { kind: 'review' }))).toBe(true);
    expect(await insertDecision(db(), d(4, { brokerSub: 'im-2', jti: 'd-1' }))).toBe(false); // reused jti
    expect(await insertDecision(db(), d(5, { brokerSub: 'im-2' }))).toBe(true);
  });

  it('a grant is revoked once: a second revocation keeps the first moment', async () => {
    const grant = { id: uuid(200), requestId: uuid(4), requester: 'politie', holder: 'veilig-thuis', categories: ['x'], breakGlass: true, issuedAt: at(4), expiresAt: at(64), revokedAt: null, jwt: 'j' };
    await insertGrant(db(), grant);
    expect(await grantOfRequest(db(), uuid(4))).toEqual(grant);
    await revokeGrant(db(), grant.id, at(10));
    await revokeGrant(db(), grant.id, at(20));
    expect((await getGrant(db(), grant.id))!.revokedAt).toEqual(at(10));
    expect(await getGrant(db(), uuid(201))).toBeUndefined();
  });

  it('a hand-over: once per grant; pending until wiped; expired from its end on; delivered ones say when', async () => {
    const h = (n: number, grant: number, change: Record<string, unknown> = {}) => ({
      id: uuid(300 + n), grantId: uuid(grant), requestId: uuid(grant - 200 + 1), requester: 'gemeente', holder: 'verslavingszorg', ciphertext: 'c', bytes: 1, postedAt: at(0), expiresAt: at(30), ...change,
    });
    expect(await insertHandover(db(), h(1, 210))).toBe(true);
    expect(await insertHandover(db(), h(2, 210))).toBe(false);
    expect(await insertHandover(db(), h(3, 211, { expiresAt: at(40) }))).toBe(true);
    expect(ids(await expiredHandovers(db(), at(29)))).toEqual([]);
    expect(ids(await expiredHandovers(db(), at(30)))).toEqual([uuid(301)]);
    expect((await pendingHandoverOfRequest(db(), uuid(11)))!.id).toBe(uuid(301));
    await wipeHandover(db(), uuid(301), at(31), 'delivered');
    expect(await pendingHandoverOfRequest(db(), uuid(11))).toBeUndefined();
    expect(await handoverOfRequest(db(), uuid(11))).toMatchObject({ ciphertext: null, deletedAt: at(31), deleteReason: 'delivered', deliveredAt: at(31) });
    expect(ids(await expiredHandovers(db(), at(100)))).toEqual([uuid(303)]);
    await wipeHandover(db(), uuid(303), at(41), 'expired');
    expect(await handoverOfRequest(db(), uuid(12))).toMatchObject({ ciphertext: null, deletedAt: at(41), deleteReason: 'expired', deliveredAt: null });
    expect(await expiredHandovers(db(), at(100))).toEqual([]);
  });
});
