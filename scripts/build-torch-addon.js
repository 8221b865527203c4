#!/usr/bin/env node
// Builds the TORCH backend addon (native/torch -> native/torch/build/Release/inferdb_torch.node) when
// Debian's libtorch-dev is installed (/usr/include/torch). Run by `npm install` (the package's "install"
// script). It never fails the install: without libtorch, or when the build fails, the server still builds and
// runs and TORCH answers `ERR Could not load backend`. Node's own headers are used (--nodedir), never downloaded.

'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dir = path.join(root, 'native', 'torch');
const TORCH_HEADERS = process.env.INFERDB_TORCH_INCLUDE || '/usr/include/torch';

function log(msg) {
  process.stdout.write(`[torch addon] ${msg}\n`);
}

function nodeGyp() {
  // npm passes its bundled node-gyp to scripts; otherwise look for it next to npm or in node_modules
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not installed locally */
  }
  return candidates.find((p) => p && fs.existsSync(p));
}

function nodeDir() {
  // the folder holding include/node/node_api.h for this Node (Debian: /usr)
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  for (const d of [process.env.npm_config_nodedir, prefix, '/usr']) {
    if (d && fs.existsSync(path.join(d, 'include', 'node', 'node_api.h'))) return d;
  }
  return undefined;
}

function main() {
  if (!fs.existsSync(TORCH_HEADERS)) {
    log(`skipped: ${TORCH_HEADERS} not found (apt-get install libtorch-dev libopenblas0-openmp to enable TORCH)`);
    return;
  }
  const gyp = nodeGyp();
  const nd = nodeDir();
  if (!gyp || !nd) {
    log(`skipped: ${!gyp ? 'node-gyp' : 'the Node headers (include/node)'} not found`);
    return;
  }
  log('building native/torch (libtorch found)...');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nd}`, '--jobs=2'], { cwd: dir, stdio: 'inherit' });
  if (r.status === 0) log(`built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  else log('build FAILED: TORCH will answer "ERR Could not load backend" (see the compiler output above)');
}

try {
  main();
} catch (e) {
  log(`skipped: ${e && e.message}`);
}
process.exit(0);
