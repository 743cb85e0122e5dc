// Interoperability, checked by an independent implementation: Go's golang.org/x/mod/sumdb/note
// verifies the hub's checkpoint signature, and golang.org/x/mod/sumdb/tlog recomputes the tree from
// the hub's tiles, checks the hub's tlog-proof and its own inclusion and consistency proofs, and
// rehashes an entry bundle (test/go/interop.go). Needs the Debian packages golang-go and
// golang-golang-x-mod-dev (.ci/run installs them); where they cannot be installed the test is
// skipped with a loud message, never silently.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpoint } from '../src/audit/checkpoint';
import { appendAudit } from '../src/audit/store';
import { rowsOf } from '../src/db/types';
import { RECEIPT_HEADER, verifyReceipt, type InlineReceipt } from '../src/log/receipt';
import { tilePath, tileWidthAt, TILE_WIDTH } from '../src/log/tiles';
import { startTestHub, type TestHub } from './support/hub';
import { send, tokenFor } from './support/http';
import { person } from './support/people';

const GOPATH = process.env.KENBAAR_GOPATH ?? '/usr/share/gocode';
const PROGRAM = fileURLToPath(new URL('./go/interop.go', import.meta.url));

function goAvailable(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    return false;
  }
  return existsSync(join(GOPATH, 'src/golang.org/x/mod/sumdb/note')) && existsSync(join(GOPATH, 'src/golang.org/x/mod/sumdb/tlog'));
}

const available = goAvailable();
if (!available) {
  console.warn(
    [
      '',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      '!! SKIPPED: the Go interoperability test of the transparency log (test/interop-go.test.ts). !!',
      `!! Go or golang.org/x/mod is missing (looked for \`go\` and ${GOPATH}/src/golang.org/x/mod). !!`,
      '!! Install: apt-get install golang-go golang-golang-x-mod-dev (.ci/run does this).        !!',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      '',
    ].join('\n'),
  );
}

describe.skipIf(!available)("the log, as Go's reference packages (x/mod/sumdb/note, tlog) see it", () => {
  let hub: TestHub;
  let dir: string;
  const db = () => hub.database.db;
  const fetchBytes = async (path: string, token?: string) => {
    const res = await hub.app.request(`http://hub.test${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect(res.status, path).toBe(200);
    return new Uint8Array(await res.arrayBuffer());
  };
  const put = (name: string, data: Uint8Array | string) => {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), data);
  };

  beforeAll(async () => {
    hub = await startTestHub();
    dir = mkdtempSync(join(tmpdir(), 'kenbaar-go-'));
  });
  afterAll(async () => {
    await hub?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the checkpoint signature, the tiles, a served tlog-proof, and inclusion and consistency proofs', async () => {
    const ctx = { at: hub.clock(), requestId: 'bulk', actor: null, covenantVersion: hub.config.covenant.version };
    await appendAudit(db(), ctx, Array.from({ length: 301 }, (_, i) => ({ action: 'purge' as const, outcome: 'ok' as const, detail: { i } })));
    const old = await createCheckpoint(db(), hub.config, hub.clock());
    await appendAudit(db(), ctx, Array.from({ length: 200 }, (_, i) => ({ action: 'purge' as const, outcome: 'ok' as const, detail: { j: i } })));
    const lookup = await send(hub, { path: '/v1/lookups', token: await tokenFor(hub, 'gemeente', 'procesregisseur'), json: { subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'GO-1' } });
    const receipt = (await verifyReceipt(lookup.headers.get(RECEIPT_HEADER)!, hub.config.signer.published)) as InlineReceipt;
    await appendAudit(db(), ctx, Array.from({ length: 99 }, (_, i) => ({ action: 'purge' as const, outcome: 'ok' as const, detail: { k: i } })));
    const cp = await createCheckpoint(db(), hub.config, hub.clock());

    put('vkey', await fetchBytes('/log/vkey'));
    put('checkpoint', await fetchBytes('/log/checkpoint'));
    put('old-checkpoint', old.note!);
    put('leaf', receipt.entries[0]!.leaf);
    put('proof', await fetchBytes(`/v1/audit/proofs/${receipt.entries[0]!.uid}`, await tokenFor(hub, 'gemeente', 'procesregisseur')));
    put('tile/entries/000', await fetchBytes('/log/tile/entries/000', await tokenFor(hub, 'zorg-en-veiligheidshuis', 'zvh-privacy-officer')));
    for (let level = 0; TILE_WIDTH ** level <= cp.size; level++) {
      for (let index = 0; tileWidthAt(level, index, cp.size) > 0; index++) {
        const t = tilePath({ level, index, width: tileWidthAt(level, index, cp.size) });
        put(t, await fetchBytes(`/log/${t}`));
      }
    }
    const [{ n }] = (await rowsOf<{ n: number }>(db(), sql`select count(*)::int as n from audit_log`)) as [{ n: number }];
    expect(cp.size).toBe(n);
    expect(cp.size).toBeGreaterThan(512);

    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        'go',
        ['run', PROGRAM, dir],
        {
          env: { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '', GOCACHE: join(tmpdir(), 'kenbaar-gocache'), GOTOOLCHAIN: 'local' },
          timeout: 90_000,
        },
        (err, stdout, stderr) => (err ? reject(new Error(`go run failed: ${stderr || err.message}`)) : resolve(stdout)),
      );
    });
    expect(out.trim()).toBe('ok');
  }, 120_000);
});
