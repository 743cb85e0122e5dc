/** @jsxImportSource hono/jsx */
// Enrolment from an invitation, sign-in and sign-out, all with passkeys. Every enrolment, sign-in
// and failed attempt is an audit entry; a failure tells the person what happened in Dutch and
// changes nothing.
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { appendAudit } from '../audit/store';
import type { AuditInput } from '../audit/entry';
import { auditContext } from '../http/unit-of-work';
import { enrolmentOptions, PasskeyError, signInOptions, verifyAssertion, verifyEnrolment, type RelyingParty } from '../staff/passkeys';
import { findInvitation, getCredential, getStaff, insertChallenge, insertCredential, lockInvitation, takeChallenge, touchCredential, updateStaff, useInvitation, deleteExpiredChallenges } from '../staff/repo';
import { activeStaff, secretHash, staffActor } from '../staff/staff';
import { Layout, Notice, ROLE_NAMES } from './layout';
import { CONSOLE } from './paths';
import { appContext, startSession, stopSession, type ConsoleEnv } from './session';

const CHALLENGE_MS = 5 * 60_000;

const CeremonyBody = z.object({ challengeId: z.string().min(10).max(100), response: z.object({ id: z.string().min(1).max(1024) }).passthrough() });

/** An audit entry outside a request's unit of work (sign-in happens before there is an actor). */
export async function logConsoleEvent(c: Context<ConsoleEnv>, actor: ReturnType<typeof staffActor> | null, ...entries: AuditInput[]) {
  await appendAudit(c.var.db, { ...auditContext(appContext(c)), actor }, entries);
}

const SESSION_MESSAGES: Record<string, string> = {
  verlopen: 'U bent automatisch uitgelogd omdat u een tijd niets hebt gedaan. Log opnieuw in.',
  ingetrokken: 'Uw toegang tot de console is ingetrokken. Neem contact op met uw beheerder.',
  uit: 'U bent uitgelogd.',
};

async function invitationState(c: Context<ConsoleEnv>, secret: string) {
  const inv = /^[A-Za-z0-9_-]{43}$/.test(secret) ? await findInvitation(c.var.db, secretHash(secret)) : undefined;
  const person = inv ? await getStaff(c.var.db, inv.staffId) : undefined;
  const now = c.var.clock();
  const problem = !inv || !person ? 'onbekend' : inv.usedAt ? 'gebruikt' : inv.expiresAt <= now ? 'verlopen' : person.revokedAt ? 'ingetrokken' : null;
  return { inv, person, problem };
}

const INVITATION_PROBLEMS: Record<string, string> = {
  onbekend: 'Deze uitnodiging bestaat niet. Controleer de link of vraag een nieuwe uitnodiging aan.',
  gebruikt: 'Deze uitnodiging is al gebruikt. Een uitnodiging werkt maar één keer; log in met uw passkey of vraag een nieuwe aan.',
  verlopen: 'Deze uitnodiging is verlopen. Vraag uw beheerder om een nieuwe uitnodiging.',
  ingetrokken: 'De toegang van deze persoon is ingetrokken.',
};

export function authRoutes(app: Hono<ConsoleEnv>, rp: (c: Context<ConsoleEnv>) => RelyingParty) {
  app.get('/uitnodiging/:secret', async (c) => {
    const { person, problem } = await invitationState(c, c.req.param('secret'));
    if (problem || !person) {
      await logConsoleEvent(c, null, { action: 'staff.enrolled', outcome: 'denied', rule: 'staff-invitation', detail: { reason: problem, step: 'open' } });
      return c.html(
        <Layout title="Uitnodiging">
          <h1>Uitnodiging</h1>
          <Notice kind="fout">{INVITATION_PROBLEMS[problem ?? 'onbekend']}</Notice>
        </Layout>,
        problem === 'onbekend' ? 404 : 410,
      );
    }
    return c.html(
      <Layout title="Passkey registreren" scripts={['simplewebauthn-browser.js', 'console.js']}>
        <h1>Welkom, {person.name}</h1>
        <p>
          U bent uitgenodigd als <strong>{ROLE_NAMES[person.role] ?? person.role}</strong> namens <strong>{person.partner}</strong>.
        </p>
        <p>
          Registreer nu een passkey: een sleutel op dit apparaat die u ontgrendelt met uw pincode, vingerafdruk of gezicht. Daarmee logt u voortaan in en
          ondertekent u uw besluiten. Er is geen wachtwoord.
        </p>
        <div id="melding" aria-live="polite"></div>
        <button type="button" id="registreren" class="primary" data-url={c.req.path}>
          Passkey registreren
        </button>
      </Layout>,
    );
  });

  app.post('/uitnodiging/:secret/opties', async (c) => {
    const { person, problem } = await invitationState(c, c.req.param('secret'));
    if (problem || !person) return c.json({ message: INVITATION_PROBLEMS[problem ?? 'onbekend'] }, 410);
    const options = await enrolmentOptions(rp(c), person);
    const challengeId = crypto.randomUUID();
    const now = c.var.clock();
    await deleteExpiredChallenges(c.var.db, now);
    await insertChallenge(c.var.db, { id: challengeId, kind: 'enrol', challenge: options.challenge, staffId: person.id, expiresAt: new Date(now.getTime() + CHALLENGE_MS) });
    return c.json({ challengeId, options });
  });

  app.post('/uitnodiging/:secret', async (c) => {
    const secret = c.req.param('secret');
    const now = c.var.clock();
    const body = CeremonyBody.safeParse(await c.req.json().catch(() => null));
    const fail = async (reason: string, message: string, status: 400 | 410 = 400) => {
      await logConsoleEvent(c, null, { action: 'staff.enrolled', outcome: 'denied', rule: 'staff-invitation', detail: { reason, step: 'register' } });
      return c.json({ message }, status);
    };
    if (!body.success) return fail('malformed', 'De registratie kon niet worden gelezen. Probeer het opnieuw.');
    const challenge = await takeChallenge(c.var.db, body.data.challengeId, 'enrol', now);
    const { inv, person, problem } = await invitationState(c, secret);
    if (problem || !inv || !person) return fail(problem ?? 'onbekend', INVITATION_PROBLEMS[problem ?? 'onbekend']!, 410);
    if (!challenge || challenge.staffId !== person.id) return fail('challenge', 'De registratie duurde te lang of is al gebruikt. Probeer het opnieuw.');
    let credential;
    try {
      credential = await verifyEnrolment(rp(c), challenge.challenge, body.data.response as never);
    } catch (e) {
      if (!(e instanceof PasskeyError)) throw e;
      return fail(e.reason, 'De passkey kon niet worden geverifieerd. Gebruik een apparaat met pincode, vingerafdruk of gezichtsherkenning.');
    }
    const used = await c.var.db.transaction(async (tx) => {
      const locked = await lockInvitation(tx, inv.secretHash);
      if (!locked || locked.usedAt) return false;
      await useInvitation(tx, locked.id, now);
      await insertCredential(tx, { id: credential.id, staffId: person.id, publicKey: credential.publicKey, counter: credential.counter, transports: credential.transports, createdAt: now });
      await updateStaff(tx, person.id, { enrolledAt: now });
      await appendAudit(tx, { ...auditContext(appContext(c)), actor: staffActor(person) }, [
        { action: 'staff.enrolled', outcome: 'ok', rule: 'staff-invitation', detail: { staff: person.id, credential: credential.id } },
        { action: 'staff.sign-in', outcome: 'allowed', rule: 'passkey', detail: { staff: person.id, credential: credential.id, via: 'enrolment' } },
      ]);
      await startSession(c, tx, person, credential.id, now);
      return true;
    });
    if (!used) return fail('gebruikt', INVITATION_PROBLEMS.gebruikt!, 410);
    return c.json({ next: CONSOLE });
  });

  app.get('/inloggen', (c) => {
    const message = SESSION_MESSAGES[c.req.query('sessie') ?? ''];
    return c.html(
      <Layout title="Inloggen" scripts={['simplewebauthn-browser.js', 'console.js']}>
        <h1>Inloggen</h1>
        {message ? <Notice kind="info">{message}</Notice> : null}
        <p>Log in met de passkey die u bij uw uitnodiging hebt geregistreerd. Uw apparaat vraagt om uw pincode, vingerafdruk of gezicht.</p>
        <div id="melding" aria-live="polite"></div>
        <button type="button" id="inloggen" class="primary">
          Inloggen met passkey
        </button>
      </Layout>,
    );
  });

  app.post('/inloggen/opties', async (c) => {
    const options = await signInOptions(rp(c));
    const challengeId = crypto.randomUUID();
    const now = c.var.clock();
    await deleteExpiredChallenges(c.var.db, now);
    await insertChallenge(c.var.db, { id: challengeId, kind: 'sign-in', challenge: options.challenge, staffId: null, expiresAt: new Date(now.getTime() + CHALLENGE_MS) });
    return c.json({ challengeId, options });
  });

  app.post('/inloggen', async (c) => {
    const now = c.var.clock();
    const body = CeremonyBody.safeParse(await c.req.json().catch(() => null));
    const fail = async (reason: string, detail: Record<string, unknown> = {}) => {
      await logConsoleEvent(c, null, { action: 'staff.sign-in', outcome: 'denied', rule: 'passkey', detail: { reason, ...detail } });
      return c.json({ message: 'Inloggen is niet gelukt. Gebruik de passkey van uw uitnodiging, of vraag uw beheerder om hulp.' }, 401);
    };
    if (!body.success) return fail('malformed');
    const challenge = await takeChallenge(c.var.db, body.data.challengeId, 'sign-in', now);
    if (!challenge) return fail('challenge');
    const credential = await getCredential(c.var.db, body.data.response.id);
    if (!credential) return fail('no-such-credential');
    const person = await activeStaff(c.var.db, credential.staffId);
    if (!person) return fail('revoked', { staff: credential.staffId });
    let counter: number;
    try {
      counter = await verifyAssertion(rp(c), challenge.challenge, credential, body.data.response as never);
    } catch (e) {
      if (!(e instanceof PasskeyError)) throw e;
      return fail(e.reason, { staff: person.id });
    }
    await c.var.db.transaction(async (tx) => {
      await touchCredential(tx, credential.id, counter, now);
      await startSession(c, tx, person, credential.id, now);
      await appendAudit(tx, { ...auditContext(appContext(c)), actor: staffActor(person) }, [{ action: 'staff.sign-in', outcome: 'allowed', rule: 'passkey', detail: { staff: person.id, credential: credential.id } }]);
    });
    return c.json({ next: CONSOLE });
  });
}

/** Sign-out, behind the session (it needs to know whose session ends). */
export function signOutRoute(app: Hono<ConsoleEnv>) {
  app.post('/uitloggen', async (c) => {
    await stopSession(c);
    await logConsoleEvent(c, staffActor(c.var.staff), { action: 'staff.sign-out', outcome: 'ok', rule: null, detail: { staff: c.var.staff.id } });
    return c.redirect(`${CONSOLE}/inloggen?sessie=uit`, 303);
  });
}
