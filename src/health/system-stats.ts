import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { availableParallelism, loadavg } from 'node:os';
import { round2 } from '../round.js';
import type { SystemHealth } from '../schemas/health.js';

const RESOLUTION_MS = 10;
/** The histogram records whole timer intervals; the delay is what exceeds the interval. */
const delayMs = (ns: number) => Math.max(0, round2(ns / 1e6 - RESOLUTION_MS));

/** Process figures for a health sample; event-loop delay covers the time since the previous sample. */
export class SystemStats {
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

  constructor() {
    this.loop.enable();
  }

  sample(): SystemHealth {
    const memory = process.memoryUsage();
    // An empty histogram (no tick yet) reports NaN/huge sentinels; zeros say "no delay seen".
    const seen = this.loop.count > 0;
    const eventLoopDelay = {
      p50Ms: seen ? delayMs(this.loop.percentile(50)) : 0,
      p99Ms: seen ? delayMs(this.loop.percentile(99)) : 0,
      maxMs: seen ? delayMs(this.loop.max) : 0,
      meanMs: seen ? delayMs(this.loop.mean) : 0,
    };
    this.loop.reset();
    return {
      memory: {
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        heapTotalBytes: memory.heapTotal,
        externalBytes: memory.external,
      },
      loadAverage: loadavg().map(round2),
      cpus: availableParallelism(),
      eventLoopDelay,
    };
  }

  close(): void {
    this.loop.disable();
  }
}
