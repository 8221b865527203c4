import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server';

describe('smoke', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(() => srv.stop());

  it('answers PING and SET/GET over RESP3 (ioredis 6) and RESP2', async () => {
    const r3 = srv.client();
    const r2 = srv.client({ protocol: 2 });
    expect(await r3.ping()).toBe('PONG');
    expect(await r3.set('k', 'v')).toBe('OK');
    expect(await r2.get('k')).toBe('v');
  });
});
