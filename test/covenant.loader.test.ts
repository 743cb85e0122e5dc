// The loader: the demo covenant loads and says what the domain brief says; broken covenants fail
// with the file, the place in it and the reason; the version is a hash of exactly the files.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  CovenantError,
  covenantVersion,
  decideVisibility,
  formatVisibilityMatrix,
  loadCovenant,
  visibilityMatrix,
} from '../src/covenant/index';
import { DEFAULT_COVENANT_DIR, loadCovenantDir, readCovenantDir } from '../src/node/covenant-fs';

const files = readCovenantDir(DEFAULT_COVENANT_DIR);
const c = loadCovenant(files);

/** A copy of the demo files with one file's parsed YAML changed (comments are lost; fine here). */
function mutate(file: string, change: (doc: any) => void): Record<string, string> {
  const doc = parse(files[file] ?? '');
  change(doc);
  return { ...files, [file]: stringify(doc) };
}

function loadError(input: Record<string, string>): CovenantError {
  try {
    loadCovenant(input);
  } catch (e) {
    if (e instanceof CovenantError) return e;
    throw e;
  }
  throw new Error('expected the covenant to be rejected');
}

describe('the demo covenant', () => {
  it('loads from policies/zvh-demo with its files, id and a sha256 version', () => {
    expect(DEFAULT_COVENANT_DIR.replace(/\/$/, '')).toMatch(/policies\/zvh-demo$/);
    expect(c.files).toEqual([
      'categories.yaml',
      'covenant.yaml',
      'disclosure.yaml',
      'matches.yaml',
      'oversight.yaml',
      'partners.yaml',
      'purposes.yaml',
      'roles.yaml',
      'visibility.yaml',
    ]);
    expect(c.id).toBe('zvh-veenstreek-noord-2026');
    expect(c.name).toMatch(/^Convenant Zorg- en Veiligheidshuis/);
    expect(c.version).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(loadCovenantDir().version).toBe(c.version);
  });

  it('has the ten partners of the brief and the house itself, each in its domain', () => {
    expect(Object.fromEntries([...c.partners.values()].map((p) => [p.id, p.domain]))).toEqual({
      gemeente: 'sociaal-domein',
      politie: 'veiligheid',
      'openbaar-ministerie': 'straf',
      'raad-kinderbescherming': 'veiligheid',
      reclassering: 'straf',
      'veilig-thuis': 'sociaal-domein',
      ggz: 'zorg',
      verslavingszorg: 'zorg',
      woningcorporatie: 'wonen',
      'wijkteam-jeugd': 'sociaal-domein',
      'zorg-en-veiligheidshuis': 'sociaal-domein',
    });
  });

  it("the house employs the informatiemakelaars who weigh requests and its FG reads the whole log; it registers nothing", () => {
    const house = c.partners.get('zorg-en-veiligheidshuis');
    expect([...(house?.roles ?? [])]).toEqual(['informatiemakelaar', 'zvh-privacy-officer']);
    expect(house?.registers.categories.size).toBe(0);
    const fg = [...c.partners.values()].filter((p) => p.roles.has('zvh-privacy-officer')).map((p) => p.id);
    expect(fg).toEqual(['zorg-en-veiligheidshuis']);
  });

  it('has the six roles with their actions', () => {
    expect(Object.fromEntries([...c.roles.values()].map((r) => [r.id, [...r.actions].sort()]))).toEqual({
      'partner-system': ['end-registration', 'read-matches', 'register'],
      professional: ['end-registration', 'lookup', 'read-matches', 'register'],
      procesregisseur: ['end-registration', 'lookup', 'read-matches', 'register'],
      informatiemakelaar: ['decide-disclosure', 'lookup', 'read-matches'],
      'privacy-officer': ['read-audit'],
      'zvh-privacy-officer': ['read-audit', 'read-audit-all'],
    });
  });

  it('has the five purposes, each with known legal bases, AVE levels and an existing article', () => {
    expect([...c.purposes.keys()]).toEqual([
      'procesregie-casus-op-maat',
      'vroegsignalering-jeugd',
      'persoonsgerichte-aanpak-top-x',
      'nazorg-ex-gedetineerden',
      'acuut-veiligheidsrisico',
    ]);
    expect(c.purposes.get('procesregie-casus-op-maat')?.aveLevels).toEqual([3, 4]);
    expect(c.purposes.get('acuut-veiligheidsrisico')?.legalBasis).toContain('avg-6-1-d');
    for (const p of c.purposes.values()) {
      expect(p.legalBasis.length).toBeGreaterThan(0);
      for (const id of p.legalBasis) expect(c.legalBases.get(id)?.text, id).toMatch(/art\./);
      expect(c.articles.has(p.article)).toBe(true);
    }
  });

  it('marks health and criminal categories as special (AVG art. 9/10)', () => {
    const special = [...c.categories.values()].filter((k) => k.special).map((k) => `${k.id}:${k.specialKind}`);
    expect(special).toEqual([
      'nazorg-detentie:strafrechtelijk',
      'politie-betrokkenheid:strafrechtelijk',
      'justitieel-traject:strafrechtelijk',
      'reclasseringstoezicht:strafrechtelijk',
      'ggz-behandeling:gezondheid',
      'verslavingszorg-behandeling:gezondheid',
    ]);
  });

  it('indexes every written rule id with its kind, article and file', () => {
    expect(c.rules.get('D-ZORG-POLITIE')).toMatchObject({ kind: 'visibility', effect: 'deny', article: '12', file: 'visibility.yaml' });
    expect(c.rules.get('P-PR-01')).toMatchObject({ kind: 'purpose', effect: 'allow', file: 'purposes.yaml' });
    expect(c.rules.get('R-POLITIE')).toMatchObject({ kind: 'registration', file: 'partners.yaml' });
    expect(c.rules.get('A-PRIVACY-OFFICER')).toMatchObject({ kind: 'role', file: 'roles.yaml' });
    expect(c.rules.get('M-PR-01')).toMatchObject({ kind: 'match', file: 'matches.yaml' });
    for (const r of c.rules.values()) expect(c.articles.has(r.article), r.id).toBe(true);
  });

  it('carries the retention defaults and the minimum justification length (in the disclosure settings only)', () => {
    expect(c.retention).toEqual({ defaultRetentionDays: 365, maxRetentionDays: 730, archiveRetentionDays: 1825, auditRetentionDays: 1825 });
    expect(c.disclosure.minJustificationLength).toBe(40);
    expect(files['covenant.yaml']).not.toMatch(/minJustificationLength/);
  });
});

describe('broken covenants name the file, the path and the reason', () => {
  const cases: { name: string; input: () => Record<string, string>; file: string; path: string; reason: string | RegExp }[] = [
    {
      name: 'an unknown key',
      input: () => mutate('partners.yaml', (d) => (d.partners[2].colour = 'red')),
      file: 'partners.yaml',
      path: 'partners[2].colour',
      reason: 'unknown key "colour"',
    },
    {
      name: 'a misspelt key in a rule selector',
      input: () => mutate('visibility.yaml', (d) => (d.visibility[4].holder = { partner: ['politie'] })),
      file: 'visibility.yaml',
      path: 'visibility[4].holder.partner',
      reason: 'unknown key "partner"',
    },
    {
      name: 'an unknown partner reference',
      input: () => mutate('purposes.yaml', (d) => (d.purposes[2].requesters[0].partner = 'bureau-halt')),
      file: 'purposes.yaml',
      path: 'purposes[2].requesters[0].partner',
      reason: 'unknown partner "bureau-halt"',
    },
    {
      name: 'a subject access deferral for a partner the covenant does not name',
      input: () => mutate('oversight.yaml', (d) => (d.oversight.subjectAccess.deferrals[0].partners = ['bureau-halt'])),
      file: 'oversight.yaml',
      path: 'oversight.subjectAccess.deferrals[0].partners[0]',
      reason: 'unknown partner "bureau-halt"',
    },
    {
      name: 'an unknown category on a partner',
      input: () => mutate('partners.yaml', (d) => d.partners[1].registers.categories.push('schoolverzuim')),
      file: 'partners.yaml',
      path: 'partners[1].registers.categories[1]',
      reason: 'unknown category "schoolverzuim"',
    },
    {
      name: 'an unknown article',
      input: () => mutate('matches.yaml', (d) => (d.matches[0].article = '99')),
      file: 'matches.yaml',
      path: 'matches[0].article',
      reason: 'unknown article "99"',
    },
    {
      name: 'a duplicate rule id',
      input: () => mutate('visibility.yaml', (d) => (d.visibility[5].id = 'V-PR-01')),
      file: 'visibility.yaml',
      path: 'visibility[5].id',
      reason: 'duplicate rule id "V-PR-01" (first defined at visibility.yaml: visibility[4].id)',
    },
    {
      name: 'a rule id reused across files',
      input: () => mutate('matches.yaml', (d) => (d.matches[0].id = 'R-POLITIE')),
      file: 'matches.yaml',
      path: 'matches[0].id',
      reason: 'duplicate rule id "R-POLITIE" (first defined at partners.yaml: partners[1].registers.rule)',
    },
    {
      name: 'a duplicate partner id',
      input: () => mutate('partners.yaml', (d) => (d.partners[3].id = 'politie')),
      file: 'partners.yaml',
      path: 'partners[3].id',
      reason: 'duplicate partner id "politie" (first defined at partners.yaml: partners[1])',
    },
    {
      name: 'a negative retention',
      input: () => mutate('categories.yaml', (d) => (d.categories[3].maxRetentionDays = -30)),
      file: 'categories.yaml',
      path: 'categories[3].maxRetentionDays',
      reason: 'must be a positive number of days',
    },
    {
      name: 'a retention beyond the covenant ceiling',
      input: () => mutate('categories.yaml', (d) => (d.categories[0].maxRetentionDays = 1000)),
      file: 'categories.yaml',
      path: 'categories[0].maxRetentionDays',
      reason: "exceeds the covenant's maxRetentionDays (730)",
    },
    {
      name: 'a special category without its kind',
      input: () => mutate('categories.yaml', (d) => delete d.categories[1].specialKind),
      file: 'categories.yaml',
      path: 'categories[1].specialKind',
      reason: 'required when special is true',
    },
    {
      name: 'a requester role the partner does not hold',
      input: () => mutate('purposes.yaml', (d) => d.purposes[1].requesters[0].roles.push('procesregisseur')),
      file: 'purposes.yaml',
      path: 'purposes[1].requesters[0].roles[1]',
      reason: 'partner "wijkteam-jeugd" does not hold role "procesregisseur"',
    },
    {
      name: 'a requester role that may not look up',
      input: () => mutate('purposes.yaml', (d) => d.purposes[0].requesters[0].roles.push('privacy-officer')),
      file: 'purposes.yaml',
      path: 'purposes[0].requesters[0].roles[2]',
      reason: 'role "privacy-officer" may not look up',
    },
    {
      name: 'an allow rule for a requester that may not use the purpose',
      input: () => mutate('visibility.yaml', (d) => (d.visibility[9].requester.partners = ['politie'])),
      file: 'visibility.yaml',
      path: 'visibility[9].requester.partners[0]',
      reason: 'partner "politie" may not look up for "vroegsignalering-jeugd" in any listed role (see purposes)',
    },
    {
      name: 'a requester selector naming roles the partner does not hold',
      input: () => mutate('visibility.yaml', (d) => (d.visibility[9].requester.roles = ['procesregisseur'])),
      file: 'visibility.yaml',
      path: 'visibility[9].requester.partners[0]',
      reason: 'partner "wijkteam-jeugd" holds none of the listed roles',
    },
    {
      name: 'an allow rule for every purpose',
      input: () => mutate('visibility.yaml', (d) => (d.visibility[4].purposes = '*')),
      file: 'visibility.yaml',
      path: 'visibility[4].purposes',
      reason: /expected array/,
    },
    {
      name: 'an allow rule revealing every registration',
      input: () => mutate('visibility.yaml', (d) => (d.visibility[4].holder = {})),
      file: 'visibility.yaml',
      path: 'visibility[4].holder',
      reason: 'an allow rule must name partners, domains or categories',
    },
    {
      name: 'a selector that can never match',
      input: () => mutate('visibility.yaml', (d) => (d.visibility[6].holder.categories = ['jeugdhulp'])),
      file: 'visibility.yaml',
      path: 'visibility[6].holder.partners[0]',
      reason: 'partner "woningcorporatie" registers none of the listed categories',
    },
    {
      name: 'an unknown effect',
      input: () => mutate('visibility.yaml', (d) => (d.visibility[0].effect = 'maybe')),
      file: 'visibility.yaml',
      path: 'visibility[0].effect',
      reason: /discriminator/,
    },
    {
      name: 'an unknown domain',
      input: () => mutate('partners.yaml', (d) => (d.partners[0].domain = 'onderwijs')),
      file: 'partners.yaml',
      path: 'partners[0].domain',
      reason: /expected one of "zorg"/,
    },
    {
      name: 'a rule id in the wrong style',
      input: () => mutate('visibility.yaml', (d) => (d.visibility[0].id = 'deny-by-default')),
      file: 'visibility.yaml',
      path: 'visibility[0].id',
      reason: /upper-case rule id/,
    },
    {
      name: 'a match rule whose asVisibleTo grants nothing',
      input: () => mutate('matches.yaml', (d) => (d.matches[4].asVisibleTo = 'professional')),
      file: 'matches.yaml',
      path: 'matches[4].recipient.partners[0]',
      reason: 'partner "gemeente" may not look up for "procesregie-casus-op-maat" as "professional", so asVisibleTo grants nothing',
    },
    {
      name: 'a missing covenant section',
      input: () => Object.fromEntries(Object.entries(files).filter(([n]) => n !== 'covenant.yaml')),
      file: '(all files)',
      path: 'covenant',
      reason: 'no file defines the covenant section',
    },
    {
      name: 'a second covenant section',
      input: () => ({ ...files, 'zz-extra.yaml': files['covenant.yaml'] ?? '' }),
      file: 'zz-extra.yaml',
      path: 'covenant',
      reason: 'covenant is already defined in covenant.yaml',
    },
    {
      name: 'an empty file',
      input: () => ({ ...files, 'leeg.yaml': '# nothing yet\n' }),
      file: 'leeg.yaml',
      path: '(root)',
      reason: 'file is empty',
    },
  ];

  for (const k of cases) {
    it(`rejects ${k.name}`, () => {
      const e = loadError(k.input());
      expect(e).toBeInstanceOf(Error);
      expect({ file: e.file, path: e.path }).toEqual({ file: k.file, path: k.path });
      if (typeof k.reason === 'string') expect(e.reason).toBe(k.reason);
      else expect(e.reason).toMatch(k.reason);
      expect(e.message).toBe(`${e.file}: ${e.path}: ${e.reason}`);
      expect(e.problems[0]).toMatchObject({ file: e.file, path: e.path, reason: e.reason });
    });
  }

  it('rejects bad YAML, naming the file and the line', () => {
    const text = files['roles.yaml'] ?? '';
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.includes('id: procesregisseur'));
    lines[at] = '  - id: [procesregisseur';
    const e = loadError({ ...files, 'roles.yaml': lines.join('\n') });
    expect(e.file).toBe('roles.yaml');
    expect(e.line).toBeGreaterThanOrEqual(at + 1);
    expect(e.path).toBe(`line ${e.line}, column ${e.path.split('column ')[1]}`);
    expect(e.message).toMatch(/^roles\.yaml: line \d+, column \d+: /);
  });

  it('rejects a repeated YAML key (it would silently override)', () => {
    const text = (files['roles.yaml'] ?? '').replace('    name: Professional\n', '    name: Professional\n    name: Hulpverlener\n');
    const line = text.split('\n').indexOf('    name: Hulpverlener') + 1;
    const e = loadError({ ...files, 'roles.yaml': text });
    expect({ file: e.file, line: e.line, reason: e.reason }).toEqual({ file: 'roles.yaml', line, reason: 'Map keys must be unique' });
  });

  it('reports every problem of a pass, first one in the message', () => {
    const e = loadError(
      mutate('partners.yaml', (d) => {
        d.partners[0].roles.push('burgemeester');
        d.partners[1].registers.categories.push('schoolverzuim');
      }),
    );
    expect(e.problems.map((p) => p.path)).toEqual(['partners[0].roles[5]', 'partners[1].registers.categories[1]']);
    expect(e.message).toBe('partners.yaml: partners[0].roles[5]: unknown role "burgemeester"');
  });

  it('rejects no files at all', () => {
    expect(loadError({}).reason).toBe('no covenant files given');
  });
});

describe('version', () => {
  it('is stable for the same files, whatever order they are given in', () => {
    const reversed = Object.fromEntries(Object.entries(files).reverse());
    expect(loadCovenant(reversed).version).toBe(c.version);
    expect(covenantVersion(files)).toBe(c.version);
  });

  it('is sha256 over "<name>\\n<byte length>\\n<content>\\n" per file, sorted by name', () => {
    const h = createHash('sha256');
    for (const name of Object.keys(files).sort()) {
      const body = Buffer.from(files[name] ?? '', 'utf8');
      h.update(`${name}\n${body.length}\n`).update(body).update('\n');
    }
    expect(c.version).toBe(`sha256:${h.digest('hex')}`);
  });

  it('changes when any file changes, even by a comment', () => {
    const versions = new Set([c.version]);
    for (const name of Object.keys(files)) {
      versions.add(loadCovenant({ ...files, [name]: `${files[name]}# gewijzigd\n` }).version);
    }
    expect(versions.size).toBe(Object.keys(files).length + 1);
  });

  it('changes when a file is renamed or added', () => {
    const { 'matches.yaml': matches, ...rest } = files;
    expect(loadCovenant({ ...rest, 'matches.yml': matches ?? '' }).version).not.toBe(c.version);
    expect(loadCovenant({ ...files, 'extra.yaml': 'visibility: []\n' }).version).not.toBe(c.version);
  });
});

describe('split files and the directory reader', () => {
  it('concatenates list sections across files and reports paths within each file', () => {
    const vis = parse(files['visibility.yaml'] ?? '') as { visibility: unknown[] };
    const split = {
      ...files,
      'visibility.yaml': stringify({ visibility: vis.visibility.slice(0, 6) }),
      'visibility-2.yaml': stringify({ visibility: vis.visibility.slice(6) }),
    };
    const c2 = loadCovenant(split);
    expect(c2.visibility.map((r) => r.id).sort()).toEqual(c.visibility.map((r) => r.id).sort());
    const broken = { ...split, 'visibility-2.yaml': (split['visibility-2.yaml'] ?? '').replace('V-VJ-01', 'V-PR-01') };
    const e = loadError(broken);
    expect({ file: e.file, path: e.path }).toEqual({ file: 'visibility.yaml', path: 'visibility[4].id' });
  });

  it('reads only *.yaml and *.yml files from a directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kenbaar-covenant-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'README.md'), '# not a covenant file');
    expect(Object.keys(readCovenantDir(dir)).sort()).toEqual(Object.keys(files).sort());
    expect(loadCovenantDir(dir).version).toBe(c.version);
  });
});

describe('visibility matrix', () => {
  it('lists, per purpose, what each allowed requester may learn', () => {
    const pr = visibilityMatrix(c).find((m) => m.purpose === 'procesregie-casus-op-maat');
    const row = pr?.rows.find((r) => r.partner === 'gemeente' && r.role === 'procesregisseur');
    expect(row?.requesterRule).toBe('P-PR-01');
    expect(row?.visible).toEqual([
      'politie',
      'openbaar-ministerie',
      'raad-kinderbescherming',
      'reclassering',
      'veilig-thuis',
      'ggz',
      'verslavingszorg',
      'woningcorporatie',
      'wijkteam-jeugd',
    ]);
    const pga = visibilityMatrix(c).find((m) => m.purpose === 'persoonsgerichte-aanpak-top-x');
    const police = pga?.rows.find((r) => r.partner === 'politie' && r.role === 'professional');
    expect(police?.cells.find((cell) => cell.holder === 'ggz')?.state).toBe('denied');
    expect(police?.cells.find((cell) => cell.holder === 'politie')?.state).toBe('own');
    expect(police?.cells.find((cell) => cell.holder === 'gemeente')?.state).toBe('not-granted');
  });

  it('agrees with decideVisibility cell by cell', () => {
    for (const m of visibilityMatrix(c)) {
      for (const row of m.rows) {
        for (const cell of row.cells) {
          for (const { category, decision } of cell.decisions) {
            const actor = { partner: row.partner, role: row.role, sub: 'x' };
            expect(decideVisibility(c, actor, m.purpose, { partner: cell.holder, category })).toEqual(decision);
          }
        }
      }
    }
  });

  it('formats as fixed-width text tables', () => {
    const text = formatVisibilityMatrix(c);
    expect(text).toContain(c.version);
    expect(text).toMatch(/^procesregie-casus-op-maat: Procesregie casus op maat/m);
    const header = text.split('\n').find((l) => l.startsWith('requester') && l.includes('GEM'));
    expect(header).toMatch(/GEM\s+POL\s+OM\s+RvdK\s+RECL\s+VT\s+GGZ\s+VZ\s+WOCO\s+WIJK\s+ZVH$/);
    const row = text.split('\n').find((l) => l.startsWith('politie/professional (P-PGA-01)'));
    expect(row?.replace(/^\S+ \S+\s+/, '').split(/\s+/)).toEqual(['·', '—', '✓', '·', '✓', '·', '✗', '✗', '·', '·', '·']);
  });
});
