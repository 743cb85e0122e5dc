// `kenbaar/client` (package.json exports): typed from the OpenAPI document (src/client/api.gen.ts,
// openapi-typescript; `npm run client:check` in CI keeps it fresh), requests via openapi-fetch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kenbaarClient, partnerPseudonym, signPartnerToken } from 'kenbaar/client';
import { dbKind, startTestHub, type TestHub } from './support/hub';
import { COVENANT_KEY } from './support/people';

describe(`the TypeScript client kenbaar/client (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  const clientAs = async (partner: string, role: string, sub: string) => {
    const id = await hub.identity(partner, role, sub);
    return kenbaarClient({
      baseUrl: 'http://hub.test',
      token: () => signPartnerToken(id.key, { sub, role, audience: hub.config.hubId, now: hub.clock() }),
      fetch: ((input: RequestInfo | URL, init?: RequestInit) => hub.app.request(input instanceof Request ? input : String(input), init)) as typeof fetch,
    });
  };

  it('registers and looks up with typed requests and answers; a refusal is a typed problem', async () => {
    const subject = partnerPseudonym(COVENANT_KEY, '123456782');
    const vz = await clientAs('verslavingszorg', 'partner-system', 'vz-ts');
    const registered = await vz.POST('/v1/registrations', {
      params: { header: { 'idempotency-key': 'ts-client-1' } },
      body: { subject, category: 'verslavingszorg-behandeling', contact: { function: 'Intake', phone: '+31 38 123 4567' } },
    });
    expect(registered.response.status).toBe(201);
    expect(registered.data?.created).toBe(true);
    const pr = await clientAs('gemeente', 'procesregisseur', 'pr-ts');
    const { data, error } = await pr.POST('/v1/lookups', { body: { subject, purpose: 'procesregie-casus-op-maat', caseRef: 'TS-2026-1' } });
    expect(error).toBeUndefined();
    expect(data!.knownBy.map((k) => k.partner)).toContain('verslavingszorg');
    const refused = await pr.POST('/v1/lookups', { body: { subject, purpose: 'no-such-purpose', caseRef: 'TS-2026-2' } });
    expect(refused.error?.type).toMatch(/^\/problems\//);
  });
});
