// Node edge: how busy this process's event loop is, for GET /metrics. The hub answers on one event
// loop per process, and under load that loop is what limits it (BENCHMARKS.md, issue 10): its
// utilisation nears 1, its delay grows, and requests wait. That is the sign to run `serve --workers
// N`, or to give the machine cores. Both figures cover the time since the previous scrape (the first
// scrape: since the server started).
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Gauge } from '../observe/metrics';

/** How often the delay is sampled, in milliseconds (a timer of its own). */
const RESOLUTION_MS = 10;

export type EventLoopGauges = { read: () => Gauge[]; stop: () => void };

export function eventLoopGauges(): EventLoopGauges {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  let since = performance.eventLoopUtilization();
  return {
    read: () => {
      const now = performance.eventLoopUtilization();
      const utilization = performance.eventLoopUtilization(now, since).utilization;
      since = now;
      // Nanoseconds in the histogram; nothing sampled yet reads as no delay.
      const seconds = (ns: number) => (delay.count > 0 ? ns / 1e9 : 0);
      const quantiles: [string, number][] = [
        ['0.5', seconds(delay.percentile(50))],
        ['0.99', seconds(delay.percentile(99))],
        ['1', seconds(delay.max)],
      ];
      delay.reset();
      const help = 'Event-loop delay of this process since the last scrape, by quantile (1: the longest).';
      return [
        { name: 'kenbaar_event_loop_utilization', help: 'Share of the time since the last scrape that this process\'s event loop was busy, 0 to 1.', value: utilization },
        ...quantiles.map(([quantile, value]) => ({ name: 'kenbaar_event_loop_delay_seconds', help, value, labels: { quantile } })),
      ];
    },
    stop: () => delay.disable(),
  };
}
