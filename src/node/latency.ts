// Latency monitoring, as Redis 7's latency.c: events (`command`, `fast-command`, `eventloop`, ...) that took at least
// `latency-monitor-threshold` ms are kept as 160 samples per event, at most one per second (a second sample in the
// same second keeps the larger latency). LATENCY LATEST / HISTORY / RESET / GRAPH / DOCTOR read them
// (src/node/commands/latency.ts). Beside it: per-command latency histograms (LATENCY HISTOGRAM, /metrics) and the
// event-loop watch that turns stalls outside any command (GC, a huge reply write, a big snapshot step) into
// `eventloop` samples.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Command } from './command-table';

export const LATENCY_TS_LEN = 160;

export interface LatencySample {
  /** unix time, seconds */
  time: number;
  /** milliseconds */
  latency: number;
}

export class LatencySeries {
  readonly samples: LatencySample[] = Array.from({ length: LATENCY_TS_LEN }, () => ({ time: 0, latency: 0 }));
  /** where the next sample goes */
  idx = 0;
  /** all-time maximum */
  max = 0;

  add(latency: number, now: number): void {
    const prev = this.samples[(this.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN];
    if (prev.time === now) {
      // one sample per second: the worst one
      if (latency > prev.latency) prev.latency = latency;
      if (latency > this.max) this.max = latency;
      return;
    }
    this.samples[this.idx] = { time: now, latency };
    this.idx = (this.idx + 1) % LATENCY_TS_LEN;
    if (latency > this.max) this.max = latency;
  }

  latest(): LatencySample {
    return this.samples[(this.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN];
  }

  /** the recorded samples, oldest first */
  history(): LatencySample[] {
    const out: LatencySample[] = [];
    for (let j = 0; j < LATENCY_TS_LEN; j++) {
      const s = this.samples[(this.idx + j) % LATENCY_TS_LEN];
      if (s.time !== 0) out.push(s);
    }
    return out;
  }
}

export class LatencyMonitor {
  /** threshold in ms (0: off); kept current by the server from latency-monitor-threshold */
  threshold = 0;
  readonly events = new Map<string, LatencySeries>();

  /** Records `ms` for `event` when monitoring is on and it reaches the threshold (Redis's latencyAddSampleIfNeeded). */
  addSampleIfNeeded(event: string, ms: number): void {
    // whole milliseconds, truncated, as Redis's duration/1000
    const whole = Math.floor(ms);
    if (this.threshold > 0 && whole >= this.threshold) this.addSample(event, whole);
  }

  addSample(event: string, ms: number): void {
    let ts = this.events.get(event);
    if (!ts) this.events.set(event, (ts = new LatencySeries()));
    ts.add(Math.floor(ms), Math.floor(Date.now() / 1000));
  }

  /** Forgets the named events (all when none is named); answers how many were reset. */
  reset(events: string[] = []): number {
    if (events.length === 0) {
      const n = this.events.size;
      this.events.clear();
      return n;
    }
    let n = 0;
    for (const e of events) if (this.events.delete(e)) n++;
    return n;
  }
}

/**
 * Per-command latency histograms with fixed power-of-two buckets: bucket k counts calls of at most 2^k µs
 * (k = 0 .. HIST_BUCKETS-1), the last slot those beyond. Recording is an index computation and three array
 * writes, cheap enough for every command.
 */
export const HIST_BUCKETS = 26; // 1 µs .. 2^25 µs (33.5 s)

export interface CommandHistogram {
  /** HIST_BUCKETS + 1 counts (not cumulative) */
  buckets: Float64Array;
  count: number;
  /** µs */
  sum: number;
}

export class CommandHistograms {
  readonly byCommand = new Map<Command, CommandHistogram>();

  record(cmd: Command, us: number): void {
    let h = this.byCommand.get(cmd);
    if (h === undefined) this.byCommand.set(cmd, (h = { buckets: new Float64Array(HIST_BUCKETS + 1), count: 0, sum: 0 }));
    const v = us > 0x7fffffff ? 0x7fffffff : us;
    const k = v <= 1 ? 0 : 32 - Math.clz32(v - 1);
    h.buckets[k < HIST_BUCKETS ? k : HIST_BUCKETS]++;
    h.count++;
    h.sum += us;
  }

  reset(): void {
    this.byCommand.clear();
  }
}

/**
 * Watches the event loop with perf_hooks' delay histogram (a libuv timer every 10 ms that records the time between
 * its runs; beyond 10 ms is how late it fired): once a second the worst delay of that second becomes an `eventloop` latency sample (when it reaches the
 * threshold) and the window's figures are kept for /metrics. Starts once someone needs it (metrics-port or a latency threshold).
 */
const RESOLUTION_MS = 10;

export class EventLoopWatch {
  private hist: IntervalHistogram | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** figures of the last complete window, in seconds */
  last = { max: 0, mean: 0, p50: 0, p99: 0 };
  /** worst delay seen since start (s) */
  allTimeMax = 0;

  constructor(
    private readonly monitor: LatencyMonitor,
    private readonly wanted: () => boolean,
  ) {}

  /**
   * Starts the watch once `wanted()`; called at start-up and when a parameter changes. It then runs until stop()
   * (close): its first 10 ms tick only starts the measure, so switching it on and off would blind it.
   */
  update(): void {
    if (this.wanted() && !this.hist) {
      this.hist = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      this.hist.enable();
      this.timer = setInterval(() => this.poll(), 1000);
      this.timer.unref();
    }
  }

  private poll(): void {
    const h = this.hist;
    if (!h) return;
    if (h.count > 0) {
      // the histogram holds the intervals between the timer's runs: what exceeds the resolution is the delay
      const late = (ns: number) => Math.max(0, ns - RESOLUTION_MS * 1e6) / 1e9;
      this.last = { max: late(h.max), mean: late(h.mean), p50: late(h.percentile(50)), p99: late(h.percentile(99)) };
      if (this.last.max > this.allTimeMax) this.allTimeMax = this.last.max;
      this.monitor.addSampleIfNeeded('eventloop', this.last.max * 1000);
    } else {
      this.last = { max: 0, mean: 0, p50: 0, p99: 0 };
    }
    h.reset();
  }

  stop(): void {
    this.hist?.disable();
    this.hist = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
