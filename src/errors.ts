// One error shape for the whole API: RFC 9457 problem+json with a stable `type`.
// Handlers throw `Problem`; the single onError in app.ts turns it (and anything else) into a response.
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Stable problem types. The slug is part of the API contract: never rename one. */
export const PROBLEMS = {
  'invalid-request': { status: 400, title: 'The request is invalid' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  'unsupported-media-type': { status: 415, title: 'Only application/json is accepted' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'malformed-request': { status: 400, title: 'The request is not well-formed HTTP/1.1' },
  'request-header-too-large': { status: 431, title: 'The request header fields are too large' },
  'request-timeout': { status: 408, title: 'The request was not received in time' },
  'invalid-signature': { status: 400, title: 'The signed document does not verify' },
  'unauthenticated': { status: 401, title: 'Authentication failed' },
  'forbidden': { status: 403, title: 'The covenant does not allow this' },
  'purpose-not-allowed': { status: 403, title: 'The covenant does not allow a lookup for this purpose' },
  'not-found': { status: 404, title: 'Not found' },
  'gone': { status: 410, title: 'Gone: delivered or removed' },
  'conflict': { status: 409, title: 'Conflict' },
  'rate-limited': { status: 429, title: 'Too many requests: over a rate limit of the covenant' },
  'batch-rejected': { status: 422, title: 'The batch was refused; nothing was stored' },
  'idempotency-key-reused': { status: 422, title: 'This Idempotency-Key was used for another request' },
  'audit-unavailable': { status: 503, title: 'The audit log could not be written; nothing was answered' },
  'hub-misconfigured': { status: 503, title: 'The hub is not configured: a secret or binding is missing or invalid' },
  'internal': { status: 500, title: 'Internal error' },
  'database-unavailable': { status: 503, title: 'The database is unavailable; nothing was stored or answered. Try again later' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemType = keyof typeof PROBLEMS;

export const problemUri = (type: ProblemType) => `/problems/${type}`;

export type ProblemBody = {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
};

export class Problem extends HTTPException {
  readonly problemType: ProblemType;
  readonly extensions: Record<string, unknown>;
  readonly detail: string | undefined;

  constructor(type: ProblemType, detail?: string, extensions: Record<string, unknown> = {}) {
    const def = PROBLEMS[type];
    super(def.status as ContentfulStatusCode, { message: detail ?? def.title });
    this.problemType = type;
    this.detail = detail;
    this.extensions = extensions;
  }

  body(instance?: string): ProblemBody {
    const def = PROBLEMS[this.problemType];
    return {
      type: problemUri(this.problemType),
      title: def.title,
      status: def.status,
      ...(this.detail ? { detail: this.detail } : {}),
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

export function problemResponse(problem: Problem, instance?: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set('content-type', 'application/problem+json');
  return new Response(JSON.stringify(problem.body(instance)), { status: problem.status, headers: h });
}
