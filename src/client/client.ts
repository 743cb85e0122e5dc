// A small typed client of the hub's HTTP API, used by the CLI, the demo, the benchmarks and the
// end-to-end tests. One fresh token per call (the hub refuses a replayed jti).
import type { ProblemBody } from '../errors';
import { signPartnerToken, type PartnerSigningKey } from './token';

export type Identity = { key: PartnerSigningKey; sub: string; role: string };

export class HubError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemBody,
  ) {
    super(`${status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}${problem.rule ? ` (rule ${String(problem.rule)})` : ''}`);
  }
}

export type Contact = { function: string; phone?: string; email?: string };
export type RegistrationInput = { subject: string; category: string; contact: Contact; reference?: string; expiresAt?: string };
export type KnownBy = { partner: string; partnerName: string; domain: string; contact: Contact; since: string };
export type LookupResult = { lookupId: string; knownBy: KnownBy[]; decision: { policyVersion: string; rules: string[] } };
export type MatchNotice = { id: number; at: string; registrationId: string; reference: string | null; knownBy: KnownBy; rule: string };

export class HubClient {
  constructor(
    readonly baseUrl: string,
    readonly audience: string,
    readonly identity: Identity,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  as(identity: Identity): HubClient {
    return new HubClient(this.baseUrl, this.audience, identity, this.fetchImpl, this.clock);
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = await signPartnerToken(this.identity.key, { sub: this.identity.sub, role: this.identity.role, audience: this.audience, now: this.clock() });
    const res = await this.fetchImpl(new URL(path, this.baseUrl), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (res.status === 204) return undefined as T;
    const json = (await res.json()) as unknown;
    if (!res.ok) throw new HubError(res.status, json as ProblemBody);
    return json as T;
  }

  register(input: RegistrationInput) {
    return this.call<{ id: string; created: boolean; category: string; since: string; expiresAt: string }>('POST', '/v1/registrations', input);
  }

  registerBatch(items: RegistrationInput[]) {
    return this.call<{ registered: number; created: number; items: { id: string; created: boolean }[] }>('POST', '/v1/registrations/batch', { items });
  }

  endRegistration(id: string) {
    return this.call<void>('DELETE', `/v1/registrations/${encodeURIComponent(id)}`);
  }

  lookup(subject: string, purpose: string, caseRef: string) {
    return this.call<LookupResult>('POST', '/v1/lookups', { subject, purpose, caseRef });
  }

  matches(after = 0, limit = 100) {
    return this.call<{ matches: MatchNotice[]; next: number }>('GET', `/v1/matches?after=${after}&limit=${limit}`);
  }

  checkpoint() {
    return this.call<{ size: number; root: string; issuedAt: string; kid: string; jws: string }>('POST', '/v1/audit/checkpoints');
  }

  auditEntries(query: { subject?: string; after?: number; limit?: number } = {}) {
    const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
    return this.call<{ entries: Record<string, unknown>[]; next: number }>('GET', `/v1/audit/entries?${qs}`);
  }
}
