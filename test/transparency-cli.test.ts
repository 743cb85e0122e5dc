// The partner-side commands of the transparency log, in-process against a hub served over real
// HTTP: `audit verify --url` (no database, state kept between runs), `audit receipt`, `witness keygen`.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpoint } from '../src/audit/checkpoint';
import { formatVerifierKey, parseSignerKey, SIG_COSIGNATURE } from '../src/log/note';
import { RECEIPT_HEADER } from '../src/log/receipt';
import { auditReceiptCommand, auditVerifyUrlCommand } from '../src/node/commands/audit-remote';
import { EXIT_OK, EXIT_PROBLEMS } from '../src/node/commands/exit';
import { witnessKeygenCommand } from '../src/node/commands/witness';
import { readSettings, type CliIo } from '../src/node/env';
import { cliContext } from '../src/node/commands/common';
import { startTestHub, partnerKey, type TestHub } from './support/hub';
import { tokenFor } from './support/http';
import { person } from './support/people';

describe('partner-side log commands', () => {
  let hub: TestHub;
  let dir: string;
  let out = '';
  const settings = () =>
    cliContext(readSettings({ KENBAAR_LOCAL_DIR: join(dir, 'local'), KENBAAR_PRIVATE_DIR: join(dir, 'private'), KENBAAR_HUB_ID: hub.config.hubId } as NodeJS.ProcessEnv), {
      stdin: process.stdin,
      stdout: { write: (chunk: string | Uint8Array) => ((out += String(chunk)), true) } as unknown as CliIo['stdout'],
      stderr: { write: () => true } as unknown as CliIo['stderr'],
      env: {},
    });

  beforeAll(async () => {
    hub = await startTestHub({ http: true });
    hub.clock.set(new Date()); // the commands sign their tokens with the real clock
    dir = mkdtempSync(join(tmpdir(), 'kenbaar-log-cli-'));
    // The partner's own private key, where the CLI looks for it.
    mkdirSync(join(dir, 'private'), { recursive: true });
    for (const p of ['gemeente', 'zorg-en-veiligheidshuis']) {
      writeFileSync(join(dir, 'private', `${p}.jwk.json`), JSON.stringify((await partnerKey(p)).privateJwk));
    }
  });
  afterAll(async () => {
    await hub?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('audit verify --url checks a running hub, rehashes entries for the FG, and keeps the checkpoint it verified', async () => {
    const pr = await hub.as('gemeente', 'procesregisseur');
    await pr.lookup(person().subject, 'procesregie-casus-op-maat', 'CLI-1');
    await createCheckpoint(hub.database.db, hub.config, hub.clock());
    const vkey = formatVerifierKey(hub.config.log.keys.verifiers[0]!);
    out = '';
    expect(await auditVerifyUrlCommand(settings(), { url: hub.url, vkey, as: 'zorg-en-veiligheidshuis', role: 'zvh-privacy-officer' })).toBe(EXIT_OK);
    expect(out).toMatch(/verified/);
    expect(out).toMatch(/recomputed from their entries/);
    const state = join(dir, 'local', `verifier-${hub.config.log.keys.origin.replace(/[^A-Za-z0-9.-]/g, '_')}.json`);
    expect(JSON.parse(readFileSync(state, 'utf8'))).toMatchObject({ vkey, size: expect.any(Number) });
    // The next run compares with the saved checkpoint (no --vkey needed any more).
    await pr.lookup(person().subject, 'procesregie-casus-op-maat', 'CLI-2');
    await createCheckpoint(hub.database.db, hub.config, hub.clock());
    out = '';
    expect(await auditVerifyUrlCommand(settings(), { url: hub.url, vkey, role: 'x' })).toBe(EXIT_OK);
    expect(out).toMatch(/last verified: \d+/);
  });

  it('audit receipt checks saved receipts: included after a checkpoint, exit 1 for a forged one', async () => {
    const res = await fetch(`${hub.url}/v1/lookups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenFor(hub, 'gemeente', 'procesregisseur')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'CLI-3' }),
    });
    const receipt = res.headers.get(RECEIPT_HEADER)!;
    await createCheckpoint(hub.database.db, hub.config, hub.clock());
    const file = join(dir, 'receipts.txt');
    writeFileSync(file, `${receipt}\n`);
    out = '';
    expect(await auditReceiptCommand(settings(), file, { url: hub.url, as: 'gemeente', role: 'procesregisseur' })).toBe(EXIT_OK);
    expect(out).toMatch(/: included \(index \d+ of the tree of size \d+\)/);
    writeFileSync(file, `${receipt.slice(0, -4)}AAAA\n`);
    expect(await auditReceiptCommand(settings(), file, { url: hub.url, as: 'gemeente', role: 'procesregisseur' })).toBe(EXIT_PROBLEMS);
  });

  it('witness keygen writes a cosignature key and prints its verifier key', () => {
    const file = join(dir, 'w.key');
    out = '';
    expect(witnessKeygenCommand(settings(), { name: 'witness.gemeente.example', out: file })).toBe(EXIT_OK);
    const signer = parseSignerKey(readFileSync(file, 'utf8'));
    expect(signer.type).toBe(SIG_COSIGNATURE);
    expect(out).toContain(formatVerifierKey(signer));
    expect(existsSync(file)).toBe(true);
  });
});
