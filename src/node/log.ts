// Log lines: Redis's text form (`pid:R dd Mon yyyy hh:mm:ss.mmm * message`) or, with `log-format json`, one JSON
// object per line ({"ts","pid","role","level","msg"}) for log shippers. Written to stdout, or appended to
// `logfile` when set (opened for each line, as Redis does, so an external log rotation just works).

import * as fs from 'node:fs';
import type { Config } from './config';

export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning';

const LEVELS = ['debug', 'verbose', 'notice', 'warning', 'nothing'];
const MARKS: Record<LogLevel, string> = { debug: '.', verbose: '-', notice: '*', warning: '#' };
/** Redis's role letters in text lines */
const ROLE_CHARS: Record<string, string> = { master: 'M', replica: 'S', sentinel: 'X', child: 'C' };

export class Logger {
  /** `role`: 'master', 'replica' or 'sentinel', asked for each line (a node changes role at run time) */
  constructor(
    private readonly config: Config,
    private readonly role: () => string,
  ) {}

  enabled(level: LogLevel): boolean {
    return LEVELS.indexOf(level) >= LEVELS.indexOf(this.config.get('loglevel'));
  }

  log(level: LogLevel, msg: string): void {
    if (!this.enabled(level)) return;
    const d = new Date();
    let role: string;
    try {
      role = this.role();
    } catch {
      role = 'master'; // asked before the server is fully built
    }
    let line: string;
    if (this.config.get('log-format') === 'json') {
      line = JSON.stringify({ ts: d.toISOString(), pid: process.pid, role, level, msg }) + '\n';
    } else {
      const ts = d.toUTCString().slice(5, 25) + '.' + String(d.getMilliseconds()).padStart(3, '0');
      line = `${process.pid}:${ROLE_CHARS[role] ?? 'M'} ${ts} ${MARKS[level]} ${msg}\n`;
    }
    const file = this.config.get('logfile');
    if (file === '') {
      process.stdout.write(line);
      return;
    }
    try {
      fs.appendFileSync(file, line);
    } catch {
      process.stdout.write(line); // an unwritable log file must not take the server down
    }
  }
}
