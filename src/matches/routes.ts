// GET /v1/matches: the caller's feed of match notices (the verwijsindex's "match"), by cursor.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { decideAction, decideMatchNotice } from '../covenant/index';
import type { AppEnv } from '../config';
import { Problem } from '../errors';
import { ContactSchema, problemResponses, queryInt } from '../http/schemas';
import { deny, readThenLog } from '../http/unit-of-work';
import { matchFeed } from './repo';

const MatchOutput = z
  .object({
    id: z.number().int().openapi({ description: 'Cursor: pass the last id as `after` to continue' }),
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
  security: [{ partnerJwt: [] }],
  request: {
    query: z.object({
      after: queryInt({}, 0).openapi({ description: 'Return notices after this cursor' }),
      limit: queryInt({ min: 1, max: 1000 }, 100),
    }),
  },
  responses: {
    200: {
      description: 'A page of notices',
      content: { 'application/json': { schema: z.object({ matches: z.array(MatchOutput), next: z.number().int() }) } },
    },
    ...problemResponses(400, 401, 403),
  },
});

export function matchRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(feedRoute, async (c) => {
    const { actor, config, clock } = c.var;
    const { after, limit } = c.req.valid('query');
    const covenant = config.covenant;
    const result = await readThenLog(c, async (q, audit) => {
      const may = decideAction(covenant, actor, 'read-matches');
      if (!may.allowed) {
        await audit({ action: 'match.delivered', outcome: 'denied', rule: may.rule });
        return deny(new Problem('forbidden', may.reason, { rule: may.rule }));
      }
      const rows = await matchFeed(q, actor.partner, after, limit, clock());
      // The covenant may have changed since the notice was made: decide again at delivery.
      const delivered = rows
        .map((r) => ({ r, d: decideMatchNotice(covenant, { partner: actor.partner, category: r.ownCategory }, { partner: r.otherPartner, category: r.otherCategory }) }))
        .filter(({ d }) => d.allowed);
      await audit(
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
            at: r.createdAt.toISOString(),
            registrationId: r.ownRegistrationId,
            reference: r.ownReference,
            knownBy: { partner: r.otherPartner, partnerName: p?.name ?? r.otherPartner, domain: p?.domain ?? 'unknown', contact: r.otherContact, since: r.otherSince.toISOString() },
            rule: d.rule,
          };
        }),
        next: rows.length ? rows[rows.length - 1]!.id : after,
      };
    });
    return c.json(result, 200);
  });
}
