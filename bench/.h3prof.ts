import { openDatabase } from '../src/node/database';
import { loadBenchCovenant } from './support';
import { computeSignals } from '../src/oversight/signals';
const d = await openDatabase({ url: 'postgres://postgres@127.0.0.1:5432/h3_signals', max: 2, timeouts: { statementMs: 0 } });
const cov = loadBenchCovenant();
const to = new Date('2026-10-31T00:00:00Z');
for (const days of [30]) { const t = performance.now(); const s = await computeSignals(d.db, cov.oversight, { from: new Date(to.getTime() - days * 86400000), to }, { all: true }); console.error('total', days, Math.round(performance.now() - t), s.length); }
await d.close(); process.exit(0);
