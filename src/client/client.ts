// A small typed client of the hub's HTTP API, used by the CLI, the demo, the benchmarks and the
// end-to-end tests. One fresh token per call (the hub refuses a replayed jti).
import type { ProblemBody } from '../errors';
import { CompactEncrypt, compactDecrypt, importJWK, type JWK } from 'jose';
import { DOCUMENT_TYPES, type DocumentKind } from '../disclosures/signed';
import { signDocument, signPartnerToken, type PartnerSigningKey } from './token';
import type { components, operations } from './api.gen';
import type { DecisionPayload } from '../disclosures/decision';
import type { RequestPayload } from '../disclosures/service';
import { fromUtf8, unixSeconds } from '../encoding';

export type Identity = { key: PartnerSigningKey; sub: string; role: string };

export class HubError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemBody,
  ) {
    super(`${status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}${problem.rule ? ` (rule ${String(problem.rule)})` : ''}`);
  }
}

/** The API's schemas, as generated from the hub's OpenAPI document (`npm run client:generate`). */
type Schemas = components['schemas'];
/** The JSON body an operation answers with `status`. */
type Answer<O extends keyof operations, S extends keyof operations[O]['responses']> = operations[O]['responses'][S] extends {
  content: { 'application/json': infer B };
}
  ? B
  : never;

export type Contact = Schemas['Contact'];
export type RegistrationInput = Schemas['RegistrationInput'];
export type LookupResult = Schemas['LookupResult'];
export type KnownBy = LookupResult['knownBy'][number];
export type FamilyLookupResult = Schemas['FamilyLookupResult'];
export type MatchNotice = Schemas['MatchNotice'];
export type Grant = NonNullable<Schemas['DisclosureGrant']>;
export type Disclosure = Schemas['DisclosureRequest'];
export type AuditEntry = Schemas['AuditEntry'];

/** The claims `signed` adds to every signed document. */
type DocumentClaims = 'aud' | 'sub' | 'iat' | 'jti';
/** What a disclosure request says (src/disclosures/schemas.ts), less the claims; urgency defaults to regular. */
export type DisclosureAsk = Omit<RequestPayload, DocumentClaims | 'urgency'> & { urgency?: RequestPayload['urgency'] };
/** What a broker's decision says, less the claims; the request is the one decided on. */
export type DecisionInput = Omit<DecisionPayload, DocumentClaims | 'request'>;

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
    return this.call<Answer<'register', 200 | 201>>('POST', '/v1/registrations', input);
  }

  registerBatch(items: RegistrationInput[]) {
    return this.call<Answer<'registerBatch', 200>>('POST', '/v1/registrations/batch', { items });
  }

  endRegistration(id: string) {
    return this.call<void>('DELETE', `/v1/registrations/${encodeURIComponent(id)}`);
  }

  lookup(subject: string, purpose: string, caseRef: string) {
    return this.call<LookupResult>('POST', '/v1/lookups', { subject, purpose, caseRef });
  }

  /** A household's members (up to 20) for one purpose and case, in one call: one answer per subject, in order. */
  lookupFamily(subjects: string[], purpose: string, caseRef: string) {
    return this.call<FamilyLookupResult>('POST', '/v1/lookups/family', { subjects, purpose, caseRef });
  }

  matches(after = 0, limit = 100) {
    return this.call<Answer<'listMatchNotices', 200>>('GET', `/v1/matches?after=${after}&limit=${limit}`);
  }

  checkpoint() {
    return this.call<Answer<'createCheckpoint', 201>>('POST', '/v1/audit/checkpoints');
  }

  /** A signed document of `kind` for this hub, by this identity, signed now. */
  private signed(kind: DocumentKind, content: Record<string, unknown>): Promise<string> {
    const claims = { aud: this.audience, sub: this.identity.sub, iat: unixSeconds(this.clock()), jti: crypto.randomUUID() };
    return signDocument(this.identity.key, { ...claims, ...content }, DOCUMENT_TYPES[kind]);
  }

  /** Sign the justification with this partner's key and send it. */
  async requestDisclosure(ask: DisclosureAsk) {
    const request = await this.signed('request', { urgency: 'regular', ...ask });
    return this.call<Answer<'requestDisclosure', 201>>('POST', '/v1/disclosures', { request });
  }

  listDisclosures(filter: { status?: string; purpose?: string; holder?: string; requester?: string; urgency?: string } = {}) {
    const qs = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined) as [string, string][]);
    return this.call<Answer<'listDisclosures', 200>>('GET', `/v1/disclosures?${qs}`);
  }

  getDisclosure(id: string) {
    return this.call<Answer<'getDisclosure', 200>>('GET', `/v1/disclosures/${id}`);
  }

  async decide(id: string, input: DecisionInput) {
    const decision = await this.signed('decision', { request: id, ...input });
    return this.call<Answer<'decideDisclosure', 201>>('POST', `/v1/disclosures/${id}/decisions`, { decision });
  }

  overdue() {
    return this.call<Answer<'listOverdueReviews', 200>>('GET', '/v1/disclosures/overdue');
  }

  /** The holder: encrypt `content` to the requester's public encryption key and hand it over. */
  async handOver(grant: { id: string; jwt: string }, requesterKey: JWK, content: string) {
    const key = await importJWK(requesterKey, 'ECDH-ES');
    const jwe = await new CompactEncrypt(new TextEncoder().encode(content))
      .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid: requesterKey.kid, cty: 'text/plain' })
      .encrypt(key);
    return this.call<Answer<'postHandover', 202>>('POST', `/v1/disclosures/grants/${grant.id}/handover`, { grant: grant.jwt, content: jwe });
  }

  /** The requester: fetch the ciphertext as the hub relays it (the hub deletes it then). */
  fetchCiphertext(id: string) {
    return this.call<Answer<'fetchHandover', 200>>('GET', `/v1/disclosures/${encodeURIComponent(id)}/handover`);
  }

  /** The requester: fetch the ciphertext (the hub deletes it) and decrypt it with the private key. */
  async fetchHandover(id: string, privateKey: JWK): Promise<{ grant: string; content: string }> {
    const res = await this.fetchCiphertext(id);
    const { plaintext } = await compactDecrypt(res.content, await importJWK(privateKey, 'ECDH-ES'));
    return { grant: res.grant, content: fromUtf8(plaintext) };
  }

  auditEntries(query: { subject?: string; after?: number; limit?: number } = {}) {
    const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
    return this.call<Answer<'listAuditEntries', 200>>('GET', `/v1/audit/entries?${qs}`);
  }
}
