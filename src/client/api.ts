// `kenbaar/client`: a typed client of the hub's API for partner systems in TypeScript. The types are
// generated from the hub's OpenAPI document (`npm run client:generate` -> api.gen.ts, with
// openapi-typescript); requests go through openapi-fetch. Every request gets a fresh token (the hub
// uses each jti once): pass `token`, e.g. `() => signPartnerToken(key, { sub, role, audience })`.
//
//   const hub = kenbaarClient({ baseUrl: 'https://hub.example', token });
//   const { data, error } = await hub.POST('/v1/lookups', { body: { subject, purpose, caseRef } });
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './api.gen';

export type { components, operations, paths } from './api.gen';
export { signDocument, signPartnerToken, type PartnerSigningKey, type TokenClaims } from './token';
export { partnerPseudonym } from '../pseudonym/pseudonymise';

export type KenbaarClientOptions = {
  baseUrl: string;
  /** A fresh partner token for each request. */
  token: () => Promise<string> | string;
  fetch?: typeof fetch;
};

export function kenbaarClient(opts: KenbaarClientOptions): Client<paths> {
  const client = createClient<paths>({ baseUrl: opts.baseUrl, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  client.use({
    async onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${await opts.token()}`);
      return request;
    },
  });
  return client;
}
