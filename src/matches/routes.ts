// GET /v1/matches: the caller's feed of match notices (the verwijsindex's "match"), by cursor.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { decideAction, decideMatchNotice } from '../covenant/index';
import type { AppEnv } from '../config';
import { Problem } from '../errors';
import { ContactSchema, problemResponses, queryInt } from '../http/schemas';
import { deny, readThenLog } from '../http/unit-of-work';
import { sequenceMatchesNow } from '../audit/store';
import { matchFeed } from './repo';

const MatchOutput = z
  .object({
    id: z.number().int().openapi({ description: 'The notice (as in the audit log: matchId)' }),
    seq: z.number().int().openapi({ description: "The notice's position in the feeds, given in commit order" }),
    at: z.string(),
    registrationId: z.uuid().openapi({ description: 'Your registration that matched' }),
    reference: z.string().nullable().openapi({ description: 'Your own case reference of that registration' }),
    knownBy: z.object({ partner: z.string(), partnerName: z.string(), domain: z.string(), contact: ContactSchema, since: z.string() }),
    rule: z.string(),
  })
  .openapi('MatchNotice');

const feedRoute = createRoute({
  method: 'get',
  path: '/v1/matches',
  tags: ['Matches'],
  summary: 'Your new match notices: another partner registered a subject you registered',
  description:
    "Pages by the notices' feed position (`seq`), which the hub's sequencer gives in commit order (and runs before answering): a notice whose registration commits late (a long batch) appears after the cursor you hold, never behind it; one not yet committed is simply not yet in the feed. Pass `next` as `after` to continue. Notices the covenant no longer allows at delivery are withheld (and logged as such); the cursor moves past them.",
  security: [{ partnerJwt: [] }],
  request: {
    query: z.object({
      after: queryInt({}, 0).openapi({ description: 'Cursor: the `next` of the previous page (0: from the start)' }),
      limit: queryInt({ min: 1, max: 1000 }, 100),
    }),
  },
  responses: {
    200: {
      description: 'A page of notices',
      content: { 'application/json': { schema: z.object({ matches: z.array(MatchOutput), next: z.number().int().openapi({ description: 'The cursor for the next page' }) }) } },
    },
    ...problemResponses(400, 401, 403),
  },
});

export function matchRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(feedRoute, async (c) => {
    const { actor, config, clock, db } = c.var;
    const { after, limit } = c.req.valid('query');
    const covenant = config.covenant;
    const now = clock();
    const result = await readThenLog(c, async (q, audit) => {
      const may = decideAction(covenant, actor, 'read-matches');
      if (!may.allowed) {
        await audit({ action: 'match.feed', outcome: 'denied', rule: may.rule, detail: { after, limit } });
        return deny(new Problem('forbidden', may.reason, { rule: may.rule }));
      }
      await sequenceMatchesNow(db, now);
      const rows = await matchFeed(q, actor.partner, after, limit, now);
      // The covenant may have changed since the notice was made: decide again at delivery.
      const decided = rows.map((r) => ({ r, d: decideMatchNotice(covenant, { partner: actor.partner, category: r.ownCategory }, { partner: r.otherPartner, category: r.otherCategory }) }));
      const delivered = decided.filter(({ d }) => d.allowed);
      const withheld = decided.filter(({ d }) => !d.allowed);
      const next = rows.length ? rows[rows.length - 1]!.seq! + 1 : after;
      // One entry for the answer (also when it is empty, and naming what was withheld), and one per
      // delivered notice, about its subject, so a search by person finds who was told.
      await audit(
        {
          action: 'match.feed',
          outcome: 'allowed',
          rule: may.rule,
          detail: { after, limit, next, delivered: delivered.map(({ r }) => r.id), withheld: withheld.map(({ r, d }) => ({ matchId: r.id, knownBy: r.otherPartner, rule: d.rule })) },
        },
        ...delivered.map(({ r, d }) => ({
          action: 'match.delivered' as const,
          outcome: 'allowed' as const,
          rule: d.rule,
          subject: r.ownSubject,
          caseRef: r.ownReference,
          detail: { matchId: r.id, knownBy: r.otherPartner },
        })),
      );
      return {
        matches: delivered.map(({ r, d }) => {
          const p = covenant.partners.get(r.otherPartner);
          return {
            id: r.id,
            seq: r.seq!,
            at: r.createdAt.toISOString(),
            registrationId: r.ownRegistrationId,
            reference: r.ownReference,
            knownBy: { partner: r.otherPartner, partnerName: p?.name ?? r.otherPartner, domain: p?.domain ?? 'unknown', contact: r.otherContact, since: r.otherSince.toISOString() },
            rule: d.rule,
          };
        }),
        next,
      };
    });
    return c.json(result, 200);
  });
}
