// Test certificates (EC P-256 keys, quick to make) made with the openssl CLI: a CA, a server certificate for 127.0.0.1 / localhost and a
// client certificate signed by it, and a second CA (with its own client certificate) nobody trusts.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestCerts {
  dir: string;
  /** paths */
  ca: string;
  serverCert: string;
  serverKey: string;
  /** the server key encrypted with the passphrase `secret` (tls-key-file-pass) */
  serverKeyEncrypted: string;
  clientCert: string;
  clientKey: string;
  otherCa: string;
  otherClientCert: string;
  otherClientKey: string;
  /** a server certificate (127.0.0.1 / localhost) from the other CA, for reload tests */
  otherServerCert: string;
  otherServerKey: string;
  /** file contents, for ioredis / node:tls */
  read: (p: string) => Buffer;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
}

/** A certificate signed by CA `ca`; `san` like "IP:127.0.0.1,DNS:localhost" (empty for a client). */
function makeCert(dir: string, ca: string, name: string, san: string, usage: string): void {
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  const ext = [`extendedKeyUsage=${usage}`, san ? `subjectAltName=${san}` : ''].filter(Boolean).join('\n');
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext + '\n');
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
}

export function makeTestCerts(): TestCerts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-certs-'));
  makeCa(dir, 'ca');
  // server certs also serve as client certs on the cluster bus and replication links (as Redis's tls-cert-file)
  makeCert(dir, 'ca', 'server', 'IP:127.0.0.1,DNS:localhost', 'serverAuth,clientAuth');
  makeCert(dir, 'ca', 'client', '', 'clientAuth');
  openssl(dir, 'pkey', '-in', 'server.key', '-aes256', '-passout', 'pass:secret', '-out', 'server-enc.key');
  makeCa(dir, 'other-ca');
  makeCert(dir, 'other-ca', 'other-client', '', 'clientAuth');
  makeCert(dir, 'other-ca', 'other-server', 'IP:127.0.0.1,DNS:localhost', 'serverAuth,clientAuth');
  const p = (n: string) => path.join(dir, n);
  return {
    dir,
    ca: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    serverKeyEncrypted: p('server-enc.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    otherCa: p('other-ca.crt'),
    otherClientCert: p('other-client.crt'),
    otherClientKey: p('other-client.key'),
    otherServerCert: p('other-server.crt'),
    otherServerKey: p('other-server.key'),
    read: (f) => fs.readFileSync(f),
  };
}
