// `inferdb --check-aof [--fix] <manifest | file.aof | file.rdb>`: checks an AOF (multi-part, through its manifest,
// or a single log or snapshot file) as redis-check-aof does, and with --fix cuts the last incr file back to its
// last complete record (a truncated tail, or everything from the first corrupt record on). Only the last file of
// a multi-part AOF can be fixed: a bad base or middle file stays an error.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { parseManifest } from './aof';
import { checksumAnnotation, parseLog } from './resp-log';
import { PersistenceError, isSnapshot, verifySnapshot } from './snapshot';

type Print = (line: string) => void;

interface FileCheck {
  ok: boolean;
  /** bytes that form complete, valid records */
  okUpTo: number;
  size: number;
  reason?: string;
  /** where the records no checksum line covers begin */
  tailStart: number;
  buf: Buffer;
}

function checkFile(path: string): FileCheck {
  const buf = fs.readFileSync(path);
  if (isSnapshot(buf)) {
    try {
      verifySnapshot(buf, path);
      return { ok: true, okUpTo: buf.length, size: buf.length, tailStart: buf.length, buf };
    } catch (e) {
      return { ok: false, okUpTo: 0, size: buf.length, reason: (e as Error).message, tailStart: 0, buf };
    }
  }
  const r = parseLog(buf, () => {});
  if (r.kind === 'ok') return { ok: true, okUpTo: buf.length, size: buf.length, tailStart: r.tailStart, buf };
  if (r.kind === 'truncated') return { ok: false, okUpTo: r.validEnd, size: buf.length, reason: 'truncated last record', tailStart: r.tailStart, buf };
  return { ok: false, okUpTo: r.validEnd, size: buf.length, reason: r.reason, tailStart: r.tailStart, buf };
}

/** Runs the check; answers the process exit code. */
export function checkAof(args: string[], print: Print = (l) => process.stdout.write(l + '\n')): number {
  const fix = args.includes('--fix');
  const files = args.filter((a) => a !== '--fix');
  if (files.length !== 1) {
    print('Usage: inferdb --check-aof [--fix] <file.manifest|file.aof|file.rdb>');
    return 1;
  }
  const target = nodePath.resolve(files[0]);
  if (!fs.existsSync(target)) {
    print(`Cannot open file: ${target}`);
    return 1;
  }
  let list: { path: string; type: 'b' | 'i' }[];
  if (target.endsWith('.manifest')) {
    print('Start checking Multi Part AOF');
    try {
      const m = parseManifest(fs.readFileSync(target, 'latin1'), target);
      const dir = nodePath.dirname(target);
      list = [...(m.base ? [{ path: nodePath.join(dir, m.base.name), type: 'b' as const }] : []), ...m.incrs.map((f) => ({ path: nodePath.join(dir, f.name), type: 'i' as const }))];
    } catch (e) {
      print((e as PersistenceError).message);
      return 1;
    }
  } else {
    list = [{ path: target, type: 'i' }];
  }
  let allOk = true;
  for (let i = 0; i < list.length; i++) {
    const { path, type } = list[i];
    const name = nodePath.basename(path);
    const isLast = i === list.length - 1;
    print(`Start to check ${type === 'b' ? 'BASE' : 'INCR'} AOF ${name}`);
    if (!fs.existsSync(path)) {
      print(`AOF ${name} does not exist`);
      return 1;
    }
    const r = checkFile(path);
    print(`AOF analyzed: filename=${name}, size=${r.size}, ok_up_to=${r.okUpTo}, diff=${r.size - r.okUpTo}`);
    if (r.ok) {
      print(`${type === 'b' ? 'BASE' : 'INCR'} AOF ${name} is valid`);
      continue;
    }
    print(`AOF ${name} is not valid (${r.reason}).`);
    if (!fix) {
      print(`Use the --fix option to try fixing it.`);
      allOk = false;
      continue;
    }
    if (!isLast || type === 'b') {
      print(`Only the last AOF file can be fixed: ${name} is not it. Fixing it would lose the commands of the files after it.`);
      return 1;
    }
    fs.truncateSync(path, r.okUpTo);
    const fd = fs.openSync(path, 'r+');
    // the kept records after the last checksum line get one, so what is appended next is checked on its own
    if (r.okUpTo > r.tailStart) fs.writeSync(fd, checksumAnnotation([r.buf.subarray(r.tailStart, r.okUpTo)]), 0, undefined, r.okUpTo);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    print(`Successfully truncated AOF ${name} to ${r.okUpTo} bytes (${r.size - r.okUpTo} bytes dropped)`);
  }
  if (!allOk) return 1;
  print(list.length > 1 || target.endsWith('.manifest') ? 'All AOF files and manifest are valid' : 'AOF is valid');
  return 0;
}
