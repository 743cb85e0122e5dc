// Which partners are told by webhook, where, and with which secret: KENBAAR_WEBHOOKS (an environment
// variable on Node, a secret on the Worker), JSON `{ "<partnerId>": { "url": "...", "secret": "whsec_..." } }`.
// Validated here, at the edge, when the configuration is built: a malformed entry, a partner the
// covenant does not name or a secret that is not `whsec_<base64 of 24 to 64 bytes>` is an error
// naming the place, never quoting a secret.
import { z } from 'zod';
import { fromBase64 } from '../encoding';

export type WebhookTarget = { url: string; secret: Uint8Array };
/** By partner id. Absent or empty: nobody is told by webhook, and no outbox row is written. */
export type Webhooks = ReadonlyMap<string, WebhookTarget>;

export class WebhookConfigError extends Error {
  override readonly name = 'WebhookConfigError';
}

const TargetSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, { error: 'must be whsec_ followed by standard base64' }),
});
const WebhooksSchema = z.record(z.string().min(1).max(200), TargetSchema);

/** Standard Webhooks secrets are 24 to 64 random bytes. */
const SECRET_BYTES = { min: 24, max: 64 };

export function parseWebhooks(json: string | undefined, partners: { has(id: string): boolean }): Webhooks {
  if (json === undefined || json.trim() === '') return new Map();
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new WebhookConfigError('KENBAAR_WEBHOOKS is not valid JSON');
  }
  const parsed = WebhooksSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${['KENBAAR_WEBHOOKS', ...i.path.map(String)].join('.')}: ${i.message}`);
    throw new WebhookConfigError(issues.join('; '));
  }
  const out = new Map<string, WebhookTarget>();
  for (const [partner, target] of Object.entries(parsed.data)) {
    if (!partners.has(partner)) throw new WebhookConfigError(`KENBAAR_WEBHOOKS.${partner}: the covenant names no such partner`);
    let secret: Uint8Array;
    try {
      secret = fromBase64(target.secret.slice('whsec_'.length));
    } catch {
      throw new WebhookConfigError(`KENBAAR_WEBHOOKS.${partner}.secret: not canonical base64`);
    }
    if (secret.length < SECRET_BYTES.min || secret.length > SECRET_BYTES.max) {
      throw new WebhookConfigError(`KENBAAR_WEBHOOKS.${partner}.secret: must hold ${SECRET_BYTES.min} to ${SECRET_BYTES.max} bytes`);
    }
    out.set(partner, { url: target.url, secret });
  }
  return out;
}
