/** @jsxImportSource hono/jsx */
// The console at /console: where informatiemakelaars decide on disclosure requests and privacy
// officers account for every access. Server-rendered (hono/jsx, the same on Node and workerd),
// Dutch, every asset from the hub itself. Around every page: strict security headers and CSP (no
// inline script or style), CSRF protection (cross-site posts are refused), and, past sign-in, a
// session of a person who is not revoked (src/console/session.ts).
import { Hono, type Context } from 'hono';
import { csrf } from 'hono/csrf';
import { secureHeaders } from 'hono/secure-headers';
import { HTTPException } from 'hono/http-exception';
import { Problem } from '../errors';
import { relyingParty } from '../staff/passkeys';
import { authRoutes, signOutRoute } from './auth-routes';
import { brokerRoutes } from './broker-routes';
import { fgRoutes } from './fg-routes';
import { Layout, Notice } from './layout';
import { CONSOLE } from './paths';
import { requireSession, type ConsoleEnv } from './session';

/** The console's static files (CSS, its scripts, the vendored libraries), served by the hub. */
export type ConsoleAssets = ReadonlyMap<string, { type: string; body: string }>;

export type ConsoleOptions = {
  assets: ConsoleAssets;
  /** The console's public origin (WebAuthn origin and RP id); default: the request's own origin. */
  origin?: string | undefined;
};

/** Dutch for the problems a console action can run into; the covenant's own reason follows. */
const PROBLEM_TEXT: Partial<Record<string, string>> = {
  forbidden: 'Het convenant staat dit niet toe.',
  'not-found': 'Dit bestaat niet, of u mag het niet zien.',
  conflict: 'Dit kan niet (meer): er is al besloten.',
  'invalid-request': 'De invoer klopt niet.',
  'invalid-signature': 'De ondertekening klopt niet.',
  'audit-unavailable': 'Het logboek kon niet worden bijgewerkt; er is niets gedaan. Probeer het later opnieuw.',
};

export function consoleApp(options: ConsoleOptions) {
  const app = new Hono<ConsoleEnv>();
  const rp = (c: Context<ConsoleEnv>) => relyingParty(options.origin ?? new URL(c.req.url).origin);

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      crossOriginEmbedderPolicy: 'require-corp',
      permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
    }),
  );
  app.use('*', async (c, next) => {
    await next();
    c.header('cache-control', c.req.path.startsWith(`${CONSOLE}/assets/`) ? 'public, max-age=3600' : 'no-store');
  });
  // Cross-site form posts are refused (Origin and Sec-Fetch-Site); JSON posts need a CORS
  // preflight we never answer, and the session cookie is SameSite=Strict besides.
  app.use('*', csrf());

  app.get('/assets/:file', (c) => {
    const a = options.assets.get(c.req.param('file'));
    return a ? c.body(a.body, 200, { 'content-type': a.type }) : c.notFound();
  });

  authRoutes(app, rp);

  app.use('*', requireSession());
  signOutRoute(app);
  brokerRoutes(app, rp);
  fgRoutes(app);
  app.get('/', (c) => {
    const role = c.var.staff.role;
    if (role === 'informatiemakelaar') return c.redirect(`${CONSOLE}/verzoeken`);
    if (role === 'privacy-officer' || role === 'zvh-privacy-officer') return c.redirect(`${CONSOLE}/logboek`);
    return c.html(
      <Layout title="Geen werkplek" person={c.var.staff}>
        <h1>Geen werkplek voor uw rol</h1>
        <p>De console is er voor informatiemakelaars en functionarissen gegevensbescherming.</p>
      </Layout>,
    );
  });

  app.onError((err, c) => {
    if (!(err instanceof HTTPException) || err.status >= 500) throw err;
    // hono/csrf refuses a cross-site post with a plain 403.
    const text =
      err instanceof Problem
        ? `${PROBLEM_TEXT[err.problemType] ?? 'Dit is niet gelukt.'} ${err.detail ?? ''}`.trim()
        : err.status === 403
          ? 'Dit verzoek kwam niet van de console zelf en is geweigerd.'
          : 'Dit verzoek kon niet worden gelezen.';
    const rule = err instanceof Problem ? (err.extensions.rule ?? null) : null;
    if (c.req.header('accept')?.includes('application/json')) return c.json({ message: text, rule }, err.status);
    return c.html(
      <Layout title="Niet gelukt" person={c.get('staff')}>
        <h1>Niet gelukt</h1>
        <Notice kind="fout">{text}</Notice>
        <p>
          <a href={CONSOLE}>Terug naar de console</a>
        </p>
      </Layout>,
      err.status,
    );
  });
  return app;
}
