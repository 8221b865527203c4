// TLS, as Redis 7's tls-* parameters: the certificate files named in the config are read into Node's
// tls.SecureContextOptions, used by the TLS client listener (tls-port), the cluster bus (tls-cluster) and the
// outgoing links of a replica (tls-replication) and of the cluster bus. CONFIG SET of a tls-* file or option
// reloads them: listeners get the new context for new connections (tls.Server.setSecureContext), outgoing links
// use it from their next connect. Hostnames are not checked against the peer's certificate, as in Redis: a peer
// is trusted when its chain verifies against the configured CA.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as nodePath from 'node:path';
import * as tls from 'node:tls';
import type { Config } from './config';

/** Parameters whose change rebuilds the contexts */
const RELOAD_ON = new Set([
  'tls-cert-file',
  'tls-key-file',
  'tls-key-file-pass',
  'tls-client-cert-file',
  'tls-client-key-file',
  'tls-client-key-file-pass',
  'tls-ca-cert-file',
  'tls-ca-cert-dir',
  'tls-auth-clients',
  'tls-protocols',
  'tls-ciphers',
  'tls-ciphersuites',
  'tls-prefer-server-ciphers',
]);

const PROTOCOLS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/** Config validation of tls-protocols: words among TLSv1 … TLSv1.3 (any case), or empty for Redis's default. */
export function validateProtocols(v: string): string | null {
  for (const w of v.split(/\s+/).filter(Boolean)) {
    if (!PROTOCOLS.some((p) => p.toLowerCase() === w.toLowerCase())) return `Invalid tls-protocols specified: ${w}`;
  }
  return null;
}

export class TlsError extends Error {}

type Log = (level: 'notice' | 'warning', msg: string) => void;

export class TlsSetup {
  /** options of the server side (listeners), null until loaded */
  private serverOptions: tls.SecureContextOptions | null = null;
  /** context presented by outgoing links (replication, cluster bus) */
  private clientContext: tls.SecureContext | null = null;
  /** live listeners, with how each reads its client-certificate policy */
  private servers = new Map<tls.Server, () => string>();

  constructor(
    private config: Config,
    private log: Log,
  ) {}

  /** True when any part of the node speaks TLS (then the files must load at start-up). */
  get needed(): boolean {
    const c = this.config;
    return c.getInt('tls-port') > 0 || c.getBool('tls-replication') || c.getBool('tls-cluster');
  }

  /** Reads the files and builds the contexts; throws TlsError with what is wrong. */
  load(): void {
    const c = this.config;
    if (c.get('tls-cert-file') === '' || c.get('tls-key-file') === '') {
      throw new TlsError('Failed to configure TLS: tls-cert-file and tls-key-file must be specified');
    }
    const needCa = c.getBool('tls-cluster') || c.getBool('tls-replication') || c.get('tls-auth-clients') !== 'no';
    if (needCa && c.get('tls-ca-cert-file') === '' && c.get('tls-ca-cert-dir') === '') {
      // Redis's start-up check, same words
      throw new TlsError('Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!');
    }
    const common = this.commonOptions();
    const serverOptions: tls.SecureContextOptions = {
      ...common,
      cert: readFile(c.get('tls-cert-file'), 'tls-cert-file'),
      key: readFile(c.get('tls-key-file'), 'tls-key-file'),
      passphrase: c.get('tls-key-file-pass') || undefined,
    };
    const clientCert = c.get('tls-client-cert-file');
    const clientOptions: tls.SecureContextOptions =
      clientCert !== ''
        ? {
            ...common,
            cert: readFile(clientCert, 'tls-client-cert-file'),
            key: readFile(c.get('tls-client-key-file'), 'tls-client-key-file'),
            passphrase: c.get('tls-client-key-file-pass') || undefined,
          }
        : serverOptions;
    let clientContext: tls.SecureContext;
    try {
      // building both now reports a wrong passphrase or a key that does not match its certificate at once
      tls.createSecureContext(serverOptions);
      clientContext = tls.createSecureContext(clientOptions);
    } catch (e) {
      throw new TlsError(`Failed to configure TLS: ${(e as Error).message}`);
    }
    this.serverOptions = serverOptions;
    this.clientContext = clientContext;
  }

  /** Loads at start-up when needed, and reloads whenever a tls-* parameter changes. */
  start(): void {
    if (this.needed) this.load();
    const prev = this.config.onChange;
    this.config.onChange = (name, value) => {
      prev?.(name, value);
      if (!RELOAD_ON.has(name) && name !== 'tls-replication') return;
      if (!this.needed) return;
      try {
        this.load();
      } catch (e) {
        // the old context stays in use
        this.log('warning', `Unable to update TLS configuration: ${(e as Error).message}`);
        return;
      }
      for (const [srv, clientAuth] of this.servers) {
        srv.setSecureContext(this.serverOptions!);
        // the policy is read by the listener for each new connection
        const auth = clientAuth();
        const o = srv as unknown as { requestCert: boolean; rejectUnauthorized: boolean };
        o.requestCert = auth !== 'no';
        o.rejectUnauthorized = auth === 'yes';
      }
    };
  }

  /**
   * A TLS listener whose sockets reach `onSocket` once their handshake is done. `clientAuth` is
   * tls-auth-clients for client listeners; the cluster bus always asks for a certificate (as Redis).
   * Failed handshakes (a plain-TCP client, an untrusted certificate) are logged and the socket dropped.
   */
  createServer(onSocket: (s: tls.TLSSocket) => void, clientAuth: () => string): tls.Server {
    if (!this.serverOptions) this.load();
    const auth = clientAuth();
    const srv = tls.createServer({ ...this.serverOptions!, requestCert: auth !== 'no', rejectUnauthorized: auth === 'yes' }, (s) => {
      // tls-auth-clients optional: no certificate is fine, but one that does not verify is not
      if (!s.authorized && clientAuth() === 'optional' && Object.keys(s.getPeerCertificate() ?? {}).length > 0) {
        this.log('warning', `Error accepting a client connection: ${s.authorizationError} (addr=${s.remoteAddress}:${s.remotePort})`);
        s.destroy();
        return;
      }
      onSocket(s);
    });
    srv.on('tlsClientError', (e, s) => {
      // OpenSSL's reason alone ("peer did not return a certificate", "wrong version number"), on one line
      const why = (e as Error & { reason?: string }).reason ?? e.message.split('\n')[0];
      const addr = s.remoteAddress ? ` (addr=${s.remoteAddress}:${s.remotePort})` : '';
      this.log('warning', `Error accepting a client connection: ${why}${addr}`);
      s.destroy();
    });
    this.servers.set(srv, clientAuth);
    srv.on('close', () => this.servers.delete(srv));
    return srv;
  }

  /**
   * An outgoing connection, over TLS when `useTls`; `ready` is the event after which the link may talk
   * ('secureConnect' for TLS, 'connect' for TCP). The peer's chain is verified, its hostname is not.
   */
  dial(host: string, port: number, useTls: boolean): { socket: net.Socket; ready: 'connect' | 'secureConnect' } {
    if (!useTls) return { socket: net.connect({ host, port }), ready: 'connect' };
    if (!this.clientContext) {
      try {
        this.load();
      } catch (e) {
        // e.g. tls-replication turned on with CONFIG SET but no usable certificate: the link fails and retries
        const failed = new net.Socket();
        process.nextTick(() => failed.destroy(e as Error));
        return { socket: failed, ready: 'secureConnect' };
      }
    }
    const socket = tls.connect({
      host,
      port,
      secureContext: this.clientContext!,
      // SNI only takes host names
      servername: net.isIP(host) ? undefined : host,
      checkServerIdentity: () => undefined,
    });
    return { socket, ready: 'secureConnect' };
  }

  /** tls-protocols, tls-ciphers, tls-ciphersuites, tls-prefer-server-ciphers, the CA certificates. */
  private commonOptions(): tls.SecureContextOptions {
    const c = this.config;
    const o: tls.SecureContextOptions = {};
    const protocols = c
      .get('tls-protocols')
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => PROTOCOLS.findIndex((p) => p.toLowerCase() === w.toLowerCase()));
    // Node takes a range: from the lowest to the highest named (Redis's default is TLSv1.2 and TLSv1.3)
    o.minVersion = PROTOCOLS[protocols.length ? Math.min(...protocols) : 2];
    o.maxVersion = PROTOCOLS[protocols.length ? Math.max(...protocols) : 3];
    const ciphers = [c.get('tls-ciphers'), c.get('tls-ciphersuites')].filter(Boolean).join(':');
    if (ciphers) o.ciphers = ciphers;
    o.honorCipherOrder = c.getBool('tls-prefer-server-ciphers');
    const ca: Buffer[] = [];
    if (c.get('tls-ca-cert-file')) ca.push(readFile(c.get('tls-ca-cert-file'), 'tls-ca-cert-file'));
    const dir = c.get('tls-ca-cert-dir');
    if (dir) {
      // every PEM file of the folder (Redis hands it to OpenSSL, which wants c_rehash names; any name works here)
      let names: string[];
      try {
        names = fs.readdirSync(dir);
      } catch (e) {
        throw new TlsError(`Failed to load CA certificate(s) from tls-ca-cert-dir ${dir}: ${(e as Error).message}`);
      }
      for (const n of names.sort()) {
        const p = nodePath.join(dir, n);
        if (!fs.statSync(p).isFile()) continue;
        const pem = fs.readFileSync(p);
        if (pem.includes('-----BEGIN CERTIFICATE-----')) ca.push(pem);
      }
    }
    if (ca.length) o.ca = ca;
    return o;
  }
}

function readFile(path: string, param: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (e) {
    throw new TlsError(`Failed to load ${param} ${path}: ${(e as Error).message}`);
  }
}
