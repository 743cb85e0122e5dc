// The covenant's oversight rules: which accesses a subject access report withholds (and until when),
// and which patterns in the log raise a misuse signal (oversight.yaml), computed by the database
// over a real log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries } from '../schema/index';
import type { AuditEntry } from '../src/audit/entry';
import { decideAuditRead, decideDeferralRelease, type AuditScope } from '../src/covenant/index';
import { outsideWorkingHours } from '../src/oversight/hours';
import { computeSignals } from '../src/oversight/signals';
import { subjectAccessReport } from '../src/oversight/subject-access';
import { demoCovenant, testDatabase } from './support/hub';

const cov = demoCovenant();
const MINUTE = 60_000;
const DAY = 86_400_000;
let nextId = 1;

function entry(at: Date, over: Partial<AuditEntry> = {}): AuditEntry {
  return { id: nextId++, uid: null, seq: null, leafHash: null, at, requestId: 'r', actorPartner: 'gemeente', actorSub: 'pr-1', actorRole: 'procesregisseur', action: 'lookup', subject: 'S', purpose: 'procesregie-casus-op-maat', caseRef: 'Z-1', outcome: 'allowed', rule: 'X', covenantVersion: cov.version, detail: null, ...over };
}

describe('subject access report (AVG art. 15, deferred under art. 23)', () => {
  const now = new Date('2026-11-23T12:00:00Z');

  it("withholds a police lookup for a year (SA-UITSTEL-01) and shows it afterwards; the gemeente's is always shown", () => {
    const police = entry(new Date(now.getTime() - 10 * DAY), { actorPartner: 'politie', actorSub: 'agent', actorRole: 'professional' });
    const gemeente = entry(new Date(now.getTime() - 10 * DAY));
    const r = subjectAccessReport(cov, [police, gemeente], now);
    expect(r.shown).toEqual([gemeente]);
    expect(r.withheld).toMatchObject([{ entry: police, rule: 'SA-UITSTEL-01', until: new Date(police.at.getTime() + 365 * DAY) }]);
    const later = subjectAccessReport(cov, [police, gemeente], new Date(police.at.getTime() + 366 * DAY));
    expect(later.withheld).toEqual([]);
    expect(later.shown).toHaveLength(2);
  });

  it('shows an entry a privacy officer released early, and lists it as released', () => {
    const police = entry(new Date(now.getTime() - 10 * DAY), { actorPartner: 'politie', actorSub: 'agent', actorRole: 'professional' });
    const r = subjectAccessReport(cov, [police], now, new Set([police.id]));
    expect(r.withheld).toEqual([]);
    expect(r.shown).toEqual([police]);
    expect(r.released).toEqual([police]);
  });

  it("leaves out the hub's own housekeeping (no acting organisation)", () => {
    expect(subjectAccessReport(cov, [entry(now, { actorPartner: null, actorSub: null, action: 'purge' })], now).shown).toEqual([]);
  });
});

describe('reading the log (art. 16, oversight.yaml auditRead)', () => {
  const fg = (partner: string, role = 'privacy-officer') => ({ partner, role, sub: `fg-${partner}` });

  it("the house's FG (read-audit-all) reads the whole log", () => {
    expect(decideAuditRead(cov, fg('zorg-en-veiligheidshuis', 'zvh-privacy-officer'))).toMatchObject({ allowed: true, rule: 'A-ZVH-PRIVACY-OFFICER', scope: { all: true } });
  });

  it("verslavingszorg's FG reads its own organisation's actions and every access to persons it registered (AR-EIGEN-CLIENTEN)", () => {
    expect(decideAuditRead(cov, fg('verslavingszorg'))).toMatchObject({ allowed: true, rule: 'AR-EIGEN-CLIENTEN', scope: { all: false, partner: 'verslavingszorg', ownRegistrations: true } });
  });

  it("the police's FG reads its own organisation's actions only (AR-EIGEN-ORGANISATIE)", () => {
    expect(decideAuditRead(cov, fg('politie'))).toMatchObject({ allowed: true, rule: 'AR-EIGEN-ORGANISATIE', scope: { all: false, partner: 'politie', ownRegistrations: false } });
  });

  it('a professional does not read the log at all', () => {
    expect(decideAuditRead(cov, { partner: 'gemeente', role: 'procesregisseur', sub: 'pr' })).toMatchObject({ allowed: false, rule: 'action-not-permitted' });
  });
});

describe('early release of a withheld entry (oversight.yaml earlyRelease)', () => {
  const now = new Date('2026-11-23T12:00:00Z');
  const police = entry(new Date(now.getTime() - 10 * DAY), { actorPartner: 'politie', actorSub: 'agent', actorRole: 'professional' });
  const veiligThuis = entry(new Date(now.getTime() - 10 * DAY), { actorPartner: 'veilig-thuis', actorSub: 'vt', actorRole: 'professional' });
  const house = { partner: 'zorg-en-veiligheidshuis', role: 'zvh-privacy-officer', sub: 'fg' };

  it("SA-UITSTEL-01 may be released early by the house's FG and by the police's own FG", () => {
    expect(decideDeferralRelease(cov, house, police, now)).toMatchObject({ allowed: true, rule: 'SA-UITSTEL-01' });
    expect(decideDeferralRelease(cov, { partner: 'politie', role: 'privacy-officer', sub: 'fg' }, police, now)).toMatchObject({ allowed: true, rule: 'SA-UITSTEL-01' });
  });

  it("another partner's FG may not release the police's entry", () => {
    expect(decideDeferralRelease(cov, { partner: 'verslavingszorg', role: 'privacy-officer', sub: 'fg' }, police, now)).toMatchObject({ allowed: false, rule: 'not-own-entry' });
  });

  it('SA-UITSTEL-02 (Veilig Thuis) does not allow early release', () => {
    expect(decideDeferralRelease(cov, house, veiligThuis, now)).toMatchObject({ allowed: false, rule: 'release-not-permitted' });
  });

  it('nothing to release: an entry no deferral withholds, or one whose deferral has ended', () => {
    expect(decideDeferralRelease(cov, house, entry(now), now)).toMatchObject({ allowed: false, rule: 'not-deferred' });
    expect(decideDeferralRelease(cov, house, police, new Date(police.at.getTime() + 366 * DAY))).toMatchObject({ allowed: false, rule: 'deferral-ended' });
  });

  it('a professional may not release anything', () => {
    expect(decideDeferralRelease(cov, { partner: 'politie', role: 'professional', sub: 'agent' }, police, now)).toMatchObject({ allowed: false, rule: 'action-not-permitted' });
  });
});

describe('misuse signals (thresholds from oversight.yaml)', () => {
  const day = new Date('2026-11-23T00:00:00Z');
  const period = { from: day, to: new Date(day.getTime() + DAY) };
  const s = cov.oversight.signals;
  const ALL: AuditScope = { all: true };
  let database: Awaited<ReturnType<typeof testDatabase>>;
  beforeAll(async () => {
    database = await testDatabase();
  });
  afterAll(async () => database?.close());

  // One log for the file: each story has its own professional (and persons), so stories do not meet.
  let story = 0;
  /** A professional of the gemeente for one story, and entries of theirs. */
  function professional() {
    const sub = `prof-${++story}`;
    return { sub, entry: (at: Date, over: Partial<AuditEntry> = {}) => entry(at, { actorSub: sub, subject: `${sub}-S`, ...over }) };
  }
  /** Write entries to the log; each gets the id the log gave it. */
  async function log(...entries: AuditEntry[]): Promise<void> {
    for (const e of entries) {
      const { id: _id, uid: _uid, seq: _seq, leafHash: _leaf, ...row } = e;
      const [inserted] = await database.db.insert(auditEntries).values(row).returning({ id: auditEntries.id });
      e.id = inserted!.id;
    }
  }
  const signalsOf = async (sub: string | null, p = period, scope: AuditScope = ALL) => (await computeSignals(database.db, cov.oversight, p, scope)).filter((x) => x.sub === sub);

  it(`a sweep: ${s.sweep.distinctPersons} distinct persons within ${s.sweep.withinMinutes} minutes raises SIG-SWEEP, one fewer does not`, async () => {
    const at = (i: number) => new Date(day.getTime() + 9 * 3_600_000 + i * MINUTE);
    const a = professional();
    const sweep = Array.from({ length: s.sweep.distinctPersons }, (_, i) => a.entry(at(i), { subject: `${a.sub}-P${i}` }));
    await log(...sweep);
    expect((await signalsOf(a.sub)).filter((x) => x.kind === 'sweep')).toMatchObject([{ rule: 'SIG-SWEEP', partner: 'gemeente', sub: a.sub, entries: sweep.map((e) => e.id) }]);
    const b = professional();
    await log(...Array.from({ length: s.sweep.distinctPersons - 1 }, (_, i) => b.entry(at(i), { subject: `${b.sub}-P${i}` })));
    expect((await signalsOf(b.sub)).filter((x) => x.kind === 'sweep')).toEqual([]);
  });

  it('lookups at night or at the weekend (Europe/Amsterdam) raise SIG-NACHT; office hours do not', async () => {
    const a = professional();
    const night = a.entry(new Date('2026-11-23T22:30:00Z')); // 23:30 in Amsterdam, a Monday
    const office = a.entry(new Date('2026-11-23T09:30:00Z'));
    const lastMinute = a.entry(new Date('2026-11-23T17:59:00Z')); // 18:59, still working hours
    const closing = a.entry(new Date(`2026-11-23T${String(s.workingHours.to - 1).padStart(2, '0')}:00:00Z`)); // 19:00 in Amsterdam (UTC+1)
    await log(night, office, lastMinute, closing);
    const signals = (await signalsOf(a.sub)).filter((x) => x.kind === 'buiten-werktijd');
    expect(signals.map((x) => x.entries)).toEqual([[closing.id, night.id]]);
    const weekend = professional();
    const saturday = weekend.entry(new Date('2026-11-28T10:00:00Z')); // 11:00 on a Saturday
    await log(saturday);
    expect((await signalsOf(weekend.sub, { from: new Date('2026-11-28T00:00:00Z'), to: new Date('2026-11-29T00:00:00Z') })).map((x) => x.entries)).toEqual([[saturday.id]]);
  });

  it('working hours are Amsterdam time, summer time included: a Monday in July is outside them before 05:00 and from 17:00 UTC', () => {
    const monday = { from: new Date('2026-07-06T00:00:00Z'), to: new Date('2026-07-07T00:00:00Z') };
    expect(outsideWorkingHours(s.workingHours, monday)).toEqual([
      { from: new Date('2026-07-06T00:00:00Z'), to: new Date('2026-07-06T05:00:00Z') },
      { from: new Date('2026-07-06T17:00:00Z'), to: new Date('2026-07-07T00:00:00Z') },
    ]);
    const saturday = { from: new Date('2026-07-11T00:00:00Z'), to: new Date('2026-07-12T00:00:00Z') };
    expect(outsideWorkingHours(s.workingHours, saturday)).toEqual([saturday]);
  });

  it('repeated refusals raise SIG-WEIGERING; as many spread over a longer time do not', async () => {
    const a = professional();
    await log(...Array.from({ length: s.denials.count }, (_, i) => a.entry(new Date(day.getTime() + 10 * 3_600_000 + i * MINUTE), { outcome: 'denied' })));
    expect((await signalsOf(a.sub)).map((x) => x.rule)).toContain('SIG-WEIGERING');
    const b = professional();
    await log(...Array.from({ length: s.denials.count }, (_, i) => b.entry(new Date(day.getTime() + 10 * 3_600_000 + i * (s.denials.withinMinutes / (s.denials.count - 2)) * MINUTE), { outcome: 'denied' })));
    expect((await signalsOf(b.sub)).map((x) => x.rule)).not.toContain('SIG-WEIGERING');
  });

  it('unusual volume against the professional’s own history raises SIG-VOLUME', async () => {
    const story = (n: number) => {
      const a = professional();
      const history = Array.from({ length: s.volume.historyDays }, (_, i) => a.entry(new Date(day.getTime() - (i + 1) * DAY + 10 * 3_600_000)));
      const today = Array.from({ length: n }, (_, i) => a.entry(new Date(day.getTime() + 10 * 3_600_000 + i * 1000), { subject: `${a.sub}-Q${i % 3}` }));
      return { sub: a.sub, entries: [...history, ...today] };
    };
    const enough = story(s.volume.minimum);
    const fewer = story(s.volume.minimum - 1);
    await log(...enough.entries, ...fewer.entries);
    expect((await signalsOf(enough.sub)).map((x) => x.rule)).toContain('SIG-VOLUME');
    expect((await signalsOf(fewer.sub)).map((x) => x.rule)).not.toContain('SIG-VOLUME');
  });

  it('lookups never followed by a registration, match or request of the organisation raise SIG-HENGELEN once their window has passed', async () => {
    const long = { from: new Date(day.getTime() - 30 * DAY), to: day };
    const story = () => {
      const a = professional();
      return { sub: a.sub, lookups: Array.from({ length: s.fishing.minimum }, (_, i) => a.entry(new Date(day.getTime() - 20 * DAY + i * 3_600_000), { subject: `${a.sub}-F${i}` })), entry: a.entry };
    };
    const fished = story();
    await log(...fished.lookups);
    expect((await signalsOf(fished.sub, long)).map((x) => x.rule)).toContain('SIG-HENGELEN');
    const followedUp = story();
    const followed = followedUp.entry(new Date(day.getTime() - 19 * DAY), { action: 'registration.create', subject: `${followedUp.sub}-F0` });
    await log(...followedUp.lookups, followed);
    expect((await signalsOf(followedUp.sub, long)).map((x) => x.rule)).not.toContain('SIG-HENGELEN');
  });

  it('break-glass more often than the covenant allows, and an overdue review, raise SIG-NOODTOEGANG', async () => {
    const glass = Array.from({ length: s.breakGlass.perMonth + 1 }, (_, i) => entry(new Date(day.getTime() - i * DAY + 3_600_000), { actorPartner: 'politie', action: 'disclosure.break-glass' }));
    const overdue = entry(new Date(day.getTime() + 3_600_000), { actorPartner: null, actorSub: null, action: 'disclosure.overdue', detail: { request: 'R', requester: 'politie' } });
    await log(...glass, overdue);
    const kinds = (await signalsOf(null)).filter((x) => x.rule === 'SIG-NOODTOEGANG').map((x) => x.kind);
    expect(kinds.sort()).toEqual(['noodtoegang', 'toetsing-te-laat']);
  });

  it("a partner's FG sees the signals in its own scope only (decideAuditRead): its own organisation's professionals", async () => {
    const at = (i: number) => new Date(day.getTime() + 9 * 3_600_000 + i * MINUTE);
    const police = professional();
    await log(...Array.from({ length: s.sweep.distinctPersons }, (_, i) => police.entry(at(i), { actorPartner: 'politie', subject: `${police.sub}-P${i}` })));
    expect((await signalsOf(police.sub, period, { all: false, partner: 'politie', ownRegistrations: false })).map((x) => x.kind)).toContain('sweep');
    expect(await signalsOf(police.sub, period, { all: false, partner: 'gemeente', ownRegistrations: false })).toEqual([]);
  });
});
