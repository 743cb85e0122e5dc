// What a partner is told by webhook, decided from what was just written (pure). The payload holds ids
// and codes only: never a pseudonym, a contact or a reference. It says "look": the match feed
// (GET /v1/matches) and the disclosure requests (GET /v1/disclosures) stay the source of
// truth, and decide again what the partner may see when it reads them.
export type WebhookEventType = 'match.created' | 'disclosure.break-glass';

export type MatchCreatedData = { matchId: number; registrationId: string; rule: string };
export type BreakGlassData = { requestId: string; registrationId: string; requester: string; grantId: string };

export type WebhookEvent =
  | { partner: string; type: 'match.created'; data: MatchCreatedData }
  | { partner: string; type: 'disclosure.break-glass'; data: BreakGlassData };

/** The body posted (Standard Webhooks' `{type, timestamp, data}`). */
export type WebhookPayload = { type: WebhookEventType; timestamp: string; data: MatchCreatedData | BreakGlassData };

/** One event per new match notice, to its recipient, about the recipient's own registration. */
export function matchCreatedEvents(created: readonly { id: number; recipient: string; recipientRegistrationId: string; rule: string }[]): WebhookEvent[] {
  return created.map((m) => ({ partner: m.recipient, type: 'match.created', data: { matchId: m.id, registrationId: m.recipientRegistrationId, rule: m.rule } }));
}

/** A break-glass request granted on the holder's registration: the holder is told. */
export function breakGlassEvent(req: { id: string; holder: string; holderRegistrationId: string; requester: string }, grantId: string): WebhookEvent {
  return { partner: req.holder, type: 'disclosure.break-glass', data: { requestId: req.id, registrationId: req.holderRegistrationId, requester: req.requester, grantId } };
}

export const webhookPayload = (event: WebhookEvent, at: Date): WebhookPayload => ({ type: event.type, timestamp: at.toISOString(), data: event.data });
