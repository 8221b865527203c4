// LATENCY LATEST / HISTORY / RESET / GRAPH / DOCTOR / HISTOGRAM / HELP, with Redis 7.0's replies, over the
// latency monitor and per-command histograms of src/node/latency.ts.

import type { Client } from '../client';
import type { Command, CommandDef } from '../command-table';
import { HIST_BUCKETS, type CommandHistogram, type LatencySeries } from '../latency';
import { CommandError } from '../errors';
import { str } from './args';

const LATENCY_HELP = [
  'LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DOCTOR',
  '    Return a human readable latency analysis report.',
  'GRAPH <event>',
  '    Return an ASCII latency graph for the <event> class.',
  'HISTORY <event>',
  '    Return time-latency samples for the <event> class.',
  'LATEST',
  '    Return the latest latency samples for all events.',
  'RESET [<event> ...]',
  '    Reset latency data of one or more <event> classes.',
  '    (default: reset all data for all event classes)',
  'HISTOGRAM [COMMAND ...]',
  '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
  'HELP',
  '    Prints this help.',
];

const sub = (name: string, arity: number, handler: CommandDef['handler']): CommandDef => ({
  name,
  arity,
  flags: ['admin', 'noscript', 'loading', 'stale'],
  group: 'server',
  handler,
});

function latest(c: Client): void {
  const events = c.server.latency.events;
  c.out.array(events.size);
  for (const [name, ts] of events) {
    const s = ts.latest();
    c.out.array(4).bulk(name).int(s.time).int(s.latency).int(ts.max);
  }
}

function history(c: Client, argv: Buffer[]): void {
  const ts = c.server.latency.events.get(str(argv[2]));
  const samples = ts?.history() ?? [];
  c.out.array(samples.length);
  for (const s of samples) c.out.array(2).int(s.time).int(s.latency);
}

// ----------------------------------------------------------------------------------------------- GRAPH

const GRAPH_COLS = 80;
const CHARSET_FILL = '_o#';

/** Redis's sparkline (sparkline.c, filled, linear scale): `rows` rows of bars, a blank row, then vertical labels. */
function sparkline(values: number[], labels: string[], rows: number): string {
  let out = '';
  const min = Math.min(...values);
  const max = Math.max(...values);
  for (let off = 0; off < values.length; off += GRAPH_COLS) {
    const len = Math.min(GRAPH_COLS, values.length - off);
    if (off !== 0) out += '\n';
    const relmax = max - min === 0 ? 1 : max - min;
    const steps = CHARSET_FILL.length * rows;
    for (let row = 0; ; row++) {
      let loop = false;
      const chars: string[] = new Array(len).fill(' ');
      for (let j = 0; j < len; j++) {
        const relval = values[off + j] - min;
        let step = Math.trunc(Math.trunc(relval * steps) / relmax);
        if (step < 0) step = 0;
        if (step >= steps) step = steps - 1;
        if (row < rows) {
          loop = true;
          const idx = step - (rows - row - 1) * CHARSET_FILL.length;
          if (idx >= 0 && idx < CHARSET_FILL.length) chars[j] = CHARSET_FILL[idx];
          else if (idx >= CHARSET_FILL.length) chars[j] = '|';
        } else {
          if (row - rows < 1) {
            // the blank row between the bars and the labels
            loop = true;
            break;
          }
          const label = labels[off + j];
          const at = row - rows - 1;
          if (label.length > at) {
            loop = true;
            chars[j] = label[at];
          }
        }
      }
      if (!loop) break;
      out += chars.join('') + '\n';
    }
  }
  return out;
}

function graph(c: Client, argv: Buffer[]): void {
  const event = str(argv[2]);
  const ts = c.server.latency.events.get(event);
  if (!ts) throw new CommandError(`ERR No samples available for event '${event}'`);
  const samples = ts.history();
  const now = Math.floor(Date.now() / 1000);
  const labels = samples.map((s) => {
    const e = now - s.time;
    return e < 60 ? `${e}s` : e < 3600 ? `${Math.floor(e / 60)}m` : e < 86400 ? `${Math.floor(e / 3600)}h` : `${Math.floor(e / 86400)}d`;
  });
  const values = samples.map((s) => s.latency);
  let text = `${event} - high ${Math.max(...values)} ms, low ${Math.min(...values)} ms (all time high ${ts.max} ms)\n`;
  text += '-'.repeat(GRAPH_COLS) + '\n';
  text += sparkline(values, labels, 4);
  c.out.verbatim(text);
}

// ----------------------------------------------------------------------------------------------- DOCTOR

/** Redis's per-event analysis: integer average and mean deviation, seconds between spikes over the kept history. */
function analyse(ts: LatencySeries): { samples: number; avg: number; mad: number; period: number } {
  const s = ts.history();
  if (s.length === 0) return { samples: 0, avg: 0, mad: 0, period: 0 };
  const avg = Math.floor(s.reduce((a, x) => a + x.latency, 0) / s.length);
  const mad = Math.floor(s.reduce((a, x) => a + Math.abs(avg - x.latency), 0) / s.length);
  const oldest = Math.min(...s.map((x) => x.time));
  const period = Math.max(1, Math.floor(Date.now() / 1000) - oldest);
  return { samples: s.length, avg, mad, period };
}

const ADVICE: Record<string, string> = {
  command: 'Check your Slow Log (SLOWLOG GET) to find the commands that are too slow to execute: O(N) commands on big values, KEYS, large MGET/MSET, DEBUG SLEEP.',
  'fast-command': 'Even O(1) commands were slow: the process was probably starved of CPU (a busy or overcommitted machine) or paused by garbage collection.',
  eventloop:
    'The event loop stalled outside of (or around) commands: garbage collection of a large heap, writing a huge reply, loading or snapshotting a big data set, or a slow command. Compare with the command events at the same times.',
};

function doctor(c: Client): void {
  const events = c.server.latency.events;
  let text: string;
  if (events.size === 0) {
    text =
      'Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. ' +
      'I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n';
  } else {
    text = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
    let i = 1;
    const advice = new Set<string>();
    for (const [name, ts] of events) {
      const a = analyse(ts);
      text +=
        `${i++}. ${name}: ${a.samples} latency spikes (average ${a.avg}ms, mean deviation ${a.mad}ms, ` +
        `period ${(a.period / a.samples).toFixed(2)} sec). Worst all time event ${ts.max}ms.\n`;
      advice.add(ADVICE[name] ?? `The '${name}' event was slow: check what the server was doing at those times in its log.`);
    }
    text += '\nI have a few advices for you:\n\n';
    const threshold = c.server.latency.threshold;
    const slowlogUs = c.server.config.getInt('slowlog-log-slower-than');
    if (slowlogUs < 0 || slowlogUs > threshold * 1000) {
      advice.add(
        `Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than ${threshold * 1000}'.`,
      );
    }
    for (const a of advice) text += `- ${a}\n`;
  }
  c.out.verbatim(text);
}

// ----------------------------------------------------------------------------------------------- HISTOGRAM

/** One command's cumulative distribution: {calls, histogram_usec: {bucket upper bound µs: calls at most that}}. */
function replyHistogram(c: Client, h: CommandHistogram): void {
  const points: [number, number][] = [];
  let cumulative = 0;
  for (let k = 0; k <= HIST_BUCKETS; k++) {
    if (h.buckets[k] === 0) continue;
    cumulative += h.buckets[k];
    points.push([2 ** k, cumulative]);
  }
  c.out.map(2).bulk('calls').int(h.count).bulk('histogram_usec').map(points.length);
  for (const [bound, n] of points) c.out.int(bound).int(n);
}

function histogram(c: Client, argv: Buffer[]): void {
  const hists = c.server.histograms.byCommand;
  let cmds: Command[];
  if (argv.length > 2) {
    cmds = [];
    for (const a of argv.slice(2)) {
      const [top, subName] = str(a).toLowerCase().split('|');
      const cmd = c.server.table.get(top);
      if (!cmd) continue;
      if (subName !== undefined) {
        const s = cmd.subcommands?.get(subName);
        if (s) cmds.push(s);
        continue;
      }
      cmds.push(cmd, ...(cmd.subcommands?.values() ?? []));
    }
  } else {
    cmds = [...hists.keys()];
  }
  const withData = cmds.filter((cmd) => (hists.get(cmd)?.count ?? 0) > 0);
  c.out.map(withData.length);
  for (const cmd of withData) {
    c.out.bulk(cmd.fullName);
    replyHistogram(c, hists.get(cmd)!);
  }
}

export const latencyCommands: CommandDef[] = [
  {
    name: 'latency',
    arity: -2,
    flags: [],
    group: 'server',
    subcommands: [
      sub('latest', 2, latest),
      sub('history', 3, history),
      sub('reset', -2, (c, argv) => void c.out.int(c.server.latency.reset(argv.slice(2).map(str)))),
      sub('graph', 3, graph),
      sub('doctor', 2, doctor),
      sub('histogram', -2, histogram),
      sub('help', 2, (c) => {
        c.out.array(LATENCY_HELP.length);
        for (const l of LATENCY_HELP) c.out.simple(l);
      }),
    ],
  },
];
