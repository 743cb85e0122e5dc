// Listing disclosure requests (readableRequests) on a real database, with the demo covenant: the
// covenant hides most rows from a reader, so the listing pages on past a full page of requests the
// reader may not see, returns at most `limit` of those it may, oldest first, and keeps the filter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/covenant/index';
import { insertRequest, type DisclosureRequestRow } from '../src/disclosures/repo';
import { readableRequests } from '../src/disclosures/service';
import type { Database } from '../src/node/database';
import { dbKind, demoCovenant, testDatabase } from './support/hub';

const T0 = new Date('2026-11-23T09:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** The gemeente's regular request to verslavingszorg: the politie's informatiemakelaar may not weigh or read it. */
const gemeenteToVz = (n: number): DisclosureRequestRow => ({
  id: uuid(n), requester: 'gemeente', requesterSub: 'pr', requesterRole: 'procesregisseur', holder: 'verslavingszorg', holderRegistrationId: uuid(9000 + n),
  subject: `s${n}`, purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33', categories: ['behandelrelatie'], caseRef: `ZVH-${n}`, justificationHash: 'sha256:00',
  jws: 'sealed', jti: `jti-${n}`, urgency: 'regular', rule: 'DX-PR-01', approvalsNeeded: 2, approvers: 'distinct-partners', status: 'pending', reviewStatus: null,
  reviewDueAt: null, overdueLoggedAt: null, createdAt: at(n), closedAt: null,
});

/** The politie's own break-glass at Veilig Thuis: its informatiemakelaar reads it as the requesting organisation. */
const politieToVt = (n: number): DisclosureRequestRow => ({
  ...gemeenteToVz(n), requester: 'politie', requesterSub: 'agent', requesterRole: 'professional', holder: 'veilig-thuis', purpose: 'acuut-veiligheidsrisico',
  legalBasis: 'avg-6-1-d', categories: ['huiselijk-geweld-meldingen'], urgency: 'emergency', rule: 'DX-AV-01', approvalsNeeded: 0, status: 'approved',
  reviewStatus: 'due', reviewDueAt: at(n + 24 * 60), closedAt: at(n),
});

describe(`listing the requests a reader may see (${dbKind})`, () => {
  let database: Database;
  const covenant = demoCovenant();
  const politieBroker: Actor = { partner: 'politie', role: 'informatiemakelaar', sub: 'im-politie' };
  const ids = (shown: { row: { id: string } }[]) => shown.map((s) => s.row.id);

  beforeAll(async () => {
    database = await testDatabase();
    // A full page (100) and more of requests the reader may not see, then three it may.
    for (let n = 1; n <= 130; n++) expect(await insertRequest(database.db, gemeenteToVz(n))).toBe(true);
    for (const n of [131, 132, 133]) expect(await insertRequest(database.db, politieToVt(n))).toBe(true);
    await insertRequest(database.db, { ...politieToVt(134), status: 'pending', reviewStatus: null, reviewDueAt: null, closedAt: null });
  });
  afterAll(() => database?.close());

  it('pages on past a full page the reader may not see, and returns at most limit, oldest first', async () => {
    expect(ids(await readableRequests(database.db, covenant, politieBroker, {}, 2))).toEqual([uuid(131), uuid(132)]);
    expect(ids(await readableRequests(database.db, covenant, politieBroker, {}, 1))).toEqual([uuid(131)]);
    expect(ids(await readableRequests(database.db, covenant, politieBroker, {}, 500))).toEqual([uuid(131), uuid(132), uuid(133), uuid(134)]);
  });

  it('each shown request carries the rule that let the reader see it', async () => {
    const shown = await readableRequests(database.db, covenant, politieBroker, {}, 1);
    expect(shown[0]!.rule).toBe('requesting-organisation');
  });

  it('keeps the filter: only the approved ones, only this holder', async () => {
    expect(ids(await readableRequests(database.db, covenant, politieBroker, { status: 'pending' }, 500))).toEqual([uuid(134)]);
    expect(ids(await readableRequests(database.db, covenant, politieBroker, { status: 'approved' }, 500))).toEqual([uuid(131), uuid(132), uuid(133)]);
    expect(await readableRequests(database.db, covenant, politieBroker, { holder: 'verslavingszorg' }, 500)).toEqual([]);
  });
});
