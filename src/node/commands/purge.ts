// `kenbaar purge`: apply the covenant's retention once, now (the hub also does this every hour).
import { purge } from '../../retention/purge';
import type { NodeSettings } from '../env';
import { type Cli } from './common';
import { loadHubConfig, withHubDatabase } from './hub-access';
import { EXIT_OK } from './exit';

export async function purgeCommand(cli: Cli): Promise<number> {
  const { settings, write } = cli;
  const { config } = await loadHubConfig(settings);
  const report = await withHubDatabase(settings, 'kenbaar purge', (database) => purge(database.db, config.covenant, new Date()));
  const r = config.covenant.retention;
  write(
    [
      `retention applied under covenant ${config.covenant.id} (${config.covenant.version})`,
      `  expired registrations ended      ${report.expired}`,
      `  archived registrations removed   ${report.removed} (ended more than ${r.archiveRetentionDays} days ago)`,
      `  their match notices removed      ${report.matchesRemoved}`,
      `  used token ids forgotten         ${report.tokenIdsForgotten}`,
      `  idempotency keys forgotten       ${report.idempotencyKeysForgotten}`,
      `  webhook deliveries forgotten     ${report.webhookDeliveriesForgotten}`,
      `  hand-overs expired (wiped)       ${report.handoversExpired}`,
      `  break-glass reviews now overdue  ${report.reviewsOverdue}`,
      '  (audit entries are never purged: the log is append-only; what was done is in it)',
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}
