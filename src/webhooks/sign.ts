// Standard Webhooks signatures (standardwebhooks.com): `webhook-signature: v1,<base64 HMAC-SHA256>`
// over `${webhook-id}.${webhook-timestamp}.${body}` under the partner's secret (the bytes after
// `whsec_`). The HMAC is the project's one (src/hashing.ts); test/webhooks.test.ts verifies it with
// the `standardwebhooks` package, as a partner would.
import { toBase64, unixSeconds, utf8 } from '../encoding';
import { hmacSha256 } from '../hashing';

/** `timestamp` in whole seconds since the epoch, as the `webhook-timestamp` header carries it. */
export function webhookSignature(secret: Uint8Array, id: string, timestamp: number, body: string): string {
  return `v1,${toBase64(hmacSha256(secret, utf8(`${id}.${timestamp}.${body}`)))}`;
}

/** The three headers of a signed delivery. */
export function webhookHeaders(secret: Uint8Array, id: string, at: Date, body: string): Record<string, string> {
  const timestamp = unixSeconds(at);
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': webhookSignature(secret, id, timestamp, body) };
}
