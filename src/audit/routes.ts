// The log for its readers: privacy officers (FG) query who looked up whom, when and why; anyone can
// fetch the latest signed checkpoint to hold the hub to it. Reading the log is itself logged.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { decideAction, decideAuditRead } from '../covenant/index';
import type { AppEnv } from '../config';
import { Problem } from '../errors';
import { problemResponses, queryInt, SubjectSchema } from '../http/schemas';
import { deny, readThenLog, unitOfWork } from '../http/unit-of-work';
import { storedSubject } from '../pseudonym/hub-key';
import { checkpointAndWitness } from '../log/witnessing';
import { entryView } from './entry';
import { integrate, latestCheckpoint, queryEntries } from './store';

/** The one public route under /v1 (the authentication middleware lets it through). */
export const PUBLIC_CHECKPOINT_PATH = '/v1/audit/checkpoint';

const Entry = z
  .object({
    id: z.number().int(),
    seq: z.number().int().openapi({ description: 'Position in the log (the Merkle leaf index)' }),
    at: z.string(),
    requestId: z.string(),
    actor: z.object({ partner: z.string().nullable(), sub: z.string().nullable(), role: z.string().nullable() }),
    action: z.string(),
    subject: z.string().nullable(),
    purpose: z.string().nullable(),
    caseRef: z.string().nullable(),
    outcome: z.string(),
    rule: z.string().nullable(),
    covenantVersion: z.string(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('AuditEntry');

const CheckpointOut = z
  .object({ size: z.number().int(), root: z.string(), issuedAt: z.string(), kid: z.string(), jws: z.string() })
  .openapi('Checkpoint', { description: 'A signed tree head: verify `jws` with /.well-known/jwks.json' });

const entriesRoute = createRoute({
  method: 'get',
  path: '/v1/audit/entries',
  operationId: 'listAuditEntries',
  tags: ['Audit'],
  summary: "Audit entries, optionally about one subject: a partner's privacy officer sees its own organisation's, the house's FG all",
  security: [{ partnerJwt: [] }],
  request: {
    query: z.object({
      subject: SubjectSchema.optional(),
      after: queryInt({}, 0).openapi({ description: 'Cursor: the `next` of the previous page (0: from the start of the log)' }),
      limit: queryInt({ min: 1, max: 1000 }, 100),
    }),
  },
  description:
    'Pages in log order (`seq`), which is commit order: an entry is in this feed once the sequencer has given it its position (the hub runs it before answering), so an entry whose transaction commits late appears after the cursor you hold, never behind it. Pass `next` as `after` to continue.',
  responses: {
    200: {
      description: 'Entries',
      content: { 'application/json': { schema: z.object({ entries: z.array(Entry), next: z.number().int().openapi({ description: 'The cursor for the next page: the position after the last entry seen' }) }) } },
    },
    ...problemResponses(400, 401, 403),
  },
});

const checkpointResponses = { 200: { description: 'Checkpoint', content: { 'application/json': { schema: CheckpointOut } } }, ...problemResponses(404) };

const checkpointRoute = createRoute({
  method: 'get',
  path: PUBLIC_CHECKPOINT_PATH,
  operationId: 'getCheckpoint',
  tags: ['Audit'],
  summary: 'The latest signed checkpoint of the audit log (public: it holds no personal data)',
  security: [],
  responses: checkpointResponses,
});

/** The checkpoint's first address, before every route moved under /v1. */
const legacyCheckpointRoute = createRoute({
  method: 'get',
  path: '/audit/checkpoint',
  operationId: 'getCheckpointLegacy',
  tags: ['Audit'],
  summary: 'Deprecated alias of GET /v1/audit/checkpoint',
  deprecated: true,
  security: [],
  responses: checkpointResponses,
});

const newCheckpointRoute = createRoute({
  method: 'post',
  path: '/v1/audit/checkpoints',
  operationId: 'createCheckpoint',
  tags: ['Audit'],
  summary: 'Sequence pending entries and sign a checkpoint now (privacy officers)',
  security: [{ partnerJwt: [] }],
  responses: { 201: { description: 'Checkpoint', content: { 'application/json': { schema: CheckpointOut } } }, ...problemResponses(401, 403) },
});

const cpOut = (cp: { size: number; root: string; issuedAt: Date; kid: string; jws: string }) => ({
  size: cp.size,
  root: cp.root,
  issuedAt: cp.issuedAt.toISOString(),
  kid: cp.kid,
  jws: cp.jws,
});

export function auditRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(entriesRoute, async (c) => {
    const { actor, config, clock, db } = c.var;
    const { subject, after, limit } = c.req.valid('query');
    const stored = subject ? storedSubject(config.hubKeys, subject) : undefined;
    const result = await readThenLog(c, async (q, audit) => {
      // Art. 16: a partner's privacy officer reads its own organisation's entries (and, where the
      // covenant's audit-read rule says so, the accesses to persons it registered); the house's FG
      // (read-audit-all) reads the whole log. The same decision as the console's.
      const may = decideAuditRead(config.covenant, actor);
      await audit({ action: 'audit.read', outcome: may.allowed ? 'allowed' : 'denied', rule: may.rule, subject: stored?.current ?? null, detail: { after, limit, scope: may.scope.all ? 'all' : may.scope.partner } });
      if (!may.allowed) return deny(new Problem('forbidden', may.reason, { rule: may.rule }));
      // Sequence what has committed (this read's own entry included), then page by position.
      await integrate(db, clock());
      const rows = await queryEntries(q, { ...(stored ? { subjects: stored.all } : {}), scope: may.scope, fromSeq: after, limit });
      return {
        entries: rows.map((e) => ({ ...entryView(e), seq: e.seq! })),
        next: rows.length ? rows[rows.length - 1]!.seq! + 1 : after,
      };
    });
    return c.json(result, 200);
  });

  for (const route of [checkpointRoute, legacyCheckpointRoute]) {
    app.openapi(route, async (c) => {
      const cp = await latestCheckpoint(c.var.db);
      if (!cp) throw new Problem('not-found', 'No checkpoint has been signed yet');
      return c.json(cpOut(cp), 200);
    });
  }

  app.openapi(newCheckpointRoute, async (c) => {
    const { actor, config, clock, db, log } = c.var;
    await unitOfWork(c, async (_tx, audit) => {
      const may = decideAction(config.covenant, actor, 'read-audit');
      await audit({ action: 'checkpoint.requested', outcome: may.allowed ? 'allowed' : 'denied', rule: may.rule });
      return may.allowed ? null : deny(new Problem('forbidden', may.reason, { rule: may.rule }));
    });
    const { checkpoint: cp } = await checkpointAndWitness(db, config, clock(), log);
    return c.json(cpOut(cp), 201);
  });
}
