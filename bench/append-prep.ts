// CPU per audit entry of what appendAudit does before the database (prepareAppend,
// src/audit/store.ts): the rows' JSON parameter, and each entry's leaf hash for its receipt. 10,000
// registration-like entries.
// Usage: npx tsx bench/append-prep.ts [rounds=5]
import { prepareAppend } from '../src/audit/store';

const N = 10_000;
const ctx = { at: new Date(), requestId: 'req-1', actor: { partner: 'politie', sub: 'politie-system', role: 'partner-system' }, covenantVersion: '2026.1' };
const inputs = Array.from({ length: N }, (_, i) => ({
  action: 'registration.create' as const,
  subject: `c3ViamVjdC0${i}`.padEnd(43, 'x'),
  caseRef: `REF-${i}`,
  outcome: 'allowed' as const,
  rule: 'R-POL-01',
  detail: { registrationId: crypto.randomUUID(), category: 'veiligheid', expiresAt: '2027-12-03T00:00:00.000Z' },
}));
const rounds = Number(process.argv[2] ?? 5);
const perEntry: number[] = [];
for (let r = 0; r < rounds; r++) {
  const t0 = process.cpuUsage();
  prepareAppend(ctx, inputs);
  const d = process.cpuUsage(t0);
  perEntry.push((d.user + d.system) / N);
}
perEntry.sort((a, b) => a - b);
console.log(`append preparation: median ${perEntry[Math.floor(rounds / 2)]!.toFixed(2)} µs CPU per entry (${rounds} rounds of ${N}; all: ${perEntry.map((x) => x.toFixed(2)).join(', ')})`);
