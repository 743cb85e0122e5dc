// Passkeys (WebAuthn) with @simplewebauthn/server: enrolment, sign-in, and decisions signed by a
// person's passkey. User verification is always required, so a sign-in is two factors (the device
// and its PIN or biometric) and a signed decision was made by the person, not only their device.
//
// A passkey-signed decision: the challenge is base64url(sha256(canonical decision JSON)), so the
// assertion signs exactly that decision. The hub never trusts a challenge it handed out: it
// recomputes it from the decision it is given. What it stores (decision, credential id,
// authenticator data, client data JSON, signature) lets anyone holding the credential's public key
// re-verify it offline: signature over authenticatorData || sha256(clientDataJSON), and
// clientDataJSON.challenge = base64url(sha256(decision)).
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { verifySignature } from '@simplewebauthn/server/helpers';
import type { PasskeyProof } from '../../schema/index';
import { canonicalJson } from '../audit/entry';
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../encoding';
import { sha256, sha256Base64Url } from '../hashing';
import type { CredentialRow, StaffRow } from './repo';

/** Who we are to the authenticator: the console's origin and its host name (the RP id). */
export type RelyingParty = { origin: string; rpID: string; name: string };

export function relyingParty(origin: string): RelyingParty {
  return { origin, rpID: new URL(origin).hostname, name: 'kenbaar' };
}

/** How long a person has to answer the authenticator's prompt. */
export const CEREMONY_MS = 120_000;

export class PasskeyError extends Error {
  constructor(
    readonly reason: 'no-such-credential' | 'not-verified' | 'user-not-verified' | 'wrong-challenge' | 'malformed',
    message: string,
  ) {
    super(message);
  }
}

export async function enrolmentOptions(rp: RelyingParty, person: StaffRow) {
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.rpID,
    userName: `${person.name} (${person.partner})`,
    userDisplayName: person.name,
    userID: new Uint8Array(utf8(person.id)),
    attestationType: 'none',
    timeout: CEREMONY_MS,
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    // ES256 and EdDSA: what a verifier can check with WebCrypto alone.
    supportedAlgorithmIDs: [-7, -8],
  });
}

export type NewCredential = { id: string; publicKey: string; counter: number; transports: string[] | null };

export async function verifyEnrolment(rp: RelyingParty, challenge: string, response: RegistrationResponseJSON): Promise<NewCredential> {
  let result;
  try {
    result = await verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: rp.origin, expectedRPID: rp.rpID, requireUserVerification: true });
  } catch (e) {
    throw new PasskeyError('not-verified', e instanceof Error ? e.message : String(e));
  }
  if (!result.verified || !result.registrationInfo) throw new PasskeyError('not-verified', 'registration did not verify');
  const { credential } = result.registrationInfo;
  return { id: credential.id, publicKey: toBase64Url(credential.publicKey), counter: credential.counter, transports: credential.transports ?? null };
}

/** Sign-in options: discoverable credentials, so nobody types a user name. */
export async function signInOptions(rp: RelyingParty) {
  return generateAuthenticationOptions({ rpID: rp.rpID, userVerification: 'required', timeout: CEREMONY_MS });
}

/** Verify an assertion made with `credential` over `challenge`; returns the new signature counter. */
export async function verifyAssertion(rp: RelyingParty, challenge: string, credential: CredentialRow, response: AuthenticationResponseJSON): Promise<number> {
  if (response.id !== credential.id) throw new PasskeyError('no-such-credential', 'the assertion names another credential');
  let result;
  try {
    result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      requireUserVerification: true,
      credential: { id: credential.id, publicKey: new Uint8Array(fromBase64Url(credential.publicKey)), counter: credential.counter, ...(credential.transports ? { transports: credential.transports as never } : {}) },
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new PasskeyError(/challenge/i.test(message) ? 'wrong-challenge' : 'not-verified', message);
  }
  if (!result.verified) throw new PasskeyError('not-verified', 'the assertion did not verify');
  if (!result.authenticationInfo.userVerified) throw new PasskeyError('user-not-verified', 'the authenticator did not verify the user');
  return result.authenticationInfo.newCounter;
}

/** The canonical text of a decision (sorted keys) and the challenge that signs it. */
export function decisionChallenge(decision: Record<string, unknown>): { text: string; challenge: string } {
  const text = canonicalJson(decision);
  return { text, challenge: challengeOf(text) };
}

/** The WebAuthn challenge that signs a decision's canonical text: base64url(sha256(text)). */
export const challengeOf = sha256Base64Url;

/** Options for signing one decision with one of the person's passkeys. */
export async function decisionOptions(rp: RelyingParty, challenge: string, credentials: CredentialRow[]) {
  return generateAuthenticationOptions({
    rpID: rp.rpID,
    challenge: new Uint8Array(fromBase64Url(challenge)),
    userVerification: 'required',
    timeout: CEREMONY_MS,
    allowCredentials: credentials.map((c) => ({ id: c.id, ...(c.transports ? { transports: c.transports as never } : {}) })),
  });
}

/** What is kept with a passkey-signed decision (see the header of this file). */
export function passkeyProof(decisionText: string, response: AuthenticationResponseJSON): PasskeyProof {
  return {
    decision: decisionText,
    credentialId: response.id,
    authenticatorData: response.response.authenticatorData,
    clientDataJSON: response.response.clientDataJSON,
    signature: response.response.signature,
  };
}

/**
 * Re-verify a stored passkey decision with nothing but the credential's public key (COSE, base64url):
 * the client data's challenge must be the hash of the stored decision, the authenticator must have
 * verified the user, and the signature must cover authenticatorData || sha256(clientDataJSON).
 * Returns the decision; throws PasskeyError when any of it fails.
 */
export async function reverifyPasskeyDecision(proof: PasskeyProof, publicKey: string): Promise<Record<string, unknown>> {
  const authData = fromBase64Url(proof.authenticatorData);
  const clientData = fromBase64Url(proof.clientDataJSON);
  const client = JSON.parse(fromUtf8(clientData)) as { type?: string; challenge?: string };
  if (client.type !== 'webauthn.get' || client.challenge !== challengeOf(proof.decision)) {
    throw new PasskeyError('wrong-challenge', 'the assertion was not made over this decision');
  }
  // Flags byte after the 32-byte RP id hash: bit 0 user present, bit 2 user verified.
  if (((authData[32] ?? 0) & 0x05) !== 0x05) throw new PasskeyError('user-not-verified', 'the authenticator did not verify the user');
  const data = new Uint8Array(authData.length + 32);
  data.set(authData);
  data.set(sha256(clientData), authData.length);
  const ok = await verifySignature({ signature: new Uint8Array(fromBase64Url(proof.signature)), data, credentialPublicKey: new Uint8Array(fromBase64Url(publicKey)) });
  if (!ok) throw new PasskeyError('not-verified', 'the signature does not verify');
  return JSON.parse(proof.decision) as Record<string, unknown>;
}
