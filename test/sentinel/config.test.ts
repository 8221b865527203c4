// The sentinel config file: Redis Sentinel's statements, errors with the line, and a rewrite that keeps the
// other lines and reads back to the same state.

import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSentinelFile, rewriteSentinelFile, SentinelConfigError } from '../../src/sentinel/config';
import { tempDir } from './helpers';

const dir = tempDir('inferdb-sentinel-conf-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('sentinel config file', () => {
  it('parses the monitor statements and the saved state', () => {
    const f = parseSentinelFile(
      [
        '# comment',
        'port 26380',
        'sentinel monitor mymaster 127.0.0.1 7000 2',
        'sentinel down-after-milliseconds mymaster 1000',
        'sentinel failover-timeout mymaster 3000',
        'sentinel parallel-syncs mymaster 2',
        'sentinel auth-pass mymaster "p w"',
        'sentinel config-epoch mymaster 3',
        'sentinel leader-epoch mymaster 4',
        'sentinel known-replica mymaster 127.0.0.1 7001',
        'sentinel known-slave mymaster 127.0.0.1 7002',
        `sentinel known-sentinel mymaster 127.0.0.1 26381 ${'a'.repeat(40)}`,
        `sentinel myid ${'b'.repeat(40)}`,
        'sentinel current-epoch 4',
        'sentinel deny-scripts-reconfig yes',
      ].join('\n'),
    );
    expect(f.options).toEqual([['port', '26380']]);
    expect(f.myid).toBe('b'.repeat(40));
    expect(f.currentEpoch).toBe(4);
    expect(f.masters).toHaveLength(1);
    const m = f.masters[0];
    expect([m.name, m.ip, m.port, m.quorum, m.downAfterMs, m.failoverTimeoutMs, m.parallelSyncs, m.authPass, m.configEpoch, m.leaderEpoch]).toEqual([
      'mymaster',
      '127.0.0.1',
      7000,
      2,
      1000,
      3000,
      2,
      'p w',
      3,
      4,
    ]);
    expect(m.knownReplicas).toEqual([
      ['127.0.0.1', 7001],
      ['127.0.0.1', 7002],
    ]);
    expect(m.knownSentinels).toEqual([['127.0.0.1', 26381, 'a'.repeat(40)]]);
  });

  it('refuses bad statements, naming the line', () => {
    expect(() => parseSentinelFile('sentinel down-after-milliseconds nope 1000')).toThrow(SentinelConfigError);
    expect(() => parseSentinelFile('sentinel down-after-milliseconds nope 1000')).toThrow(/line 1: .*\nNo such master with specified name\./);
    expect(() => parseSentinelFile('sentinel monitor m 127.0.0.1 7000 0')).toThrow(/Quorum must be 1 or greater/);
    expect(() => parseSentinelFile('sentinel monitor m 127.0.0.1 7000 1\nsentinel monitor m 127.0.0.1 7001 1')).toThrow(/line 2: .*\nDuplicated master name/);
    expect(() => parseSentinelFile('sentinel frobnicate 1')).toThrow(/Unrecognized sentinel configuration statement/);
    expect(() => parseSentinelFile('sentinel myid 123')).toThrow(/Malformed Sentinel id/);
  });

  it('rewrites the sentinel lines, keeps the others, and reads back the same state', () => {
    const file = path.join(dir, 's.conf');
    fs.writeFileSync(file, '# my sentinel\nport 26380\nsentinel monitor old 127.0.0.1 1 1\nbind 127.0.0.1\n');
    const before = parseSentinelFile(fs.readFileSync(file, 'utf8'));
    const m = before.masters[0];
    m.name = 'mymaster';
    m.port = 7002;
    m.authPass = 'p"w';
    m.knownReplicas = [['127.0.0.1', 7000]];
    rewriteSentinelFile(file, { myid: 'c'.repeat(40), currentEpoch: 7, masters: [m] });
    const text = fs.readFileSync(file, 'utf8');
    expect(text.startsWith('# my sentinel\nport 26380\nbind 127.0.0.1\n')).toBe(true);
    expect(text).not.toContain('sentinel monitor old');
    const after = parseSentinelFile(text);
    expect(after.myid).toBe('c'.repeat(40));
    expect(after.currentEpoch).toBe(7);
    expect(after.masters).toEqual([m]);
    // a second rewrite does not pile up headers or blank lines
    rewriteSentinelFile(file, { myid: 'c'.repeat(40), currentEpoch: 7, masters: [m] });
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });
});
